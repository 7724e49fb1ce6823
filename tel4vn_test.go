package autocall

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

const (
	otpPath    = "/api/v2/campaigns/1/otp"
	importPath = "/api/v2/campaigns/1/voice/import"
	runPath    = "/api/v2/campaigns/1/voice"
	cdrID      = "1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321"
)

var docTemplate = Template{Name: "thong_bao_no_cuoc_01",
	Content: "Chào bạn {{customer_name}} vui lòng thanh toán khoản nợ {{due_amount}} trước ngày {{due_date}}"}

// tel4vnAPI answers with the document's examples.
func tel4vnAPI(t *testing.T) *fakeAPI {
	f := newFakeAPI(t)
	for path, file := range map[string]string{
		"POST " + otpPath:             "tel4vn/otp_response.json",
		"POST " + importPath:          "tel4vn/tts_import_response.json",
		"POST " + runPath:             "tel4vn/tts_run_response.json",
		"GET /api/v2/report/" + cdrID: "tel4vn/cdr_response.json",
	} {
		body := readTestdata(t, file)
		f.handle(path, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, string(body)) })
	}
	return f
}

// withoutCallee drops a callee from a document example: the SDK refuses
// the documents' invalid numbers before sending (tested separately).
func withoutCallee(m map[string]any, phone string) map[string]any {
	var keep []any
	for _, c := range m["callees"].([]any) {
		if c != phone {
			keep = append(keep, c)
		}
	}
	m["callees"] = keep
	return m
}

var docResult = &CampaignResult{CampaignID: "1", Accepted: []CallID{cdrID},
	Rejected: []Rejection{{Phone: "1234567890", Reason: "Wrong Format", Err: &CalleeError{Phone: "1234567890", Reason: "Wrong Format"}}}}

func TestTokenRequestGolden(t *testing.T) {
	f := newFakeAPI(t)
	f.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		writeJSON(w, 200, string(readTestdata(t, "tel4vn/token_response.json")))
	})
	c := newTestClient(t, f.URL, WithSecretKey("30511f666-f888-411b-a6e0-11111fb6gg7a"))
	tok, err := c.tokens.src.Token(bg())
	require.NoError(t, err)
	assert.Equal(t, "1ebe8f88MzA1MTNkZjMtZjc3My00MTmY", tok.Value)
	assert.WithinDuration(t, time.Now().Add(15552000*time.Second), tok.Expiry, time.Minute)
	assert.Equal(t, jsonMap(t, readTestdata(t, "tel4vn/token_request.json")), jsonMap(t, f.last("/api/v1/users/generate_access_token").Body))
}

func TestOTPSendGolden(t *testing.T) {
	f := tel4vnAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	res, err := c.OTP.Send(bg(), "1", &OTPRequest{
		Caller: "0123456789", Callees: []string{"0987654321"},
		TemplateName: "template_otp_1", Code: "M43TUI",
		CallbackURL: "https://demo.webhook.com", CallbackAPIKey: "api_key_123",
	})
	require.NoError(t, err)
	assert.Equal(t, docResult, res)
	assert.Equal(t, "0987654321", res.Accepted[0].Phone())
	rec := f.last(otpPath)
	assert.Equal(t, http.MethodPost, rec.Method, "the document's GET is a mistake")
	assert.Equal(t, testToken, rec.Auth, "TEL4VN: the raw token")
	assert.Equal(t, jsonMap(t, readTestdata(t, "tel4vn/otp_request.json")), jsonMap(t, rec.Body))

	// The sample body, less its invalid callee, is what the SDK sends.
	sample := jsonMap(t, readTestdata(t, "tel4vn/otp_request_sample.json"))
	assert.Equal(t, withoutCallee(sample, "1234567890"), jsonMap(t, rec.Body))
}

// The document's sample has a good callee and a bad one: the good one is
// called, the bad one is listed in Rejected and never sent.
func TestDocumentInvalidCalleeLeftOut(t *testing.T) {
	f := tel4vnAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	var sample struct {
		Caller  string   `json:"caller"`
		Callees []string `json:"callees"`
	}
	require.NoError(t, json.Unmarshal(readTestdata(t, "tel4vn/otp_request_sample.json"), &sample))
	res, err := c.OTP.Send(bg(), "1", &OTPRequest{Caller: sample.Caller, Callees: sample.Callees, TemplateName: "template_otp_1", Code: "M43TUI"})
	require.NoError(t, err)
	require.NotEmpty(t, res.Rejected)
	first := res.Rejected[0]
	assert.Equal(t, "1234567890", first.Phone)
	var ve *ValidationError
	require.ErrorAs(t, first.Err, &ve)
	assert.Equal(t, "Callees[1]", ve.Field)
	assert.ErrorIs(t, first.Err, ErrInvalidPhone)
	var sent struct {
		Callees []string `json:"callees"`
	}
	require.NoError(t, json.Unmarshal(f.last(otpPath).Body, &sent))
	assert.Equal(t, []string{"0987654321"}, sent.Callees, "only the good callee is sent")

	// With no good callee at all, nothing is sent.
	_, err = c.OTP.Send(bg(), "1", &OTPRequest{Caller: sample.Caller, Callees: []string{"1234567890", "12"}, TemplateName: "t", Code: "1"})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Callees[0]", ve.Field)
	assert.ErrorIs(t, err, ErrInvalidPhone)
	assert.Equal(t, 1, f.count(otpPath))
}

func TestImportTemplateGolden(t *testing.T) {
	f := tel4vnAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	require.NoError(t, c.TTS.ImportTemplate(bg(), "1", &docTemplate))
	assert.Equal(t, jsonMap(t, readTestdata(t, "tel4vn/tts_import_request.json")), jsonMap(t, f.last(importPath).Body))

	sample := Template{Name: "thong_bao_no_cuoc_01", Content: "Chào bạn {{key_field_1}} vui lòng thanh toán khoản nợ {{key_field_2}} trước ngày {{key_field_3}}"}
	require.NoError(t, c.TTS.ImportTemplate(bg(), "1", &sample))
	assert.Equal(t, jsonMap(t, readTestdata(t, "tel4vn/tts_import_request_sample.json")), jsonMap(t, f.last(importPath).Body))

	// Content typed in NFD is sent in NFC.
	require.NoError(t, c.TTS.ImportTemplate(bg(), "1", &Template{Name: "n", Content: norm.NFD.String(docTemplate.Content)}))
	assert.Equal(t, docTemplate.Content, jsonMap(t, f.last(importPath).Body)["content"])
}

func TestTTSRunGolden(t *testing.T) {
	f := tel4vnAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	tmpl := docTemplate
	tmpl.Name = "thong_bao_no_cuoc_1"
	res, err := c.TTS.Run(bg(), "1", &TTSRequest{
		Caller: "1234567890", Callees: []string{"0987654321"},
		Template: &tmpl,
		Params: map[string]string{
			"customer_name": "Nguyễn Văn A",
			"due_amount":    Money(10410000),
			"due_date":      "30/1/2021",
		},
		CallbackURL: "https://demo.webhook.com", CallbackAPIKey: "api_key_123",
	})
	require.NoError(t, err)
	assert.Equal(t, docResult, res)
	sample := withoutCallee(jsonMap(t, readTestdata(t, "tel4vn/tts_run_request_sample.json")), "1234567890")
	assert.Equal(t, sample, jsonMap(t, f.last(runPath).Body))
	assert.Zero(t, f.count(importPath), "run goes to /voice, not the curl's /voice/import")

	// The curl example, with no Template to check against, is sent as written.
	curl := withoutCallee(jsonMap(t, readTestdata(t, "tel4vn/tts_run_request.json")), "1234567890")
	_, err = c.TTS.Run(bg(), "1", &TTSRequest{
		Caller: "1234567890", Callees: []string{"0987654321"}, TemplateName: "thong_bao_no_cuoc_1",
		Params:      map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": "10.410.000", "due_days": Number(15)},
		CallbackURL: "https://demo.webhook.com", CallbackAPIKey: "api_key_123",
	})
	require.NoError(t, err)
	assert.Equal(t, curl, jsonMap(t, f.last(runPath).Body))
}

func TestTTSRunCatchesTheDocumentsDueDaysMistake(t *testing.T) {
	f := tel4vnAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	_, err := c.TTS.Run(bg(), "1", &TTSRequest{
		Caller: "1234567890", Callees: []string{"0987654321"}, Template: &docTemplate,
		Params: map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": "10.410.000", "due_days": "#15"},
	})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Params.due_days", ve.Field)
	assert.Contains(t, ve.Reason, "{{due_date}}")
	assert.Zero(t, f.count(runPath))

	_, err = c.TTS.Run(bg(), "1", &TTSRequest{
		Caller: "1234567890", Callees: []string{"0987654321"}, Template: &docTemplate,
		Params: map[string]string{"customer_name": "A", "due_amount": "1"},
	})
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Params.due_date", ve.Field)
	assert.Zero(t, f.count(runPath))
	assert.Zero(t, f.tokens.Load())
}

func TestTEL4VNValidationSendsNothing(t *testing.T) {
	f := tel4vnAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	otp := func(mut func(*OTPRequest)) error {
		r := &OTPRequest{Caller: "0123456789", Callees: []string{"0987654321"}, TemplateName: "t", Code: "1234"}
		mut(r)
		_, err := c.OTP.Send(bg(), "1", r)
		return err
	}
	tts := func(campaign string, mut func(*TTSRequest)) error {
		r := &TTSRequest{Caller: "0123456789", Callees: []string{"0987654321"}, TemplateName: "t"}
		mut(r)
		_, err := c.TTS.Run(bg(), campaign, r)
		return err
	}
	cases := map[string]error{
		"CampaignID":     tts("", func(*TTSRequest) {}),
		"Caller":         otp(func(r *OTPRequest) { r.Caller = "" }),
		"Callees":        otp(func(r *OTPRequest) { r.Callees = nil }),
		"Callees[0]":     otp(func(r *OTPRequest) { r.Callees = []string{"12345"} }),
		"TemplateName":   otp(func(r *OTPRequest) { r.TemplateName = "" }),
		"Code":           otp(func(r *OTPRequest) { r.Code = " " }),
		"CallbackURL":    otp(func(r *OTPRequest) { r.CallbackURL = "demo.webhook.com/hook" }),
		"CallbackAPIKey": otp(func(r *OTPRequest) { r.CallbackAPIKey = "k" }),
		"Params.template_name": tts("1", func(r *TTSRequest) {
			r.Params = map[string]string{"template_name": "other"}
		}),
		"Template.Name":    c.TTS.ImportTemplate(bg(), "1", &Template{Content: "x"}),
		"Template.Content": c.TTS.ImportTemplate(bg(), "1", &Template{Name: "x"}),
	}
	for field, err := range cases {
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, field)
		assert.Equal(t, field, ve.Field)
		assert.ErrorIs(t, err, ErrValidation)
	}
	_, err := c.OTP.Send(bg(), "1", nil)
	assert.ErrorIs(t, err, ErrValidation)
	_, err = c.TTS.Run(bg(), "1", nil)
	assert.ErrorIs(t, err, ErrValidation)
	assert.Zero(t, f.tokens.Load())
	assert.Zero(t, f.count(otpPath)+f.count(runPath)+f.count(importPath))
}

func TestCampaignResults(t *testing.T) {
	c, mt := mockClient(t)
	url := "https://api.example.test" + otpPath
	send := func() (*CampaignResult, error) {
		return c.OTP.Send(bg(), "1", &OTPRequest{Caller: "0123456789", Callees: []string{"0987654321", "0912345678"}, TemplateName: "t", Code: "1"})
	}
	mockJSON(mt, "POST", url, 200, []byte(`{"message":"OK","code":200,"status":true,"data":{"campaign_id":1,"results":{"success":["a_0987654321"],"fail":[{"0912345678":"Wrong Format","0900000000":"Busy"}]}}}`))
	res, err := send()
	require.NoError(t, err, "partial success is not an error")
	assert.Equal(t, "1", res.CampaignID)
	require.Len(t, res.Rejected, 2)
	assert.Equal(t, "0900000000", res.Rejected[0].Phone)
	assert.Equal(t, "Busy", res.Rejected[0].Reason)
	assert.ErrorIs(t, res.Rejected[0].Err, ErrRefused)
	assert.NotErrorIs(t, res.Rejected[0].Err, ErrInvalidPhone)
	assert.Equal(t, "0912345678", res.Rejected[1].Phone)
	assert.ErrorIs(t, res.Rejected[1].Err, ErrInvalidPhone, "Wrong Format is the number's fault")
	assert.Equal(t, "campaign 1: 1 accepted, 2 rejected", res.String())

	for _, body := range []string{`{"data":{"campaign_id":"1"}}`, `{"data":{"campaign_id":"1","results":{"success":[],"fail":[]}}}`, `{"data":null}`} {
		mockJSON(mt, "POST", url, 200, []byte(body))
		_, err = send()
		require.ErrorIs(t, err, ErrOutcomeUnknown, body)
	}
	for code, sentinel := range map[string]error{"limit_word": ErrLimitWord, "balance_is_not_enough": ErrBalanceNotEnough, "limit_service": ErrLimitService, "token_expired": ErrUnauthorized, "invalid_phone_number": ErrInvalidPhone} {
		for _, status := range []int{200, 400} {
			mockJSON(mt, "POST", url, status, []byte(`{"messsage":"Bad Request","code":400,"status":false,"data":{"error":"`+code+`"}}`))
			_, err = send()
			require.ErrorIs(t, err, sentinel, code)
			assert.NotErrorIs(t, err, ErrOutcomeUnknown)
		}
	}
}

func TestCallIDPhone(t *testing.T) {
	assert.Equal(t, "0987654321", CallID(cdrID).Phone())
	assert.Equal(t, "0987654321", CallID("0987654321").Phone())
	assert.Equal(t, "", CallID("x_").Phone())
}

func TestTemplate(t *testing.T) {
	assert.Equal(t, []string{"customer_name", "due_amount", "due_date"}, docTemplate.Placeholders())
	assert.Equal(t, []string{"a", "b"}, Template{Content: "{{a}} {{ b }} {{a}} {{}} {c}"}.Placeholders())
	assert.Nil(t, Template{Content: "không có gì"}.Placeholders())

	params := map[string]string{"customer_name": norm.NFD.String("Nguyễn Văn A"), "due_amount": Money(10410000), "due_date": "30/01/2021"}
	got, err := docTemplate.Render(params)
	require.NoError(t, err)
	assert.Equal(t, "Chào bạn Nguyễn Văn A vui lòng thanh toán khoản nợ 10.410.000 trước ngày 30/01/2021", got)
	assert.True(t, norm.NFC.IsNormalString(got))

	_, err = docTemplate.Render(map[string]string{"customer_name": "A", "due_amount": "1", "due_date": "d", "extra": "x"})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Params.extra", ve.Field)
}

func TestFormatters(t *testing.T) {
	for n, want := range map[int64]string{0: "#0", 7: "#7", 999: "#999", 1000: "1.000", 10410000: "10.410.000", 1000000000000: "1.000.000.000.000", -5000: "âm 5.000", -7: "âm #7", -9223372036854775808: "âm 9.223.372.036.854.775.808"} {
		assert.Equal(t, want, Money(n))
	}
	assert.Equal(t, "#15", Number(15))
	assert.Equal(t, "âm #3", Number(-3))
	assert.Equal(t, "âm #9223372036854775808", Number(-9223372036854775808))
	assert.Equal(t, "0987654321", Digits("098 765.4321"))
	assert.Equal(t, "30/01/2021", Date(time.Date(2021, 1, 30, 23, 0, 0, 0, time.UTC)))
}

func TestTTSRunSendsParamsInNFC(t *testing.T) {
	f := tel4vnAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	nfd := norm.NFD.String("Nguyễn Văn Ánh")
	require.NotEqual(t, "Nguyễn Văn Ánh", nfd)
	_, err := c.TTS.Run(bg(), "1", &TTSRequest{Caller: "1234567890", Callees: []string{"0987654321"},
		TemplateName: "t", Params: map[string]string{"customer_name": nfd}})
	require.NoError(t, err)
	params := jsonMap(t, f.last(runPath).Body)["params"].(map[string]any)
	assert.Equal(t, "Nguyễn Văn Ánh", params["customer_name"])
}
