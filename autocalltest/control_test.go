package autocalltest_test

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

// The control API does over HTTP what Calls, Sessions, Requests and
// FailNext do in Go, and only when asked for.
func TestControlAPI(t *testing.T) {
	off := newSandbox(t)
	status, _ := raw(t, "GET", off.URL+"/_sandbox/calls", "", "")
	assert.Equal(t, 404, status, "off unless WithControlAPI")

	srv := newSandbox(t, autocalltest.WithControlAPI())
	ctl := srv.URL + autocalltest.ControlPrefix
	status, body := raw(t, "POST", ctl+"faults", "", `{"path":"/api/auto_call/execute_by_phone","process":true,"html":true,"status":503,"header":{"Retry-After":"0"}}`)
	require.Equal(t, 201, status, "%v", body)
	o := omicall(t, srv, autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 1}))
	_, err := o.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{
		Dialplan: autocall.NewDialplan().Text("Xin chào"), Phones: []string{"0987654321"}})
	assert.True(t, errors.Is(err, autocall.ErrOutcomeUnknown), "placed, then an HTML 503: %v", err)

	status, body = raw(t, "GET", ctl+"sessions", "", "")
	require.Equal(t, 200, status)
	sessions := body["sessions"].([]any)
	require.Len(t, sessions, 1)
	assert.Equal(t, []any{"0987654321"}, sessions[0].(map[string]any)["phones"])

	c := tel4vn(t, srv)
	res, err := c.OTP.Send(ctx, "1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"0912340001"},
		TemplateName: "template_otp_1", Code: "1", CallbackURL: "https://h.example/cb", CallbackAPIKey: "cbk-ctl-SECRET"})
	require.NoError(t, err)
	status, body = raw(t, "GET", ctl+"calls", "", "")
	require.Equal(t, 200, status)
	call := body["calls"].([]any)[0].(map[string]any)
	assert.Equal(t, string(res.Accepted[0]), call["id"])
	assert.Equal(t, "", call["status"], "ringing")
	status, _ = raw(t, "POST", ctl+"advance", "", `{"seconds": 10}`)
	require.Equal(t, 200, status)
	_, body = raw(t, "GET", ctl+"calls", "", "")
	assert.Equal(t, "BUSY", body["calls"].([]any)[0].(map[string]any)["status"])

	req, err := http.NewRequest("GET", ctl+"requests", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	all := string(b)
	for _, secret := range []string{autocalltest.SecretKey, autocalltest.APIKey, "cbk-ctl-SECRET"} {
		assert.NotContains(t, all, secret)
	}
	assert.NotContains(t, all, "/_sandbox/", "the control API's own requests are not recorded")
	assert.Equal(t, 0, srv.Count("/_sandbox/calls"))

	for _, bad := range []string{`{"path":"x"}`, `{"path":"/a","count":0}`, `{"path":"/a","status":9}`, `{"path":"/_sandbox/calls"}`, `[]`, `{"path":"/a"} {}`} {
		status, body = raw(t, "POST", ctl+"faults", "", bad)
		assert.Equal(t, 400, status, bad)
		assert.NotEmpty(t, body["error"], bad)
	}
	status, _ = raw(t, "POST", ctl+"faults", "", `{"path":"/api/v2/report/*","count":3,"status":500,"body":"{}"}`)
	require.Equal(t, 201, status)
	status, _ = raw(t, "DELETE", ctl+"faults", "", "")
	assert.Equal(t, 204, status)
	_, err = c.CDR.Get(ctx, res.Accepted[0])
	assert.NoError(t, err, "the faults were dropped")
}
