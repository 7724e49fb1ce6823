package batch

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// RunOne sends a job once, by Run's table: placed; then passed over.
func TestRunOnePlacesOnceThenSkips(t *testing.T) {
	srv, tel, _ := sandbox(t)
	j := NewMemJournal()
	r := &Runner{TEL4VN: tel, Journal: j, RunID: "one"}
	job := otpJobs(1)[0]
	out, err := r.RunOne(context.Background(), job)
	require.NoError(t, err)
	assert.Equal(t, Placed, out.State)
	assert.NotEmpty(t, out.Record.CallIDs)
	out, err = r.RunOne(context.Background(), job)
	require.NoError(t, err)
	assert.True(t, out.Skipped)
	assert.Equal(t, Placed, out.State)
	assert.Len(t, srv.Calls(), 1)
}

// A 429 is one try: the job is left Unsent (rate) with the Retry-After, for
// the caller to send again after the pause, and nothing is resent now.
func TestRunOneRateLimitedIsOneTry(t *testing.T) {
	srv, tel, _ := sandbox(t)
	path := "/api/v2/campaigns/1/otp"
	srv.FailNext(path, 1, autocalltest.Fault{Status: 429, Body: `{"status_code":429,"message":"rate_limit_exceeded"}`,
		Header: http.Header{"Retry-After": {"3"}}})
	var told []time.Duration
	r := &Runner{TEL4VN: tel, Journal: NewMemJournal(), RunID: "one",
		OnRateLimit: func(d time.Duration) { told = append(told, d) }}
	out, err := r.RunOne(context.Background(), otpJobs(1)[0])
	require.NoError(t, err)
	require.Len(t, told, 1, "the engine is told of the 429 before the job is settled")
	assert.InDelta(t, 3*time.Second, told[0], float64(500*time.Millisecond))
	assert.Equal(t, Unsent, out.State)
	assert.Equal(t, CauseRate, out.Record.Cause)
	assert.InDelta(t, 3*time.Second, out.RetryAfter, float64(500*time.Millisecond))
	assert.Nil(t, out.Halt)
	assert.Equal(t, 1, srv.Count(path), "sent once")
}

// An advertising job outside the hours is deferred with when it may go.
func TestRunOneDefersOutsideHours(t *testing.T) {
	srv, tel, _ := sandbox(t)
	at := time.Date(2026, 12, 1, 17, 30, 0, 0, Vietnam())
	r := &Runner{TEL4VN: tel, Journal: NewMemJournal(), RunID: "one", Now: func() time.Time { return at }}
	job := otpJobs(1)[0]
	job.Purpose = Advertising
	out, err := r.RunOne(context.Background(), job)
	require.NoError(t, err)
	assert.Equal(t, Unsent, out.State)
	require.NotNil(t, out.Deferred)
	assert.Equal(t, time.Date(2026, 12, 2, 8, 0, 0, 0, Vietnam()), out.Deferred.NotBefore)
	assert.Empty(t, srv.Calls())
}

// With LeaseRenewed, RunOne sends only under a lease with a quarter of its
// ttl left, as Run does: a stale or missing renewal sends nothing, writes
// the claim back Unsent and halts with ErrLeaseLost.
func TestRunOneChecksTheCallersLease(t *testing.T) {
	for _, tc := range []struct {
		name    string
		renewed time.Duration // ago; <0: never
		placed  bool
	}{
		{"fresh", 10 * time.Millisecond, true},
		{"just in time", 700 * time.Millisecond, true},
		{"stale", 800 * time.Millisecond, false},
		{"never", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, tel, _ := sandbox(t)
			at := time.Now().Add(-tc.renewed)
			if tc.renewed < 0 {
				at = time.Time{}
			}
			j := NewMemJournal()
			require.NoError(t, j.Lease(context.Background(), "one", time.Minute))
			r := &Runner{TEL4VN: tel, Journal: j, RunID: "one", LeaseTTL: time.Second,
				LeaseRenewed: func() time.Time { return at }}
			out, err := r.RunOne(context.Background(), otpJobs(1)[0])
			require.NoError(t, err)
			if tc.placed {
				assert.Equal(t, Placed, out.State)
				assert.Len(t, srv.Calls(), 1)
				assert.Nil(t, out.Halt)
				return
			}
			assert.Equal(t, Unsent, out.State)
			assert.ErrorIs(t, out.Halt, ErrLeaseLost)
			assert.Empty(t, srv.Calls(), "nothing sent under a lapsed lease")
			rec, ok, err := j.Get(context.Background(), "order-0")
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, Unsent, rec.State, "the claim is written back")
		})
	}
}

// An advertising job authenticates before its create (the hours are
// checked with the token in hand): a token that cannot be had leaves the
// job Unsent with CauseToken, not Unknown, since no create left.
func TestRunOneAdvertisingWithoutATokenIsUnsent(t *testing.T) {
	srv, tel, _ := sandbox(t)
	srv.FailNext("/api/v1/users/generate_access_token", 20, autocalltest.Fault{Status: 503, Body: `{"error":"down"}`})
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, Vietnam())
	r := &Runner{TEL4VN: tel, Journal: NewMemJournal(), RunID: "one", Now: func() time.Time { return at }}
	job := otpJobs(1)[0]
	job.Purpose = Advertising
	out, err := r.RunOne(context.Background(), job)
	require.NoError(t, err)
	assert.Equal(t, Unsent, out.State, "no create left: %+v", out.Record)
	assert.Equal(t, CauseToken, out.Record.Cause)
	assert.Zero(t, srv.Count("/api/v2/campaigns/1/otp"))
}

// vanishing is a journal whose records read as gone (compacted away).
type vanishing struct{ Journal }

func (vanishing) Get(context.Context, string) (Record, bool, error) { return Record{}, false, nil }

// A lapsed lease found the claim's record gone: nothing was sent, and the
// job reads Unsent by a written rule, not as a skip of an empty record.
func TestRunOneLeaseLapsedRecordGoneIsUnsent(t *testing.T) {
	srv, tel, _ := sandbox(t)
	j := NewMemJournal()
	require.NoError(t, j.Lease(context.Background(), "one", time.Minute))
	r := &Runner{TEL4VN: tel, Journal: vanishing{j}, RunID: "one", LeaseTTL: time.Second, ClaimDirectly: true,
		LeaseRenewed: func() time.Time { return time.Now().Add(-time.Hour) }}
	out, err := r.RunOne(context.Background(), otpJobs(1)[0])
	require.NoError(t, err)
	assert.Equal(t, Unsent, out.State)
	assert.False(t, out.Skipped)
	assert.Empty(t, srv.Calls())
}
