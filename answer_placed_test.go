package autocall

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A create's answer that contradicts itself (an error status, code or HTTP
// status next to accepted call ids) is ErrOutcomeUnknown, sent once: read
// as a rate limit or a refusal, the accepted calls would be placed again.
func TestOTPAnswerThatContradictsItselfIsUnknown(t *testing.T) {
	const path = "/api/v2/campaigns/1/otp"
	cases := []struct {
		name   string
		status int
		body   string
	}{
		{"HTTP 429 with an accepted id", 429, `{"status":true,"code":200,"data":{"results":{"success":["1_1_1_1_u_84912000013"]}}}`},
		{"code 429 with an accepted id", 200, `{"status":false,"code":429,"data":{"results":{"success":["1_1_1_1_u_84912000013"],"fail":[{"84912000023":"rate_limit_exceeded"}]}}}`},
		{"data.error with an accepted id", 200, `{"status":true,"code":200,"data":{"error":"rate_limit_exceeded","results":{"success":["1_1_1_1_u_84912000013"]}}}`},
		{"HTTP 400 with a success envelope", 400, `{"status":true,"code":200,"data":{"results":{"success":["1_1_1_1_u_84912000013"]}}}`},
		{"accepts none, refuses 1 of 2", 200, `{"status":true,"data":{"results":{"success":[],"fail":[{"84912000013":"Wrong Format"}]}}}`},
		{"accepts none, refuses {}", 200, `{"status":true,"data":{"results":{"success":[],"fail":[{},{}]}}}`},
		{"accepts none, refuses 1 of 2 twice", 200, `{"status":true,"data":{"results":{"success":[],"fail":[{"84912000013":"Wrong Format"},{"84912000013":"Wrong Format"}]}}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.handle("POST "+path, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, tc.status, tc.body) })
			c := newTestClient(t, f.URL, WithAccessToken(testToken), WithProvider(TEL4VN))
			res, err := c.OTP.Send(context.Background(), "1", &OTPRequest{Caller: "02873001234",
				Callees: []string{"0912000013", "0912000023"}, TemplateName: "otp", Code: "1234"})
			assert.Nil(t, res)
			require.ErrorIs(t, err, ErrOutcomeUnknown)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.HTTPStatus)
			assert.Equal(t, 1, f.count(path), "sent once")
			assert.NotContains(t, err.Error(), testToken)
		})
	}
	// Refusing each callee sent is a refusal, not a garbled answer.
	f := newFakeAPI(t)
	f.handle("POST "+path, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 200, `{"status":true,"data":{"results":{"success":[],"fail":[{"84912000013":"Wrong Format","84912000023":"Wrong Format"}]}}}`)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken), WithProvider(TEL4VN))
	res, err := c.OTP.Send(context.Background(), "1", &OTPRequest{Caller: "02873001234",
		Callees: []string{"0912000013", "0912000023"}, TemplateName: "otp", Code: "1234"})
	require.NoError(t, err)
	assert.Len(t, res.Rejected, 2)
}

// A sign of work in any shape wins over the status: a list of accepted
// calls written as a string or an object, one given twice (the later
// empty, which encoding/json would keep), a body that is not valid UTF-8
// or starts with a BOM, an OMICall status_code nobody can read. Each was
// read as a rate limit (and resent) or a refusal.
func TestAnswerShowingWorkInAnyShapeIsUnknown(t *testing.T) {
	const path = "/api/v2/campaigns/1/otp"
	cases := []struct {
		name   string
		omi    bool
		status int
		body   string
	}{
		{"success as a string", false, 429, `{"status":false,"code":429,"data":{"results":{"success":"1_1_1_1_u_84912000013"}}}`},
		{"success as an object", false, 429, `{"status":false,"code":429,"data":{"results":{"success":{"0":"1_1_1_1_u_84912000013"}}}}`},
		{"success as a string under 400", false, 400, `{"status":false,"code":400,"message":"x","data":{"results":{"success":"1_1"}}}`},
		{"success as a count", false, 429, `{"status":false,"data":{"results":{"success":1}}}`},
		{"success given twice", false, 429, `{"status":false,"data":{"results":{"success":["1_1"],"success":[]}}}`},
		{"results given twice", false, 429, `{"status":false,"data":{"results":{"success":["1_1"]},"results":{"success":[]}}}`},
		{"data given twice", false, 429, `{"status":false,"data":{"results":{"success":["1_1"]}},"data":null}`},
		{"data given twice in another case", false, 429, `{"status":false,"data":{"results":{"success":["1_1"]}},"DATA":{}}`},
		{"escaped keys", false, 429, `{"status":false,"d\u0061ta":{"r\u0065sults":{"succ\u0065ss":["1_1"]}}}`},
		{"not UTF-8", false, 429, "{\"status\":false,\"message\":\"\xff\",\"data\":{\"results\":{\"success\":[\"1_1\"]}}}"},
		{"BOM", false, 429, "\xef\xbb\xbf{\"status\":false,\"data\":{\"results\":{\"success\":[\"1_1\"]}}}"},
		{"OMICall status_code unreadable", true, 429, `{"status_code":"busy","payload":{"autocall_id":"a-1"}}`},
		{"OMICall uuids as a string", true, 429, `{"status_code":429,"payload":{"autocall_uuids":"u-1"}}`},
		{"OMICall payload given twice", true, 400, `{"status_code":400,"payload":{"autocall_id":"a-1"},"payload":null}`},
		{"OMICall not UTF-8", true, 429, "{\"status_code\":429,\"message\":\"\xff\",\"payload\":{\"autocall_id\":\"a-1\"}}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t)
			p, send := path, func(c *Client) error {
				_, err := c.OTP.Send(context.Background(), "1", &OTPRequest{Caller: "02873001234",
					Callees: []string{"0912000013"}, TemplateName: "otp", Code: "1234"})
				return err
			}
			prov := TEL4VN
			if tc.omi {
				p, prov, send = byPhonePath, OMICall, func(c *Client) error {
					_, err := c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Dialplan: NewDialplan().Text("x"), Phones: []string{"0987654321"}})
					return err
				}
			}
			f.handle("POST "+p, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, tc.status, tc.body) })
			c := newTestClient(t, f.URL, WithAccessToken(testToken), WithProvider(prov),
				WithRetryPolicy(RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond}))
			err := send(c)
			require.ErrorIs(t, err, ErrOutcomeUnknown)
			assert.Equal(t, ClassUnknown, OutcomeOf(err).Class)
			assert.Equal(t, 1, f.count(p), "sent once")
		})
	}
	// No sign of work: a rate limit, resent after its wait.
	for _, body := range []string{
		`{"status":false,"code":429,"data":{"results":{"success":[]}}}`,
		`{"status":false,"code":429,"data":{"results":{"success":null,"fail":[]}}}`,
		`{"status":false,"code":429,"data":{"results":{"success":" "}}}`,
		`{"status":false,"code":429,"data":{"results":{"success":0}}}`,
	} {
		f := newFakeAPI(t)
		f.handle("POST "+path, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 429, body) })
		c := newTestClient(t, f.URL, WithAccessToken(testToken), WithProvider(TEL4VN),
			WithRetryPolicy(RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond}))
		_, err := c.OTP.Send(context.Background(), "1", &OTPRequest{Caller: "02873001234",
			Callees: []string{"0912000013"}, TemplateName: "otp", Code: "1234"})
		assert.Equal(t, ClassRateLimited, OutcomeOf(err).Class, body)
		assert.Equal(t, 2, f.count(path), body)
	}
}

// An HTTP 429 whose envelope says the server failed (a 5xx code, at the
// top or in data) contradicts itself: a 5xx in any form may follow work
// done, so a create is unknown after one request, never resent as a 429.
func TestCreate429WithServerCodeIsUnknown(t *testing.T) {
	for _, tc := range []struct {
		omi  bool
		body string
	}{
		{false, `{"code":500,"status":false}`},
		{false, `{"code":400,"status":false,"data":{"error":"x","code":503}}`},
		{true, `{"status_code":500,"message":"x"}`},
	} {
		f := newFakeAPI(t)
		p, prov := "/api/v2/campaigns/1/otp", TEL4VN
		if tc.omi {
			p, prov = byPhonePath, OMICall
		}
		f.handle("POST "+p, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 429, tc.body) })
		c := newTestClient(t, f.URL, WithAccessToken(testToken), WithProvider(prov),
			WithRetryPolicy(RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond}))
		var err error
		if tc.omi {
			_, err = c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Dialplan: NewDialplan().Text("x"), Phones: []string{"0987654321"}})
		} else {
			_, err = c.OTP.Send(bg(), "1", &OTPRequest{Caller: "02873001234", Callees: []string{"0912000013"}, TemplateName: "otp", Code: "1234"})
		}
		require.ErrorIs(t, err, ErrOutcomeUnknown, tc.body)
		assert.ErrorIs(t, err, ErrServer, tc.body)
		assert.Equal(t, ClassUnknown, OutcomeOf(err).Class, tc.body)
		assert.Equal(t, 1, f.count(p), "sent once: %s", tc.body)
	}
}
