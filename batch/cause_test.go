package batch

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
)

// One list: every refusal cause is a cause, every cause the SDK gives a
// refusal or an unsent job is one the journal knows, and the words are
// the ones journals on disk hold.
func TestCausesAreOneList(t *testing.T) {
	all := Causes()
	for _, c := range RefusalCauses() {
		assert.Contains(t, all, c)
	}
	assert.Equal(t, []Cause{"quota", "rate", "template", "phone", "caller", "auth", "invalid", "other", "do_not_call"}, RefusalCauses())
	for _, c := range []Cause{CauseNetwork, CauseToken, CauseHours, CauseFrequency} {
		assert.Contains(t, all, c)
		assert.NotContains(t, RefusalCauses(), c, "an unsent job's cause")
	}
	for sdk, c := range sdkCauses {
		assert.Equal(t, string(sdk), string(c), "the same word")
		assert.True(t, slices.Contains(all, c))
	}
}

// The template cause is the SDK's reading of the provider's code or
// message, not of the whole error text: a campaign whose id says
// "template" does not make every refusal a template one.
func TestTemplateCauseIsNotReadFromThePath(t *testing.T) {
	f := newFaultAPI(t, answer(200, goodToken), func(w http.ResponseWriter, _ *http.Request) {
		answer(400, `{"code":400,"status":false,"data":{"error":"caller_blocked"}}`)(w, nil)
	})
	c, err := autocall.NewClient(f.URL, autocall.WithSecretKey("sk-cause-secret"),
		autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 1, BaseDelay: time.Millisecond}))
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	j, _ := openTemp(t)
	job := Job{Key: "k", Op: OTP("template-offers", &autocall.OTPRequest{Caller: "02873001234",
		Callees: []string{"0912000003"}, TemplateName: "otp", Code: "1"})}
	_, err = (&Runner{TEL4VN: c, Journal: j, Workers: 1}).Run(ctx, []Job{job})
	require.NoError(t, err)
	rec, _, _ := j.Get(ctx, "k")
	assert.Equal(t, Refused, rec.State)
	assert.Equal(t, CauseOther, rec.Cause, "reason: %s", rec.Reason)
}
