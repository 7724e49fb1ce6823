package batch

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
)

// OMICall's answers that contradict themselves: an error status next to
// a session id. Calls may have been placed: Unknown, sent once.
func TestOMICallSessionWithError(t *testing.T) {
	ok := answer(200, `{"status_code":9999,"payload":{"access_token":"tok-3f9a","expires_in":3600}}`)
	cases := []struct {
		name   string
		create func(http.ResponseWriter, *http.Request)
	}{
		{"rate-limit code with a session", answer(200, `{"status_code":429,"message":"rate_limit_exceeded","payload":{"autocall_id":"abc"}}`)},
		{"HTTP 429 with a session", answer(429, `{"status_code":9999,"payload":{"autocall_id":"abc"}}`)},
		{"4xx code with a session", answer(200, `{"status_code":400,"message":"invalid_phone_number","payload":{"autocall_id":"abc"}}`)},
		{"HTTP 400 with a success envelope", answer(400, `{"status_code":9999,"payload":{"autocall_id":"abc"}}`)},
		{"status_code 500.0", answer(200, `{"status_code":500.0}`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultAPI(t, ok, tc.create)
			c, err := autocall.NewClient(f.URL, autocall.WithProvider(autocall.OMICall), autocall.WithAccessToken("sk-outcome-secret"),
				autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}))
			require.NoError(t, err)
			t.Cleanup(c.CloseIdleConnections)
			j, _ := openTemp(t)
			jobs := []Job{{Key: "s", Op: ByPhone(&autocall.PhoneCallRequest{CID: "02873001234",
				Phones: []string{"0912000003", "0912000013"}, Dialplan: autocall.NewDialplan().Text("Xin chào quý khách")})}}
			rep, err := (&Runner{OMICall: c, Journal: j, Workers: 1}).Run(ctx, jobs)
			require.NoError(t, err)
			assertAddsUp(t, rep)
			rec, _, _ := j.Get(ctx, "s")
			assert.Equal(t, Unknown, rec.State, "reason: %s", rec.Reason)
			assert.Equal(t, int64(1), f.creates.Load(), "creates that reached the provider")
			assert.False(t, strings.Contains(rec.Reason, "sk-outcome-secret"))
		})
	}
}
