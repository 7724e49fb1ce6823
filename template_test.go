package autocall

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// A blank value would leave a silence where the amount should be: refused
// by Render, Preview and TTS.Run alike, before anything is sent.
func TestTemplateRefusesEmptyValue(t *testing.T) {
	for _, blank := range []string{"", " ", "\u00a0", "\t"} {
		params := map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": blank, "due_date": "30/01/2021"}
		for name, do := range map[string]func() (string, error){
			"Render":  func() (string, error) { return docTemplate.Render(params) },
			"Preview": func() (string, error) { return docTemplate.Preview(params) },
		} {
			_, err := do()
			var ve *ValidationError
			require.ErrorAs(t, err, &ve, "%s %q", name, blank)
			assert.Equal(t, "Params.due_amount", ve.Field)
			assert.Contains(t, ve.Reason, "empty")
			assert.True(t, errors.Is(err, ErrValidation))
		}
	}

	f := tel4vnAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	for _, req := range []*TTSRequest{
		{Caller: "1234567890", Callees: []string{"0987654321"}, Template: &docTemplate,
			Params: map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": "", "due_date": "30/01/2021"}},
		// With only the template's name there is nothing to check the keys
		// against, but a blank value is still a silence.
		{Caller: "1234567890", Callees: []string{"0987654321"}, TemplateName: docTemplate.Name,
			Params: map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": " ", "due_date": "30/01/2021"}},
	} {
		_, err := c.TTS.Run(bg(), "1", req)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "Params.due_amount", ve.Field)
	}
	assert.Zero(t, f.count(runPath), "nothing sent")
	assert.Zero(t, f.tokens.Load())
}

// Placeholder keys are compared and sent in NFC, however they were typed.
func TestTemplateKeysNFC(t *testing.T) {
	const key = "tên" // NFC
	nfdKey := norm.NFD.String(key)
	require.NotEqual(t, key, nfdKey)

	for _, tc := range []struct{ content, key string }{
		{"Chào {{" + key + "}}", nfdKey},
		{norm.NFD.String("Chào {{" + key + "}}"), key},
		{norm.NFD.String("Chào {{" + key + "}}"), nfdKey},
	} {
		tmpl := Template{Name: "t", Content: tc.content}
		assert.Equal(t, []string{key}, tmpl.Placeholders())
		got, err := tmpl.Render(map[string]string{tc.key: "Nguyễn Văn A"})
		require.NoError(t, err, "content %+q, key %+q", tc.content, tc.key)
		assert.Equal(t, "Chào Nguyễn Văn A", got)
	}

	// The same key typed both ways would be one key on the wire.
	_, err := Template{Name: "t", Content: "Chào {{" + key + "}}"}.Render(map[string]string{key: "A", nfdKey: "B"})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Params."+key, ve.Field)
	assert.NotContains(t, ve.Reason, "has no {{")

	f := tel4vnAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	nfdTmpl := Template{Name: "t", Content: norm.NFD.String("Chào {{" + key + "}}")}
	for _, req := range []*TTSRequest{
		{Caller: "1234567890", Callees: []string{"0987654321"}, Template: &nfdTmpl, Params: map[string]string{key: "A"}},
		{Caller: "1234567890", Callees: []string{"0987654321"}, TemplateName: "t", Params: map[string]string{nfdKey: "A"}},
	} {
		_, err := c.TTS.Run(bg(), "1", req)
		require.NoError(t, err)
		params := jsonMap(t, f.last(runPath).Body)["params"].(map[string]any)
		assert.Equal(t, map[string]any{key: "A", "template_name": "t"}, params)
	}
	_, err = c.TTS.Run(bg(), "1", &TTSRequest{Caller: "1234567890", Callees: []string{"0987654321"}, TemplateName: "t",
		Params: map[string]string{key: "A", nfdKey: "B"}})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, 2, f.count(runPath))
}
