package batch

import (
	"testing"

	"github.com/autocallvn/autocall-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// A row with a blank template value (due_amount=) is refused and recorded,
// nothing is sent for it, and the rest of the batch goes on; keys typed in
// NFD match the template's.
func TestBlankTemplateValueRefusesTheRow(t *testing.T) {
	srv, tel, _ := sandbox(t)
	tmpl := &autocall.Template{Name: "nhac_no", Content: norm.NFD.String("Chào {{tên}}, nợ {{số_tiền}}")}
	require.NoError(t, tel.TTS.ImportTemplate(ctx, "1", tmpl))
	j, _ := openTemp(t)
	job := func(key string, i int, withTemplate bool, params map[string]string) Job {
		req := &autocall.TTSRequest{Caller: "02873001234", Callees: []string{phone(i)}, TemplateName: "nhac_no", Params: params}
		if withTemplate {
			req.Template = tmpl
		}
		return Job{Key: key, Op: TTS("1", req)}
	}
	jobs := []Job{
		job("blank-checked", 1, true, map[string]string{"tên": "A", "số_tiền": ""}),
		job("blank-unchecked", 2, false, map[string]string{"tên": "A", "số_tiền": " "}),
		job("nfd-keys", 3, true, map[string]string{norm.NFD.String("tên"): "A", norm.NFD.String("số_tiền"): "500.000"}),
		job("nfc-keys", 4, false, map[string]string{"tên": "B", "số_tiền": "#500"}),
	}
	rep, err := (&Runner{TEL4VN: tel, Journal: j}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Refused)
	assert.Equal(t, 2, rep.Placed)
	assertAddsUp(t, rep)
	for _, key := range []string{"blank-checked", "blank-unchecked"} {
		rec, _, _ := j.Get(ctx, key)
		assert.Equal(t, Refused, rec.State, key)
		assert.Contains(t, rec.Reason, "Params.số_tiền", key)
		assert.Contains(t, rec.Reason, "empty", key)
	}
	assert.Len(t, srv.Calls(), 2, "nothing sent for a blank value; NFD keys not refused as Missing TTS Key")
}
