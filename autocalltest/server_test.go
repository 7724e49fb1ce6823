package autocalltest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

func newSandbox(t *testing.T, opts ...autocalltest.Option) *autocalltest.Server {
	srv := autocalltest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

func client(t *testing.T, srv *autocalltest.Server, opts ...autocall.Option) *autocall.Client {
	all := append([]autocall.Option{autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})}, opts...)
	c, err := autocall.NewClient(srv.URL, all...)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func tel4vn(t *testing.T, srv *autocalltest.Server, opts ...autocall.Option) *autocall.Client {
	return client(t, srv, append([]autocall.Option{autocall.WithSecretKey(autocalltest.SecretKey)}, opts...)...)
}

func omicall(t *testing.T, srv *autocalltest.Server, opts ...autocall.Option) *autocall.Client {
	return client(t, srv, append([]autocall.Option{autocall.WithAPIKey(autocalltest.APIKey)}, opts...)...)
}

// raw sends a request below the SDK, for inputs the SDK refuses to send.
func raw(t *testing.T, method, url, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m == nil {
		m = map[string]any{"text": string(b)}
	}
	return resp.StatusCode, m
}

func token(t *testing.T, srv *autocalltest.Server, provider string) string {
	if provider == "omicall" {
		_, m := raw(t, "GET", srv.URL+"/api/auth?apiKey="+autocalltest.APIKey, "", "")
		return m["payload"].(map[string]any)["access_token"].(string)
	}
	_, m := raw(t, "POST", srv.URL+"/api/v1/users/generate_access_token", "", `{"secret_key":"`+autocalltest.SecretKey+`"}`)
	return m["data"].(map[string]any)["access_token"].(string)
}

var plan = func() *autocall.Dialplan { return autocall.NewDialplan().Text("Xin chào") }

func otp(c *autocall.Client, callees ...string) (*autocall.CampaignResult, error) {
	return c.OTP.Send(ctx, "1", &autocall.OTPRequest{Caller: "02873001234", Callees: callees, TemplateName: "otp", Code: "M43TUI"})
}

func TestTokens(t *testing.T) {
	srv := newSandbox(t)
	_, err := otp(tel4vn(t, srv), "0987654321")
	require.NoError(t, err)
	_, err = omicall(t, srv).AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{Dialplan: plan(), Phones: []string{"0987654321"}})
	require.NoError(t, err)

	_, err = otp(client(t, srv, autocall.WithSecretKey("wrong")), "0987654321")
	assert.ErrorIs(t, err, autocall.ErrUnauthorized)
	_, err = client(t, srv, autocall.WithAPIKey("wrong")).AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{Dialplan: plan(), Phones: []string{"0987654321"}})
	assert.ErrorIs(t, err, autocall.ErrUnauthorized)
}

func TestAuthorizationFormIsEnforced(t *testing.T) {
	srv := newSandbox(t)
	tt, ot := token(t, srv, "tel4vn"), token(t, srv, "omicall")
	report := srv.URL + "/api/v2/report/nope"
	byPhone := srv.URL + "/api/auto_call/execute_by_phone"
	body := `{"template_dialplans":[{"target_type":"Recording","target":"r"}],"variables":[],"phone_number_list":["0987654321"]}`

	status, _ := raw(t, "GET", report, "Bearer "+tt, "")
	assert.Equal(t, 401, status, "TEL4VN wants the raw token")
	status, _ = raw(t, "GET", report, ot, "")
	assert.Equal(t, 401, status, "an OMICall token is not a TEL4VN token")
	status, _ = raw(t, "GET", report, tt, "")
	assert.Equal(t, 404, status, "the right form gets through to the lookup")

	status, m := raw(t, "POST", byPhone, ot, body)
	assert.Equal(t, 401, status, "OMICall wants Bearer")
	assert.Equal(t, "Unauthorized", m["text"])
	status, _ = raw(t, "POST", byPhone, "Bearer "+tt, body)
	assert.Equal(t, 401, status)
	status, m = raw(t, "POST", byPhone, "Bearer "+ot, body)
	assert.Equal(t, 200, status)
	assert.EqualValues(t, 9999, m["status_code"])
}

func TestExpiredTokensAreRefetched(t *testing.T) {
	srv := newSandbox(t, autocalltest.WithTokenLifetime(time.Hour))
	tc, oc := tel4vn(t, srv), omicall(t, srv)
	_, err := otp(tc, "0987654321")
	require.NoError(t, err)
	_, err = oc.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{Dialplan: plan(), Phones: []string{"0987654321"}})
	require.NoError(t, err)

	srv.Advance(2 * time.Hour) // the SDK's clock does not move: only the rejection tells it
	_, err = otp(tc, "0987654321")
	require.NoError(t, err)
	_, err = oc.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{Dialplan: plan(), Phones: []string{"0987654321"}})
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Count("/api/v1/users/generate_access_token"))
	assert.Equal(t, 2, srv.Count("/api/auth"))
	assert.Equal(t, 3, srv.Count("/api/v2/campaigns/1/otp"), "one rejected, two placed")
	assert.Len(t, srv.Calls(), 2)

	tt := token(t, srv, "tel4vn")
	srv.ExpireTokens()
	status, m := raw(t, "GET", srv.URL+"/api/v2/report/x", tt, "")
	assert.Equal(t, 401, status)
	assert.Equal(t, "token_expired", m["data"].(map[string]any)["error"])
}

func TestQuotas(t *testing.T) {
	t.Run("limit_word_session", func(t *testing.T) {
		srv := newSandbox(t)
		long := strings.Repeat("ế", 301)
		body := `{"template_dialplans":[{"target_type":"Text_variable"}],"variables":["` + long + `"],"phone_number_list":["0987654321"]}`
		_, m := raw(t, "POST", srv.URL+"/api/auto_call/execute_by_phone", "Bearer "+token(t, srv, "omicall"), body)
		assert.Equal(t, "limit_word_session", m["message"])
		assert.Empty(t, srv.Sessions())
	})
	t.Run("limit_word", func(t *testing.T) {
		srv := newSandbox(t)
		c := omicall(t, srv)
		text := strings.Repeat("a", 300)
		for i := 0; i < 10; i++ {
			_, err := c.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{Dialplan: autocall.NewDialplan().Text(text), Phones: []string{"0987654321"}})
			require.NoError(t, err, i)
		}
		_, err := c.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{Dialplan: autocall.NewDialplan().Text("a"), Phones: []string{"0987654321"}})
		require.ErrorIs(t, err, autocall.ErrLimitWord, "3,001 characters in a day")
		assert.NotErrorIs(t, err, autocall.ErrOutcomeUnknown)
		srv.Advance(24 * time.Hour)
		_, err = c.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{Dialplan: autocall.NewDialplan().Text("a"), Phones: []string{"0987654321"}})
		require.NoError(t, err, "a new day")
	})
	t.Run("balance_is_not_enough", func(t *testing.T) {
		srv := newSandbox(t, autocalltest.WithBalance(2*autocalltest.CallPrice))
		c, oc := tel4vn(t, srv), omicall(t, srv)
		_, err := otp(c, "0987654321")
		require.NoError(t, err)
		_, err = otp(c, "0987654322", "0987654323")
		require.ErrorIs(t, err, autocall.ErrBalanceNotEnough, "one call paid for, two asked")
		_, err = oc.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{Dialplan: plan(), Phones: []string{"0987654321"}})
		require.NoError(t, err)
		_, err = oc.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{Dialplan: plan(), Phones: []string{"0987654321"}})
		require.ErrorIs(t, err, autocall.ErrBalanceNotEnough)
		assert.Equal(t, int64(0), srv.Balance())
		assert.Len(t, srv.Calls(), 1)
		assert.Len(t, srv.Sessions(), 1)
	})
	t.Run("limit_service", func(t *testing.T) {
		srv := newSandbox(t)
		srv.SetAutoCallEnabled(false)
		_, err := omicall(t, srv).AutoCall.ExecuteByExtension(ctx, &autocall.ExtensionCallRequest{Extensions: []string{"101"}, CID: "02873001234", Dialplan: plan()})
		require.ErrorIs(t, err, autocall.ErrLimitService)
	})
}

func TestWrongFormatCalleesAreRejectedNotFailed(t *testing.T) {
	srv := newSandbox(t)
	status, m := raw(t, "POST", srv.URL+"/api/v2/campaigns/7/otp", token(t, srv, "tel4vn"),
		`{"caller":"0123456789","callees":["0987654321","1234567890"],"params":{"template_name":"template_otp_1","code_otp":"M43TUI"}}`)
	require.Equal(t, 200, status)
	results := m["data"].(map[string]any)["results"].(map[string]any)
	assert.Equal(t, []any{map[string]any{"1234567890": "Wrong Format"}}, results["fail"])
	success := results["success"].([]any)
	require.Len(t, success, 1)
	id := success[0].(string)
	assert.Equal(t, "0987654321", autocall.CallID(id).Phone())
	parts := strings.Split(id, "_")
	require.Len(t, parts, 6, "shaped like 1_1_1_5_<uuid>_<phone>")
	assert.Len(t, parts[4], 36)
}

func TestCDRLifecycle(t *testing.T) {
	srv := newSandbox(t, autocalltest.WithStartTime(time.Date(2021, 1, 11, 4, 28, 45, 0, time.UTC)))
	c := tel4vn(t, srv)
	res, err := otp(c, "0987654321", "0912340001", "0912340002", "0912340003", "0912340093")
	require.NoError(t, err)
	require.Len(t, res.Accepted, 5)
	get := func(i int) *autocall.CDR {
		cdr, err := c.CDR.Get(ctx, res.Accepted[i])
		require.NoError(t, err)
		return cdr
	}
	for i := range res.Accepted {
		cdr := get(i)
		assert.Empty(t, cdr.Status, "ringing")
		assert.False(t, cdr.Status.Final())
		assert.Equal(t, time.Date(2021, 1, 11, 11, 28, 45, 0, time.FixedZone("", 7*3600)).Unix(), cdr.CreatedAt.Unix())
	}
	srv.Advance(autocalltest.RingTime)
	assert.Equal(t, autocall.StatusBusy, get(1).Status)
	assert.Equal(t, autocall.StatusNoAnswer, get(2).Status, "NOANWSER on the wire")
	assert.Equal(t, autocall.StatusCongestion, get(3).Status)
	talking := get(0)
	assert.Empty(t, talking.Status)
	assert.False(t, talking.StartedAt.IsZero())

	srv.Advance(autocalltest.TalkTime)
	done := get(0)
	assert.Equal(t, autocall.StatusAnswered, done.Status)
	assert.Equal(t, autocalltest.TalkTime, done.Duration)
	assert.Equal(t, "M43TUI", done.CodeOTP)
	assert.Equal(t, "127", done.Keypress)
	assert.Equal(t, "3", get(4).Keypress)
	assert.Equal(t, map[string]string{"code_otp": "M43TUI", "template_name": "otp"}, done.Params)
	assert.Empty(t, get(1).CodeOTP, "null for failed calls")

	_, err = c.CDR.Get(ctx, "1_1_1_1_nope_0987654321")
	require.ErrorIs(t, err, autocall.ErrNotFound)
}

func TestCallbacks(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		first := len(got) == 1
		mu.Unlock()
		if first {
			w.WriteHeader(500) // the sandbox retries, as the provider does
		}
	}))
	defer receiver.Close()
	srv := newSandbox(t)
	c := tel4vn(t, srv)
	res, err := c.OTP.Send(ctx, "1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"0912340001"},
		TemplateName: "otp", Code: "1", CallbackURL: receiver.URL + "/hook", CallbackAPIKey: "cb-key"})
	require.NoError(t, err)
	srv.Advance(time.Second)
	srv.WaitForCallbacks()
	assert.Empty(t, srv.Callbacks(), "no callback while ringing")
	srv.Advance(autocalltest.RingTime)
	srv.WaitForCallbacks()

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 2)
	assert.Equal(t, "cb-key", got[1].Header.Get("X-API-Key"))
	assert.Equal(t, "/hook", got[1].URL.Path)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(bodies[1], &ev))
	assert.Equal(t, string(res.Accepted[0]), ev["id"])
	assert.Equal(t, "BUSY", ev["status"])
	cbs := srv.Callbacks()
	require.Len(t, cbs, 2)
	assert.Equal(t, 500, cbs[0].Status)
	assert.Equal(t, 200, cbs[1].Status)
}

func TestFaults(t *testing.T) {
	req := &autocall.PhoneCallRequest{Dialplan: plan(), Phones: []string{"0987654321"}}
	const path = "/api/auto_call/execute_by_phone"
	t.Run("HTML 502", func(t *testing.T) {
		srv := newSandbox(t)
		srv.FailNext(path, 1, autocalltest.Fault{HTML: true})
		_, err := omicall(t, srv).AutoCall.ExecuteByPhone(ctx, req)
		require.ErrorIs(t, err, autocall.ErrOutcomeUnknown)
		require.ErrorIs(t, err, autocall.ErrUnexpectedResponse)
		assert.Equal(t, 1, srv.Count(path))
	})
	t.Run("reset after placing the call", func(t *testing.T) {
		srv := newSandbox(t)
		srv.FailNext(path, 1, autocalltest.Fault{Process: true, Reset: true})
		_, err := omicall(t, srv).AutoCall.ExecuteByPhone(ctx, req)
		require.ErrorIs(t, err, autocall.ErrOutcomeUnknown)
		assert.Len(t, srv.Sessions(), 1, "the call was placed")
		assert.Equal(t, 1, srv.Count(path), "and not placed twice")
	})
	t.Run("slow answer", func(t *testing.T) {
		srv := newSandbox(t)
		srv.FailNext(path, 1, autocalltest.Fault{Process: true, Delay: 500 * time.Millisecond})
		_, err := omicall(t, srv, autocall.WithTimeout(100*time.Millisecond)).AutoCall.ExecuteByPhone(ctx, req)
		require.ErrorIs(t, err, autocall.ErrOutcomeUnknown)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("delay only", func(t *testing.T) {
		srv := newSandbox(t)
		tok := token(t, srv, "tel4vn")
		srv.FailNext("/api/v2/report/*", 1, autocalltest.Fault{Delay: 300 * time.Millisecond})
		begin := time.Now()
		status, _ := raw(t, "GET", srv.URL+"/api/v2/report/x", tok, "")
		assert.GreaterOrEqual(t, time.Since(begin), 300*time.Millisecond)
		assert.Equal(t, 404, status, "then the usual answer")
		c := tel4vn(t, srv, autocall.WithTimeout(100*time.Millisecond))
		srv.FailNext("/api/v2/report/*", 1, autocalltest.Fault{Delay: time.Second})
		_, err := c.CDR.Get(ctx, "x")
		require.ErrorIs(t, err, autocall.ErrNotFound, "a read timed out once, retried, and got the usual answer")
		assert.Equal(t, 3, srv.Count("/api/v2/report/x"))
	})
	t.Run("429 then through", func(t *testing.T) {
		srv := newSandbox(t)
		srv.FailNext(path, 2, autocalltest.Fault{Status: 429, Body: `{"status_code":429,"message":"rate_limit_exceeded"}`,
			Header: http.Header{"Retry-After": {"0"}}})
		sess, err := omicall(t, srv).AutoCall.ExecuteByPhone(ctx, req)
		require.NoError(t, err)
		assert.NotEmpty(t, sess.ID)
		assert.Equal(t, 3, srv.Count(path))
		assert.Len(t, srv.Sessions(), 1)
	})
	t.Run("prefix match and plain text", func(t *testing.T) {
		srv := newSandbox(t)
		srv.FailNext("/api/v2/report/*", 1, autocalltest.Fault{Status: 401, Body: "Unauthorized", ContentType: "text/plain"})
		c := tel4vn(t, srv)
		res, err := otp(c, "0987654321")
		require.NoError(t, err)
		_, err = c.CDR.Get(ctx, res.Accepted[0])
		require.NoError(t, err, "401 once: a new token, and through")
		assert.Equal(t, 2, srv.Count("/api/v1/users/generate_access_token"))
	})
}

func TestRequestsAreRecordedWithoutSecrets(t *testing.T) {
	srv := newSandbox(t)
	_, err := tel4vn(t, srv).OTP.Send(ctx, "1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"},
		TemplateName: "otp", Code: "1", CallbackURL: "http://127.0.0.1:1/hook", CallbackAPIKey: "cb-secret"})
	require.NoError(t, err)
	_, err = omicall(t, srv).AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{Dialplan: plan(), Phones: []string{"0987654321"}})
	require.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 4)
	dump, _ := json.Marshal(reqs)
	for _, secret := range []string{autocalltest.SecretKey, autocalltest.APIKey, "cb-secret"} {
		assert.NotContains(t, string(dump), secret)
	}
	assert.Equal(t, "[REDACTED]", reqs[1].Header.Get("Authorization"), "TEL4VN: raw form")
	assert.Equal(t, "Bearer [REDACTED]", reqs[3].Header.Get("Authorization"), "OMICall: Bearer form")
	assert.Equal(t, "apiKey=%5BREDACTED%5D", reqs[2].Query)
	assert.Equal(t, "POST", reqs[1].Method)
	assert.Contains(t, string(reqs[1].Body), `"code_otp":"1"`)
}

func TestTTSNeedsItsTemplate(t *testing.T) {
	srv := newSandbox(t)
	c := tel4vn(t, srv)
	run := func(params map[string]string) (*autocall.CampaignResult, error) {
		return c.TTS.Run(ctx, "1", &autocall.TTSRequest{Caller: "02873001234", Callees: []string{"0987654321"},
			TemplateName: "no_cuoc", Params: params})
	}
	// Refused per callee, inside a 200: nobody is called.
	res, err := run(map[string]string{"name": "A"})
	require.NoError(t, err)
	require.Len(t, res.Rejected, 1)
	assert.Empty(t, res.Accepted)
	assert.Equal(t, "Template Not Found", res.Rejected[0].Reason)
	assert.ErrorIs(t, res.Rejected[0].Err, autocall.ErrRefused)
	tmpl := autocall.Template{Name: "no_cuoc", Content: "Chào {{name}}, nợ {{amount}}"}
	require.NoError(t, c.TTS.ImportTemplate(ctx, "1", &tmpl))
	err = c.TTS.ImportTemplate(ctx, "1", &tmpl)
	var apiErr *autocall.APIError
	require.ErrorAs(t, err, &apiErr, "names are unique")
	assert.Equal(t, 400, apiErr.HTTPStatus)
	res, err = run(map[string]string{"name": "A"})
	require.NoError(t, err)
	require.Len(t, res.Rejected, 1)
	assert.Equal(t, "Missing TTS Key", res.Rejected[0].Reason)
	assert.Empty(t, srv.Calls(), "nobody called")
	res, err = run(map[string]string{"name": "A", "amount": autocall.Money(10410000)})
	require.NoError(t, err)
	assert.Len(t, res.Accepted, 1)
	assert.Equal(t, map[string]string{"no_cuoc": tmpl.Content}, srv.Templates("1"))
}

func TestFaultMatchingPrefersTheExactPath(t *testing.T) {
	srv := newSandbox(t)
	c := tel4vn(t, srv)
	srv.FailNext("/api/v2/*", 1, autocalltest.Fault{Status: 404, Body: `{"code":404,"status":false,"data":{"error":"from /api/v2/*"}}`})
	srv.FailNext("/api/v2/report/*", 1, autocalltest.Fault{Status: 404, Body: `{"code":404,"status":false,"data":{"error":"from /api/v2/report/*"}}`})
	srv.FailNext("/api/v2/report/x", 1, autocalltest.Fault{Status: 404, Body: `{"code":404,"status":false,"data":{"error":"exact"}}`})
	var apiErr *autocall.APIError
	for _, want := range []string{"exact", "from /api/v2/report/*", "from /api/v2/*"} {
		_, err := c.CDR.Get(ctx, "x")
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, want, string(apiErr.Code))
	}
	_, err := c.CDR.Get(ctx, "x")
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "resource_not_found", string(apiErr.Code), "faults used up")
}

// rawOMICall POSTs body to an OMICall path with a fresh token, below the
// SDK (which would have normalised the request), and returns the answer.
func rawOMICall(t *testing.T, srv *autocalltest.Server, path, body string) string {
	t.Helper()
	resp, err := http.Get(srv.URL + "/api/auth?apiKey=" + autocalltest.APIKey)
	require.NoError(t, err)
	var tok struct {
		Payload struct {
			AccessToken string `json:"access_token"`
		} `json:"payload"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok.Payload.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestExtensionNeedsVariables(t *testing.T) {
	srv := newSandbox(t)
	plan := `"template_dialplans":[{"target_type":"Recording","target":"r1"}],"extensions":["101"],"cid":"02873001234"`
	assert.Contains(t, rawOMICall(t, srv, "/api/auto_call/execute_by_extension", `{`+plan+`}`), "variables is required")
	assert.Contains(t, rawOMICall(t, srv, "/api/auto_call/execute_by_extension", `{`+plan+`,"variables":[]}`), `"status_code":9999`)
}

func TestSandboxCountsCharactersAfterNFC(t *testing.T) {
	srv := newSandbox(t)
	// 150 "ế" typed in NFD are 450 code points but 150 characters: under the
	// 300-character session limit.
	nfd := strings.Repeat("e\u0302\u0301", 150)
	body := `{"template_dialplans":[{"target_type":"Text_variable"}],"variables":["` + nfd + `"],"phone_number_list":["0987654321"]}`
	assert.Contains(t, rawOMICall(t, srv, "/api/auto_call/execute_by_phone", body), `"status_code":9999`)
}

func TestListenWithRealTime(t *testing.T) {
	srv, err := autocalltest.Listen("127.0.0.1:0", autocalltest.WithRealTime())
	require.NoError(t, err)
	defer srv.Close()
	c := tel4vn(t, srv)
	res, err := c.OTP.Send(ctx, "1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"0912340001"}, TemplateName: "t", Code: "1"})
	require.NoError(t, err)
	start := srv.Now()
	require.Eventually(t, func() bool { return srv.Now().Sub(start) >= 200*time.Millisecond }, 2*time.Second, 10*time.Millisecond, "the clock runs by itself")
	assert.NotEmpty(t, res.Accepted)
	_, err = autocalltest.Listen("256.0.0.1:1")
	assert.Error(t, err)
}
