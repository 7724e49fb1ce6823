package autocall_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	log      []string
	attempts []autocall.Attempt
	ends     []autocall.CallEnd
	ops      []autocall.Operation
	tokens   []autocall.TokenFetch
	pauses   []autocall.Pause
}

type startKey struct{}

func (r *recorder) add(s string) { r.mu.Lock(); r.log = append(r.log, s); r.mu.Unlock() }

func (r *recorder) StartCall(ctx context.Context, op autocall.Operation) context.Context {
	r.add("start " + op.Name)
	return context.WithValue(ctx, startKey{}, op.Name)
}

func (r *recorder) EndCall(ctx context.Context, op autocall.Operation, end autocall.CallEnd) {
	if ctx.Value(startKey{}) != op.Name {
		panic("EndCall is not given StartCall's context")
	}
	r.add("end " + op.Name + " " + end.Outcome.Class.String())
	r.mu.Lock()
	r.ends, r.ops = append(r.ends, end), append(r.ops, op)
	r.mu.Unlock()
}

func (r *recorder) Attempt(ctx context.Context, op autocall.Operation, a autocall.Attempt) {
	r.add("attempt " + op.Name)
	r.mu.Lock()
	r.attempts = append(r.attempts, a)
	r.mu.Unlock()
}

func (r *recorder) TokenFetch(ctx context.Context, t autocall.TokenFetch) {
	r.add("token " + t.Outcome.Class.String())
	r.mu.Lock()
	r.tokens = append(r.tokens, t)
	r.mu.Unlock()
}

func (r *recorder) RateLimited(ctx context.Context, op autocall.Operation, p autocall.Pause) {
	r.add("pause " + op.Name)
	r.mu.Lock()
	r.pauses = append(r.pauses, p)
	r.mu.Unlock()
}

func TestObserverIsToldOfEachAttemptTokenAndOutcome(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	rec := &recorder{}
	c, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey), autocall.WithObserver(rec),
		autocall.WithRetryPolicy(autocall.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}))
	require.NoError(t, err)

	// The campaign id holds the secret key: the observer sees it redacted.
	_, err = c.OTP.Send(context.Background(), "c-"+autocalltest.SecretKey, &autocall.OTPRequest{
		Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "otp", Code: "123456"})
	require.NoError(t, err)
	assert.Equal(t, []string{"start OTP.Send", "attempt Token", "token none", "attempt OTP.Send", "end OTP.Send none"}, rec.log)
	require.Len(t, rec.ends, 1)
	op, end := rec.ops[0], rec.ends[0]
	assert.Equal(t, autocall.TEL4VN, op.Provider)
	assert.Equal(t, "/api/v2/campaigns/{campaign}/otp", op.Route)
	assert.Equal(t, http.MethodPost, op.Method)
	assert.True(t, op.Creates)
	assert.Equal(t, "c-[REDACTED]", op.Campaign)
	assert.Equal(t, "127.0.0.1", op.Host)
	assert.NotZero(t, op.Port)
	assert.Equal(t, 1, end.Attempts)
	assert.Equal(t, http.StatusOK, end.Status)
	assert.Positive(t, end.Duration)

	// A 429 handed to the caller (OnRateLimit): a pause, a rate-limited outcome.
	rec.log = nil
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Status: 429, Body: `{"error":"slow down"}`, Header: http.Header{"Retry-After": {"7"}}})
	var told time.Duration
	_, err = c.OTP.Send(context.Background(), "1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "otp", Code: "123456"},
		autocall.OnRateLimit(func(d time.Duration) { told = d }))
	require.ErrorIs(t, err, autocall.ErrRateLimited)
	assert.Equal(t, 7*time.Second, told)
	assert.Equal(t, []string{"start OTP.Send", "attempt OTP.Send", "pause OTP.Send", "end OTP.Send rate_limited"}, rec.log)
	assert.Equal(t, autocall.Pause{RetryAfter: 7 * time.Second, Handed: true}, rec.pauses[0])
	assert.Equal(t, 429, rec.attempts[len(rec.attempts)-1].Status)

	// A read retried after a 5xx: two attempts, the call ends well.
	rec.log = nil
	srv.FailNext("/api/v2/report/*", 1, autocalltest.Fault{Status: 503, Body: "busy"})
	_, err = c.CDR.Get(context.Background(), "nope")
	assert.Equal(t, "start CDR.Get,attempt CDR.Get,attempt CDR.Get,end CDR.Get "+autocall.OutcomeOf(err).Class.String(), strings.Join(rec.log, ","))
	assert.Equal(t, 2, rec.ends[len(rec.ends)-1].Attempts)
}

func TestObserverIsToldOfAFailedTokenFetch(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	rec := &recorder{}
	c, err := autocall.NewClient(srv.URL, autocall.WithSecretKey("wrong-secret-key-1234"), autocall.WithObserver(rec))
	require.NoError(t, err)
	_, err = c.OTP.Send(context.Background(), "1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "otp", Code: "123456"})
	require.ErrorIs(t, err, autocall.ErrNotSent)
	require.Len(t, rec.tokens, 1)
	assert.Equal(t, autocall.Outcome{Class: autocall.ClassNotSent, Cause: autocall.CauseAuth}, rec.tokens[0].Outcome)
	assert.Equal(t, autocall.Outcome{Class: autocall.ClassNotSent, Cause: autocall.CauseAuth}, rec.ends[0].Outcome)
	assert.Zero(t, rec.ends[0].Attempts, "no attempt of the create itself")
}
