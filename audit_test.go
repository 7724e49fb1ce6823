package autocall

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests for the holes an independent fault and secret audit found; each
// failed before its fix. The fault matrix (matrix_test.go) covers the rest.

// A successful answer over 1 MiB is read whole when the request placed as
// many calls: 10,000 accepted callees with long ids is about 1.5 MB.
func TestLargeSuccessIsNotLost(t *testing.T) {
	const n = MaxCallees
	callees := make([]string, n)
	ids := make([]string, n)
	for i := range callees {
		callees[i] = fmt.Sprintf("09%08d", i)
		ids[i] = fmt.Sprintf(`"1_1_1_7_%s_%s"`, strings.Repeat("f", 120), callees[i])
	}
	answer := `{"data":{"campaign_id":7,"results":{"success":[` + strings.Join(ids, ",") + `],"fail":[]}}}`
	require.Greater(t, len(answer), maxResponseBody)
	f := newFakeAPI(t)
	f.handle("POST /api/v2/campaigns/7/voice", func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, answer) })
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	res, err := c.TTS.Run(bg(), "7", &TTSRequest{Caller: "02873001234", Callees: callees, TemplateName: "t"})
	require.NoError(t, err)
	assert.Len(t, res.Accepted, n)
	assert.Equal(t, 1, f.count("/api/v2/campaigns/7/voice"))

	// One more than the maximum is refused before anything is sent.
	_, err = c.TTS.Run(bg(), "7", &TTSRequest{Caller: "02873001234", Callees: append(callees, "0912345678"), TemplateName: "t"})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "Callees", ve.Field)
	assert.Equal(t, 1, f.count("/api/v2/campaigns/7/voice"))
}

// A caller's CheckRedirect does not turn redirect protection off.
func TestCallersCheckRedirectIsIgnored(t *testing.T) {
	other := newFakeAPI(t)
	other.handle("/", func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, okCreate) })
	f := newFakeAPI(t)
	f.handle("POST "+createPath, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusPermanentRedirect)
	})
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	c := newTestClient(t, f.URL, WithAccessToken(testToken), WithHTTPClient(hc))
	_, err := doCreate(c)
	require.ErrorIs(t, err, ErrUnexpectedResponse)
	assert.Contains(t, err.Error(), "redirect to "+strings.TrimPrefix(other.URL, "http://")+" not followed")
	assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a redirect is an answer: the server did not do the work")
	assert.Equal(t, 0, other.count("/steal"))
}

// A nil context on a cold client panicked in the shared token goroutine.
func TestNilContextIsRefusedEverywhere(t *testing.T) {
	f := newFakeAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	o := newTestClient(t, f.URL, WithAPIKey(testAPIKey))
	var nilCtx context.Context
	calls := map[string]func() error{
		"Authenticate": func() error { return c.Authenticate(nilCtx) },
		"OTP.Send": func() error {
			_, err := c.OTP.Send(nilCtx, "1", &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "t", Code: "1"})
			return err
		},
		"TTS.Run": func() error {
			_, err := c.TTS.Run(nilCtx, "1", &TTSRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "t"})
			return err
		},
		"TTS.ImportTemplate": func() error { return c.TTS.ImportTemplate(nilCtx, "1", &Template{Name: "t", Content: "x"}) },
		"CDR.Get":            func() error { _, err := c.CDR.Get(nilCtx, "x"); return err },
		"CDR.Wait":           func() error { _, err := c.CDR.Wait(nilCtx, "x"); return err },
		"ExecuteByPhone": func() error {
			_, err := o.AutoCall.ExecuteByPhone(nilCtx, &PhoneCallRequest{Dialplan: NewDialplan().Recording("r"), Phones: []string{"0987654321"}})
			return err
		},
		"ExecuteByExtension": func() error {
			_, err := o.AutoCall.ExecuteByExtension(nilCtx, &ExtensionCallRequest{CID: "0287300123", Extensions: []string{"1"}, Dialplan: NewDialplan().Recording("r")})
			return err
		},
	}
	for name, call := range calls {
		var ve *ValidationError
		require.ErrorAs(t, call(), &ve, name)
		assert.Equal(t, "ctx", ve.Field, name)
	}
	assert.Zero(t, f.tokens.Load(), "nothing sent")
}

func TestDotIDsAreRefused(t *testing.T) {
	f := newFakeAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	for _, id := range []string{".", "..", " .. "} {
		_, err := c.CDR.Get(bg(), CallID(id))
		require.ErrorIs(t, err, ErrValidation, id)
		_, err = c.OTP.Send(bg(), id, &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "t", Code: "1"})
		require.ErrorIs(t, err, ErrValidation, id)
	}
	// Dots inside an id are an id.
	f.handle("GET /api/v2/report/{id}", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 200, `{"data":{"id":"a..b","status":"ANSWERED"}}`)
	})
	_, err := c.CDR.Get(bg(), "a..b")
	require.NoError(t, err)
	assert.Zero(t, f.count("/api/v2/report/.."))
}

func TestSpokenTextIsChecked(t *testing.T) {
	f := newFakeAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	otp := func(code string) error {
		_, err := c.OTP.Send(bg(), "1", &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "t", Code: code})
		return err
	}
	tts := func(v string) error {
		_, err := c.TTS.Run(bg(), "1", &TTSRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "t",
			Params: map[string]string{"name": v}})
		return err
	}
	for _, bad := range []string{"12\x0034", "12\n34", "\x1b[31m1234", "12\xff34", "12\u008534"} {
		var ve *ValidationError
		require.ErrorAs(t, otp(bad), &ve, "%q", bad)
		assert.Equal(t, "Code", ve.Field)
		require.ErrorAs(t, tts(bad), &ve, "%q", bad)
		assert.Equal(t, "Params.name", ve.Field)
	}
	err := c.TTS.ImportTemplate(bg(), "1", &Template{Name: "t", Content: "Chào {{name}}\x07"})
	require.ErrorIs(t, err, ErrValidation)
	_, err = c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Dialplan: NewDialplan().Text("Xin\x00chào"), Phones: []string{"0987654321"}})
	require.ErrorIs(t, err, ErrValidation)
	assert.Zero(t, f.tokens.Load(), "nothing sent")
}

// Redaction: encoded forms, the request's callback key, the cut, the URL.
func TestRedactionGaps(t *testing.T) {
	const slashy = "sk/with+odd&chars=/SECRET" // a secret that encodes differently everywhere
	jsonForm, _ := json.Marshal(slashy)
	for name, echoed := range map[string]string{
		"JSON \\/":     strings.ReplaceAll(slashy, "/", `\/`),
		"JSON escaped": string(jsonForm[1 : len(jsonForm)-1]),
		"query":        url.QueryEscape(slashy),
		"path":         url.PathEscape(slashy),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 400, `{"messsage":"bad key `+echoed+`","code":400,"status":false,"data":{"error":"x `+echoed+`"}}`)
			})
			c := newTestClient(t, f.URL, WithSecretKey(slashy))
			err := c.Authenticate(bg())
			require.Error(t, err)
			assert.NotContains(t, err.Error(), echoed)
			assert.NotContains(t, apiBody(err), echoed)
		})
	}

	t.Run("callback key", func(t *testing.T) {
		f := newFakeAPI(t)
		f.handle("POST /api/v2/campaigns/1/otp", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			writeJSON(w, 400, `{"messsage":"callback key `+testCallbackKey+` refused","code":400,"status":false,"data":{"error":"bad_callback `+testCallbackKey+`"}}`)
		})
		c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
		_, err := c.OTP.Send(bg(), "1", &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "t", Code: "1",
			CallbackURL: "https://example.com/cb", CallbackAPIKey: testCallbackKey})
		require.Error(t, err)
		assert.NotContains(t, err.Error(), testCallbackKey)
		assert.NotContains(t, apiBody(err), testCallbackKey)
	})

	t.Run("secret across the 64 KiB cut", func(t *testing.T) {
		f := newFakeAPI(t)
		pad := strings.Repeat("a", maxErrorBody-20)
		f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			writeJSON(w, 400, `{"messsage":"x","code":400,"status":false,"data":{"error":"`+pad+testSecretKey+`"}}`)
		})
		c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
		err := c.do(bg(), readReq(), &testResult{})
		require.Error(t, err)
		body := apiBody(err)
		assert.Len(t, body, maxErrorBody)
		assert.NotContains(t, body, testSecretKey[:10], "the secret's first characters survived the cut")
	})

	t.Run("base URL password", func(t *testing.T) {
		for _, raw := range []string{"http://user:hunter2@%zz", "ftp://user:hunter2@host", "https://user:hunter2@host", "http://host/?token=hunter2"} {
			_, err := NewClient(raw, WithAccessToken(testToken))
			require.ErrorIs(t, err, ErrValidation, raw)
			assert.NotContains(t, err.Error(), "hunter2", raw)
		}
	})
}

func TestWebhookTakesGzip(t *testing.T) {
	var rec hookRecorder
	h := WebhookHandler(hookKey, rec.fn)
	gz := func(s string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		return b.String()
	}
	auth := map[string]string{"X-API-Key": hookKey, "Content-Encoding": "gzip"}
	w := deliver(h, "POST", "/hook", gz(cdrEvent), auth)
	require.Equal(t, 200, w.Code, w.Body.String())
	require.Equal(t, 1, rec.count())
	// A bomb: small on the wire, over the limit once inflated.
	w = deliver(h, "POST", "/hook", gz(`{"x":"`+strings.Repeat("a", 4*MaxWebhookBody)+`"}`), auth)
	assert.Equal(t, 413, w.Code)
	w = deliver(h, "POST", "/hook", "not gzip", auth)
	assert.Equal(t, 400, w.Code)
	auth["Content-Encoding"] = "br"
	assert.Equal(t, 400, deliver(h, "POST", "/hook", cdrEvent, auth).Code)
	assert.Equal(t, 1, rec.count())
}

// An error from every source matches a top sentinel: a refused connection
// and a code nobody documented included.
func TestEveryErrorHasASentinel(t *testing.T) {
	c := newTestClient(t, refusedURL(t), WithAccessToken(testToken))
	_, err := c.CDR.Get(bg(), "x")
	require.ErrorIs(t, err, ErrNetwork)
	f := newFakeAPI(t)
	for _, status := range []int{400, 409, 422} {
		f.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, status, `{"messsage":"no","code":`+fmt.Sprint(status)+`,"status":false,"data":{"error":"campaign_not_active"}}`)
		})
		c := newTestClient(t, f.URL, WithAccessToken(testToken))
		_, err := c.CDR.Get(bg(), "x")
		require.ErrorIs(t, err, ErrRefused, status)
		assert.NotErrorIs(t, err, ErrServer)
	}
	var apiErr *APIError
	require.True(t, errors.As(err, &apiErr) || err != nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 500, `{"messsage":"boom","code":500,"status":false,"data":{"error":"internal"}}`)
	}))
	defer srv.Close()
	c = newTestClient(t, srv.URL, WithAccessToken(testToken))
	_, err = c.CDR.Get(bg(), "x")
	require.ErrorIs(t, err, ErrServer)
	assert.NotErrorIs(t, err, ErrRefused)
}

// A client knows its provider: a method of the other one fails at once and
// sends nothing (OTP.Send on an API-key client used to POST twice).
func TestWrongProviderSendsNothing(t *testing.T) {
	f := newFakeAPI(t)
	omi := newTestClient(t, f.URL, WithAPIKey(testAPIKey))
	tel := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	assert.Equal(t, OMICall, omi.Provider())
	assert.Equal(t, TEL4VN, tel.Provider())

	_, err := omi.OTP.Send(bg(), "1", &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "t", Code: "1"})
	require.ErrorIs(t, err, ErrWrongProvider)
	require.ErrorIs(t, err, ErrValidation)
	assert.Contains(t, err.Error(), "WithSecretKey")
	_, err = omi.CDR.Get(bg(), "x")
	require.ErrorIs(t, err, ErrWrongProvider)
	_, err = tel.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Dialplan: NewDialplan().Recording("r"), Phones: []string{"0987654321"}})
	require.ErrorIs(t, err, ErrWrongProvider)
	assert.Contains(t, err.Error(), "WithAPIKey")
	assert.Zero(t, f.tokens.Load())
	f.mu.Lock()
	assert.Empty(t, f.requests, "nothing sent")
	f.mu.Unlock()

	// A hand-made token needs its provider named, and the name must agree.
	_, err = NewClient(f.URL, WithAccessToken(testToken))
	require.ErrorIs(t, err, ErrValidation)
	assert.Contains(t, err.Error(), "WithProvider")
	_, err = NewClient(f.URL, WithAPIKey(testAPIKey), WithProvider(TEL4VN))
	require.ErrorIs(t, err, ErrValidation)
	c, err := NewClient(f.URL, WithAccessToken(testToken), WithProvider(OMICall))
	require.NoError(t, err)
	assert.Equal(t, OMICall, c.Provider())
}

// A zero or nil Client fails with an error that says why, not a panic.
func TestZeroClient(t *testing.T) {
	var zero Client
	var nilClient *Client
	require.ErrorIs(t, zero.Authenticate(bg()), ErrValidation)
	require.ErrorIs(t, nilClient.Authenticate(bg()), ErrValidation)
	_, err := zero.CDR.Get(bg(), "x")
	require.ErrorIs(t, err, ErrValidation)
	_, err = zero.OTP.Send(bg(), "1", &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "t", Code: "1"})
	require.ErrorIs(t, err, ErrValidation)
	assert.Contains(t, err.Error(), "NewClient")
}
