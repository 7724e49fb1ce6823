package autocall_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

var ctx = context.Background()

// sandbox starts the in-process sandbox and clients for both providers.
func sandbox() (srv *autocalltest.Server, tel4vn, omicall *autocall.Client) {
	srv = autocalltest.NewServer()
	tel4vn, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey))
	if err != nil {
		log.Fatal(err)
	}
	omicall, err = autocall.NewClient(srv.URL, autocall.WithAPIKey(autocalltest.APIKey))
	if err != nil {
		log.Fatal(err)
	}
	return srv, tel4vn, omicall
}

func ExampleNewClient() {
	// OMICall: an API key, exchanged for a Bearer token lasting 24 hours.
	omicall, err := autocall.NewClient("https://public-v1.omicall.com", autocall.WithAPIKey("your-api-key"))
	if err != nil {
		log.Fatal(err)
	}
	// TEL4VN: a secret key, exchanged for a raw token.
	tel4vn, err := autocall.NewClient("https://api.tel4vn.example",
		autocall.WithSecretKey("30511f666-f888-411b-a6e0-11111fb6gg7a"),
		autocall.WithTimeout(10*time.Second),
		autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 4}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(omicall.BaseURL(), tel4vn.BaseURL())

	_, err = autocall.NewClient("public-v1.omicall.com", autocall.WithAPIKey("k"))
	var ve *autocall.ValidationError
	fmt.Println(errors.As(err, &ve), ve.Field)
	// Output:
	// https://public-v1.omicall.com https://api.tel4vn.example
	// true BaseURL
}

func ExampleClient_Authenticate() {
	srv, tel4vn, _ := sandbox()
	defer srv.Close()
	fmt.Println(tel4vn.Authenticate(ctx))

	wrong, _ := autocall.NewClient(srv.URL, autocall.WithSecretKey("wrong"))
	err := wrong.Authenticate(ctx)
	fmt.Println(errors.Is(err, autocall.ErrUnauthorized))
	// Output:
	// <nil>
	// true
}

func ExampleClient_CloseIdleConnections() {
	srv, tel4vn, _ := sandbox()
	defer srv.Close()
	defer tel4vn.CloseIdleConnections() // when the Client is no longer used
	fmt.Println(tel4vn.Authenticate(ctx))
	// Output: <nil>
}

func ExampleWithTokenSource() {
	// Tokens from your own secret store, cached and refreshed by the Client.
	ts := autocall.TokenSourceFunc(func(ctx context.Context) (autocall.Token, error) {
		return autocall.Token{Value: "1ebe8f88MzA1MTNkZjMtZjc3My00MTmY", Expiry: time.Now().Add(time.Hour)}, nil
	})
	c, err := autocall.NewClient("https://api.tel4vn.example", autocall.WithTokenSource(ts), autocall.WithProvider(autocall.TEL4VN))
	fmt.Println(c != nil, err)
	// Output: true <nil>
}

func ExampleToken_String() {
	tok := autocall.Token{Value: "1ebe8f88MzA1MTNkZjMtZjc3My00MTmY", Expiry: time.Date(2021, 7, 10, 0, 0, 0, 0, time.UTC)}
	fmt.Println(tok) // printed by mistake, it shows no secret
	// Output: Token([REDACTED], expires 2021-07-10T00:00:00Z)
}

func ExampleAutoCallService_ExecuteByPhone() {
	srv, _, omicall := sandbox()
	defer srv.Close()
	sess, err := omicall.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{
		Name:            "Chiến dịch giới thiệu sản phẩm mới",
		Voice:           autocall.VoiceBanMai,
		Dialplan:        autocall.NewDialplan().Text("Đơn hàng của bạn là").Text("CKHDKD00203").Recording("5ed0c6dffb7b390007e5211"),
		Phones:          []string{"0987654321", "+84 912 345 678"},
		NumRetry:        1,
		NumPerCall:      15,
		DistancePerCall: 30 * time.Second,
		DistanceRetry:   5 * time.Minute,
	})
	switch {
	case errors.Is(err, autocall.ErrOutcomeUnknown):
		log.Fatal("calls may have been placed: check before sending again")
	case err != nil:
		log.Fatal(err)
	}
	fmt.Println(sess.Name)
	fmt.Println(srv.Sessions()[0].Phones)
	// Output:
	// Chiến dịch giới thiệu sản phẩm mới
	// [0987654321 0912345678]
}

func ExampleAutoCallService_ExecuteByExtension() {
	srv, _, omicall := sandbox()
	defer srv.Close()
	sess, err := omicall.AutoCall.ExecuteByExtension(ctx, &autocall.ExtensionCallRequest{
		Extensions: []string{"101"}, CID: "02873001234", BrandName: "SHOP",
		Dialplan: autocall.NewDialplan().Text("Có đơn hàng mới"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(sess.CallUUIDs))
	// Output: 1
}

func ExampleDialplan_Recording() {
	plan := autocall.NewDialplan().Recording("5ed0c6dffb7b390007e5211")
	fmt.Println(plan.Len(), plan.TextChars())
	// Output: 1 0
}

func ExampleDialplan_Text() {
	// OMICall's API gọi tự động page's text-to-speech example: four Text_variable steps.
	plan := autocall.NewDialplan().Text("Đơn hàng của bạn là").Text("HHKKK").Text("Tổng giá trị").Text("90000")
	fmt.Println(plan.Len(), plan.TextChars())
	// Output: 4 41
}

func ExampleDialplan_IVRMenu() {
	plan := autocall.NewDialplan().Text("Bấm phím 1 để xác nhận đơn hàng").IVRMenu("5e9eac95e44159000710f0xxx")
	fmt.Println(plan.Len())
	// Output: 2
}

func ExampleDialplan_Len() {
	fmt.Println(autocall.NewDialplan().Len())
	// Output: 0
}

func ExampleDialplan_TextChars() {
	// Characters as OMICall counts them: "ễ" is one, typed composed or not.
	plan := autocall.NewDialplan().Text("Nguye\u0302\u0303n")
	fmt.Println(plan.TextChars(), plan.TextChars() <= autocall.MaxSessionChars)
	// Output: 6 true
}

func ExampleOTPService_Send() {
	srv, tel4vn, _ := sandbox()
	defer srv.Close()
	// The page's sample: one good callee, one that is no Vietnamese number.
	res, err := tel4vn.OTP.Send(ctx, "1", &autocall.OTPRequest{
		Caller: "0123456789", Callees: []string{"0987654321", "1234567890"},
		TemplateName: "template_otp_1", Code: "M43TUI",
		CallbackURL: "https://demo.webhook.com", CallbackAPIKey: "api_key_123",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("called:", res.Accepted[0].Phone())
	for _, r := range res.Rejected {
		fmt.Println("not called:", r.Phone, errors.Is(r.Err, autocall.ErrInvalidPhone))
	}
	// Output:
	// called: 0987654321
	// not called: 1234567890 true
}

func ExampleWithProvider() {
	// A token issued out of band says nothing of its provider: name it.
	c, err := autocall.NewClient("https://public-v1.omicall.com",
		autocall.WithAccessToken("token-from-your-vault"), autocall.WithProvider(autocall.OMICall))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Provider())
	// A TEL4VN method on an OMICall client sends nothing.
	_, err = c.OTP.Send(ctx, "1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "t", Code: "1"})
	fmt.Println(errors.Is(err, autocall.ErrWrongProvider))
	// Output:
	// OMICall
	// true
}

var docTemplate = autocall.Template{Name: "thong_bao_no_cuoc_01",
	Content: "Chào bạn {{customer_name}} vui lòng thanh toán khoản nợ {{due_amount}} trước ngày {{due_date}}"}

func ExampleTTSService_ImportTemplate() {
	srv, tel4vn, _ := sandbox()
	defer srv.Close()
	if err := tel4vn.TTS.ImportTemplate(ctx, "1", &docTemplate); err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Templates("1")["thong_bao_no_cuoc_01"] == docTemplate.Content)
	// Output: true
}

func ExampleTTSService_Run() {
	srv, tel4vn, _ := sandbox()
	defer srv.Close()
	_ = tel4vn.TTS.ImportTemplate(ctx, "1", &docTemplate)
	res, err := tel4vn.TTS.Run(ctx, "1", &autocall.TTSRequest{
		Caller: "1234567890", Callees: []string{"0987654321"},
		Template: &docTemplate,
		Params: map[string]string{
			"customer_name": "Nguyễn Văn A",
			"due_amount":    autocall.Money(10410000),
			"due_date":      autocall.Date(time.Date(2021, 1, 30, 0, 0, 0, 0, time.UTC)),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(res.Accepted), "call placed")

	// TEL4VN's Autocall API Reference's own run example sends due_days to a template that says
	// {{due_date}}. The SDK refuses it before anything is sent.
	_, err = tel4vn.TTS.Run(ctx, "1", &autocall.TTSRequest{
		Caller: "1234567890", Callees: []string{"0987654321"}, Template: &docTemplate,
		Params: map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": "10.410.000", "due_days": "#15"},
	})
	fmt.Println(err)
	// Output:
	// 1 call placed
	// autocall: invalid Params.due_days "#15": template "thong_bao_no_cuoc_01" has no {{due_days}} and needs {{due_date}}
}

func ExampleTemplate_Placeholders() {
	fmt.Println(docTemplate.Placeholders())
	// Output: [customer_name due_amount due_date]
}

func ExampleTemplate_Render() {
	text, _ := docTemplate.Render(map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": "10.410.000", "due_date": "30/01/2021"})
	fmt.Println(text)
	// Output: Chào bạn Nguyễn Văn A vui lòng thanh toán khoản nợ 10.410.000 trước ngày 30/01/2021
}

func ExampleTemplate_Preview() {
	heard, _ := docTemplate.Preview(map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": "10.410.000", "due_date": "30/01/2021"})
	fmt.Println(heard)
	// Output: Chào bạn Nguyễn Văn A vui lòng thanh toán khoản nợ mười triệu bốn trăm mười nghìn trước ngày ba mươi tháng một năm hai không hai mươi mốt
}

func ExampleSpeak() {
	for _, v := range []string{"10.410.000", "#15", "0987654321", "30/01/2021", "Nguyễn Văn A"} {
		fmt.Println(autocall.Speak(v))
	}
	// Output:
	// mười triệu bốn trăm mười nghìn
	// mười lăm
	// không chín tám bảy sáu năm bốn ba hai một
	// ba mươi tháng một năm hai không hai mươi mốt
	// Nguyễn Văn A
}

func ExampleMoney() {
	fmt.Println(autocall.Money(10410000))
	// Output: 10.410.000
}

func ExampleNumber() {
	fmt.Println(autocall.Number(15))
	// Output: #15
}

func ExampleDigits() {
	fmt.Println(autocall.Digits("098 765 4321"))
	// Output: 0987654321
}

func ExampleDate() {
	fmt.Println(autocall.Date(time.Date(2021, 1, 30, 0, 0, 0, 0, time.UTC)))
	// Output: 30/01/2021
}

func ExampleNormalizePhone() {
	for _, s := range []string{"+84 98 765 43 21", "098.765.4321", "(028) 3821 2345", "01689123456"} {
		n, err := autocall.NormalizePhone(s)
		fmt.Println(n, err)
	}
	// Output:
	// 0987654321 <nil>
	// 0987654321 <nil>
	// 02838212345 <nil>
	//  autocall: invalid Phone "01689123456": prefix 0168 was replaced by 038 in 2018: the number is now 0389123456
}

func ExampleCallID_Phone() {
	id := autocall.CallID("1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321")
	fmt.Println(id.Phone())
	// Output: 0987654321
}

func ExampleCampaignResult_String() {
	r := &autocall.CampaignResult{CampaignID: "1",
		Accepted: []autocall.CallID{"1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321"},
		Rejected: []autocall.Rejection{{Phone: "1234567890", Reason: "Wrong Format"}}}
	fmt.Println(r)
	// Output: campaign 1: 1 accepted, 1 rejected
}

func ExampleCDRService_Get() {
	srv, tel4vn, _ := sandbox()
	defer srv.Close()
	res, _ := tel4vn.OTP.Send(ctx, "1", &autocall.OTPRequest{Caller: "0123456789", Callees: []string{"0987654321"}, TemplateName: "template_otp_1", Code: "M43TUI"})
	srv.Advance(autocalltest.RingTime + autocalltest.TalkTime) // sandbox time: the call is answered and ends

	cdr, err := tel4vn.CDR.Get(ctx, res.Accepted[0])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cdr.Status, cdr.Answered(), cdr.Duration, cdr.CodeOTP, cdr.Keypress, cdr.Type)
	// Output: ANSWERED true 15s M43TUI 127 OTP
}

func ExampleCDRService_Wait() {
	srv, tel4vn, _ := sandbox()
	defer srv.Close()
	res, _ := tel4vn.OTP.Send(ctx, "1", &autocall.OTPRequest{Caller: "0123456789", Callees: []string{"0912340002"}, TemplateName: "template_otp_1", Code: "M43TUI"})
	srv.Advance(autocalltest.RingTime)

	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cdr, err := tel4vn.CDR.Wait(ctx, res.Accepted[0], autocall.WithPollInterval(10*time.Millisecond, time.Second))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cdr.Status) // the provider spells it NOANWSER
	// Output: NOANSWER
}

func ExampleCDR_Answered() {
	cdr := &autocall.CDR{Status: autocall.ParseCallStatus("NOANWSER")}
	fmt.Println(cdr.Answered(), cdr.Status)
	// Output: false NOANSWER
}

func ExampleParseCallStatus() {
	fmt.Println(autocall.ParseCallStatus("NOANWSER"), autocall.ParseCallStatus("busy"), autocall.ParseCallStatus("VOICEMAIL"))
	// Output: NOANSWER BUSY VOICEMAIL
}

func ExampleCallStatus_Final() {
	fmt.Println(autocall.StatusBusy.Final(), autocall.CallStatus("").Final())
	// Output: true false
}

func ExampleWebhookHandler() {
	seen := map[string]bool{} // in production: a table with a unique key
	h := autocall.WebhookHandler("api_key_123", func(ctx context.Context, ev *autocall.CallEvent) error {
		if seen[ev.Key()] {
			return nil // the provider delivered it again
		}
		seen[ev.Key()] = true
		fmt.Println(ev.Phone, ev.Status, ev.Duration)
		return nil
	})
	body := `{"id":"1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321","phone_number":"0987654321","status":"ANSWERED","duration":15}`
	for i := 0; i < 2; i++ {
		r := httptest.NewRequest(http.MethodPost, "/hooks/call", strings.NewReader(body))
		r.Header.Set("Authorization", "api_key_123")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// 0987654321 ANSWERED 15s
	// 200
	// 200
}

func ExampleParseCallEvent() {
	ev, _ := autocall.ParseCallEvent([]byte(`{"call_id":"c-42","direction":"outbound","to_number":"0912345678","state":"hangup","billsec":12,"press_key":"1"}`), nil)
	fmt.Println(ev.CallID, ev.Phone, ev.State, ev.Duration, ev.Keypress, ev.Final())
	// Output: c-42 0912345678 hangup 12s 1 true
}

func ExampleCallEvent_Key() {
	a, _ := autocall.ParseCallEvent([]byte(`{"call_id":"c-42","state":"ringing"}`), nil)
	b, _ := autocall.ParseCallEvent([]byte(`{"call_id":"c-42","state":"hangup"}`), nil)
	fmt.Println(a.Key(), b.Key())
	// Output: c-42#ringing c-42#hangup
}

func ExampleCallEvent_Final() {
	ev, _ := autocall.ParseCallEvent([]byte(`{"id":"x","status":"BUSY"}`), nil)
	fmt.Println(ev.Final())
	// Output: true
}

func ExampleAPIError_Is() {
	srv, _, omicall := sandbox()
	defer srv.Close()
	srv.SetAutoCallEnabled(false)
	_, err := omicall.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{
		Dialplan: autocall.NewDialplan().Text("Xin chào"), Phones: []string{"0987654321"}})
	var apiErr *autocall.APIError
	fmt.Println(errors.Is(err, autocall.ErrLimitService), errors.As(err, &apiErr) && apiErr.Code == autocall.CodeLimitService)
	fmt.Println(errors.Is(err, autocall.ErrOutcomeUnknown)) // a refusal: nothing was placed
	// Output:
	// true true
	// false
}

func ExampleValidationError() {
	c, _ := autocall.NewClient("https://public-v1.omicall.com", autocall.WithAPIKey("your-api-key"))
	_, err := c.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{
		Speed: 5, Dialplan: autocall.NewDialplan().Text("Xin chào"), Phones: []string{"0987654321"}})
	var ve *autocall.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field, "-", ve.Reason) // nothing was sent
	}
	// Output: Speed - must be from -3 to 3
}

func ExampleOutcomeUnknownError() {
	srv, tel4vn, _ := sandbox()
	defer srv.Close()
	// The provider answers with a proxy's HTML 502 after placing the call.
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Process: true, HTML: true})
	_, err := tel4vn.OTP.Send(ctx, "1", &autocall.OTPRequest{Caller: "0123456789", Callees: []string{"0987654321"}, TemplateName: "template_otp_1", Code: "M43TUI"})

	var unknown *autocall.OutcomeUnknownError
	var apiErr *autocall.APIError
	fmt.Println(errors.As(err, &unknown), errors.As(err, &apiErr), apiErr.HTTPStatus, errors.Is(err, autocall.ErrUnexpectedResponse))
	fmt.Println(len(srv.Calls()), "call placed, and not placed again")
	// Output:
	// true true 502 true
	// 1 call placed, and not placed again
}

func ExampleTransportError() {
	srv := autocalltest.NewServer()
	url := srv.URL
	srv.Close() // nothing listens there now
	c, _ := autocall.NewClient(url, autocall.WithAccessToken("tok"), autocall.WithProvider(autocall.TEL4VN),
		autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond}))
	_, err := c.CDR.Get(ctx, "1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321")
	var te *autocall.TransportError
	fmt.Println(errors.As(err, &te), te.Attempts, errors.Is(err, autocall.ErrOutcomeUnknown))
	// Output: true 2 false
}

func ExampleTokenSourceFunc_Token() {
	ts := autocall.TokenSourceFunc(func(context.Context) (autocall.Token, error) {
		return autocall.Token{Value: "from-vault"}, nil
	})
	tok, _ := ts.Token(ctx)
	fmt.Println(tok.Expiry.IsZero()) // unknown expiry: used until rejected
	// Output: true
}
