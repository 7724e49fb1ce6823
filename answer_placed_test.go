package autocall

import (
	"context"
	"net/http"
	"testing"

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
