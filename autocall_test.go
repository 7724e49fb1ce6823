package autocall

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

const (
	byPhonePath = "/api/auto_call/execute_by_phone"
	byExtPath   = "/api/auto_call/execute_by_extension"
)

// omicallAPI answers both auto-call endpoints with the document's examples.
func omicallAPI(t *testing.T) *fakeAPI {
	f := newFakeAPI(t)
	byPhone := readTestdata(t, "omicall/execute_by_phone_response.json")
	byExt := readTestdata(t, "omicall/execute_by_extension_response.json")
	f.handle("POST "+byPhonePath, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, string(byPhone)) })
	f.handle("POST "+byExtPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, string(byExt)) })
	return f
}

// omicallDefaults are the values the document gives absent fields: a body
// without them means the same to the provider as a body with them.
var omicallDefaults = map[string]any{"speed": 0.0, "num_retry": 0.0, "num_per_call": 15.0, "distance_per_call": 30.0, "distance_retry": 0.0}

func withDefaults(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range omicallDefaults {
		out[k] = v
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestDialplanGoldens(t *testing.T) {
	cases := []struct {
		file string
		plan *Dialplan
	}{
		{"omicall/request_recording.json", NewDialplan().Recording("5ed0c6dffb7b390007e5211")},
		{"omicall/request_tts.json", NewDialplan().Text("Đơn hàng của bạn là").Text("HHKKK").Text("Tổng giá trị").Text("90000")},
		{"omicall/request_recording_tts.json", NewDialplan().Text("Đơn hàng của bạn là").Text("HHKKK").Text("Tổng giá trị").Text("90000").Recording("5e9eac95e44159000710f0xxx")},
		{"omicall/request_ivr_menu.json", NewDialplan().IVRMenu("5e9eac95e44159000710f0xxx")},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			want := looseJSON(t, readTestdata(t, tc.file))
			f := omicallAPI(t)
			c := newTestClient(t, f.URL, WithAPIKey(testAPIKey))
			sess, err := c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{
				Name: want["name"].(string), Dialplan: tc.plan, Phones: []string{"0987654321"},
			})
			require.NoError(t, err)
			assert.Equal(t, "91d3e842-9da2-43ec-8bb1-979c17e817ad", sess.ID)
			assert.Equal(t, "Chiến dịch giới thiệu sản phẩm mới", sess.Name)

			got := jsonMap(t, f.last(byPhonePath).Body)
			assert.Equal(t, []any{"0987654321"}, got["phone_number_list"])
			delete(got, "phone_number_list") // required, but the examples leave it out
			assert.Equal(t, withDefaults(want), withDefaults(got))
			_, hasSpeed := got["speed"]
			assert.False(t, hasSpeed, "zero fields are left to the provider's defaults")
		})
	}
}

func TestExecuteByPhoneWire(t *testing.T) {
	f := omicallAPI(t)
	c := newTestClient(t, f.URL, WithAPIKey(testAPIKey))
	_, err := c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{
		Name:            "Chiến dịch giới thiệu sản phẩm mới",
		Voice:           VoiceBanMai,
		Speed:           -2,
		CID:             "+84 28 7300 1234",
		Dialplan:        NewDialplan().Text("Đơn hàng của bạn là").Text("CKHDKD00203").Recording("5ed0c6dffb7b390007e5211"),
		Phones:          []string{"0987654321", "+84 912 345 678", "(028) 3821 2345"},
		NumRetry:        1,
		NumPerCall:      15,
		DistancePerCall: 30 * time.Second,
		DistanceRetry:   5 * time.Minute,
	})
	require.NoError(t, err)
	rec := f.last(byPhonePath)
	assert.Equal(t, "Bearer "+testToken, rec.Auth)
	assert.JSONEq(t, `{
		"name": "Chiến dịch giới thiệu sản phẩm mới", "voice": "banmai", "speed": -2, "cid": "02873001234",
		"template_dialplans": [{"target_type": "Text_variable"}, {"target_type": "Text_variable"},
			{"target_type": "Recording", "target": "5ed0c6dffb7b390007e5211"}],
		"variables": ["Đơn hàng của bạn là", "CKHDKD00203"],
		"phone_number_list": ["0987654321", "0912345678", "02838212345"],
		"num_retry": 1, "num_per_call": 15, "distance_per_call": 30, "distance_retry": 300}`, string(rec.Body))
}

func TestDialplanCounts(t *testing.T) {
	var none *Dialplan
	assert.Zero(t, none.Len())
	assert.Zero(t, none.TextChars(), "a nil Dialplan counts nothing, and does not panic")
	plan := NewDialplan().Text(norm.NFD.String("Nguyễn")).Recording("r").Text("ab")
	assert.Equal(t, 3, plan.Len())
	assert.Equal(t, 8, plan.TextChars())
}

func TestExecuteByExtension(t *testing.T) {
	f := omicallAPI(t)
	c := newTestClient(t, f.URL, WithAPIKey(testAPIKey))
	sess, err := c.AutoCall.ExecuteByExtension(bg(), &ExtensionCallRequest{
		Extensions: []string{"101"}, CID: "02873001234", BrandName: "SHOP",
		Dialplan: NewDialplan().Text("Có đơn hàng mới"),
	})
	require.NoError(t, err)
	assert.Equal(t, &AutoCallSession{ID: "64b8117691447377aecac985", CallUUIDs: []string{"f5d39f30-fef7-49df-9ef6-697bf5353983"}}, sess)
	assert.JSONEq(t, `{"cid":"02873001234","brand_name":"SHOP","extensions":["101"],
		"template_dialplans":[{"target_type":"Text_variable"}],"variables":["Có đơn hàng mới"]}`, string(f.last(byExtPath).Body))
}

// nfd300 is 300 characters of Vietnamese in NFD: more bytes and more code
// points than its NFC form, which has exactly 300 characters.
func nfdText(chars int) string {
	word := "Nguyễn Văn Ánh " // 15 characters in NFC
	s := strings.Repeat(word, chars/15) + strings.Repeat("a", chars%15)
	return norm.NFD.String(s)
}

func TestSessionTextLimitCountsCharactersAfterNFC(t *testing.T) {
	f := omicallAPI(t)
	c := newTestClient(t, f.URL, WithAPIKey(testAPIKey))
	at := nfdText(MaxSessionChars)
	require.Greater(t, len([]rune(at)), MaxSessionChars, "the NFD form has more code points")
	require.Equal(t, MaxSessionChars, charCount(at))

	_, err := c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Dialplan: NewDialplan().Text(at), Phones: []string{"0987654321"}})
	require.NoError(t, err, "300 characters typed in NFD are 300 characters")
	vars := jsonMap(t, f.last(byPhonePath).Body)["variables"].([]any)
	assert.Equal(t, norm.NFC.String(at), vars[0], "text is sent NFC-normalised")
	assert.True(t, norm.NFC.IsNormalString(vars[0].(string)))

	// Spread over steps, one character over.
	plan := NewDialplan().Text(nfdText(200)).Recording("r1").Text(nfdText(101))
	_, err = c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Dialplan: plan, Phones: []string{"0987654321"}})
	require.ErrorIs(t, err, ErrLimitWordSession)
	require.ErrorIs(t, err, ErrValidation)
	assert.Equal(t, 1, f.count(byPhonePath), "the long one was not sent")
}

func TestAutoCallValidationSendsNothing(t *testing.T) {
	plan := func() *Dialplan { return NewDialplan().Text("Xin chào") }
	ok := func() *PhoneCallRequest {
		return &PhoneCallRequest{Dialplan: plan(), Phones: []string{"0987654321"}}
	}
	cases := []struct {
		name   string
		mutate func(r *PhoneCallRequest)
		field  string
		phone  bool
	}{
		{"no phones", func(r *PhoneCallRequest) { r.Phones = nil }, "Phones", false},
		{"empty phone", func(r *PhoneCallRequest) { r.Phones = []string{""} }, "Phones[0]", true},
		{"bad phone", func(r *PhoneCallRequest) { r.Phones = []string{"1234567890"} }, "Phones[0]", true},
		{"old prefix", func(r *PhoneCallRequest) { r.Phones = []string{"01689123456"} }, "Phones[0]", true},
		{"speed 4", func(r *PhoneCallRequest) { r.Speed = 4 }, "Speed", false},
		{"speed -4", func(r *PhoneCallRequest) { r.Speed = -4 }, "Speed", false},
		{"half second", func(r *PhoneCallRequest) { r.DistancePerCall = 1500 * time.Millisecond }, "DistancePerCall", false},
		{"negative retry distance", func(r *PhoneCallRequest) { r.DistanceRetry = -time.Second }, "DistanceRetry", false},
		{"negative retries", func(r *PhoneCallRequest) { r.NumRetry = -1 }, "NumRetry", false},
		{"negative per call", func(r *PhoneCallRequest) { r.NumPerCall = -1 }, "NumPerCall", false},
		{"nil dialplan", func(r *PhoneCallRequest) { r.Dialplan = nil }, "Dialplan", false},
		{"empty dialplan", func(r *PhoneCallRequest) { r.Dialplan = NewDialplan() }, "Dialplan", false},
		{"empty recording id", func(r *PhoneCallRequest) { r.Dialplan = plan().Recording("") }, "Dialplan[1]", false},
		{"empty IVR id", func(r *PhoneCallRequest) { r.Dialplan = NewDialplan().IVRMenu(" ") }, "Dialplan[0]", false},
		{"empty text", func(r *PhoneCallRequest) { r.Dialplan = NewDialplan().Text("") }, "Dialplan[0]", false},
		{"bad CID", func(r *PhoneCallRequest) { r.CID = "hotline" }, "CID", false},
	}
	f := omicallAPI(t)
	c := newTestClient(t, f.URL, WithAPIKey(testAPIKey))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ok()
			tc.mutate(r)
			_, err := c.AutoCall.ExecuteByPhone(bg(), r)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field)
			assert.ErrorIs(t, err, ErrValidation)
			assert.Equal(t, tc.phone, errorsIs(err, ErrInvalidPhone))
		})
	}
	_, err := c.AutoCall.ExecuteByPhone(bg(), nil)
	assert.ErrorIs(t, err, ErrValidation)
	extCases := map[string]*ExtensionCallRequest{
		"Extensions":    {CID: "02873001234", Dialplan: plan()},
		"Extensions[1]": {CID: "02873001234", Extensions: []string{"101", "101"}, Dialplan: plan()},
		"CID":           {Extensions: []string{"101"}, Dialplan: plan()},
		"Dialplan":      {CID: "02873001234", Extensions: []string{"101"}},
	}
	for field, r := range extCases {
		_, err := c.AutoCall.ExecuteByExtension(bg(), r)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, field)
		assert.Equal(t, field, ve.Field)
	}
	assert.Zero(t, f.tokens.Load(), "validation comes before the token request")
	assert.Zero(t, f.count(byPhonePath)+f.count(byExtPath))
}

func TestAutoCallErrorCodes(t *testing.T) {
	for code, sentinel := range map[ErrorCode]error{
		CodeLimitService: ErrLimitService, CodeLimitWord: ErrLimitWord,
		CodeLimitWordSession: ErrLimitWordSession, CodeBalanceNotEnough: ErrBalanceNotEnough,
	} {
		for name, body := range map[string]string{
			"message":       `{"status_code":-9999,"message":"` + string(code) + `","payload":null}`,
			"payload.error": `{"status_code":-9999,"payload":{"status":"fail","error":"` + string(code) + `","message":"x"}}`,
		} {
			for _, status := range []int{200, 400} {
				c, mt := mockClientFor(t, OMICall)
				mockJSON(mt, "POST", "https://api.example.test"+byPhonePath, status, []byte(body))
				_, err := c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Dialplan: NewDialplan().Text("x"), Phones: []string{"0987654321"}})
				require.ErrorIs(t, err, sentinel, "%s in %s, HTTP %d", code, name, status)
				assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a refusal placed nothing")
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, code, apiErr.Code)
				assert.Equal(t, 1, mt.GetTotalCallCount())
			}
		}
	}
}

func TestAutoCallIdlessSuccessIsUnknown(t *testing.T) {
	c, mt := mockClientFor(t, OMICall)
	mockJSON(mt, "POST", "https://api.example.test"+byPhonePath, 200, []byte(`{"status_code":9999,"payload":{"name":"x"}}`))
	_, err := c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Dialplan: NewDialplan().Text("x"), Phones: []string{"0987654321"}})
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.ErrorIs(t, err, ErrUnexpectedResponse)
}

// One bad number among good ones: the good ones are called, the bad one
// (and a repeat) listed in Rejected.
func TestExecuteByPhoneLeavesOutBadNumbers(t *testing.T) {
	f := omicallAPI(t)
	c := newTestClient(t, f.URL, WithAPIKey(testAPIKey))
	sess, err := c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Dialplan: NewDialplan().Text("Xin chào"),
		Phones: []string{"0987654321", "12345", "+84 98 765 43 21", "0912345678"}})
	require.NoError(t, err)
	require.Len(t, sess.Rejected, 2)
	assert.Equal(t, "12345", sess.Rejected[0].Phone)
	assert.ErrorIs(t, sess.Rejected[0].Err, ErrInvalidPhone)
	assert.Equal(t, "+84 98 765 43 21", sess.Rejected[1].Phone)
	assert.Contains(t, sess.Rejected[1].Reason, "same number as Phones[0]")
	var sent struct {
		Phones []string `json:"phone_number_list"`
	}
	require.NoError(t, json.Unmarshal(f.last(byPhonePath).Body, &sent))
	assert.Equal(t, []string{"0987654321", "0912345678"}, sent.Phones)
}
