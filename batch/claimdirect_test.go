package batch

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingGets counts the journal's Get calls.
type countingGets struct {
	Journal
	gets atomic.Int32
}

func (c *countingGets) Get(ctx context.Context, key string) (Record, bool, error) {
	c.gets.Add(1)
	return c.Journal.Get(ctx, key)
}

// ClaimDirectly skips the read before the claim and ends each job as the
// read would have: the claim finds what is in its way.
func TestRunOneClaimDirectlyEndsAsTheRead(t *testing.T) {
	type seed func(t *testing.T, j Journal, key string)
	settle := func(state State, cause string) seed {
		return func(t *testing.T, j Journal, key string) {
			ok, _, err := j.Claim(context.Background(), ClaimRequest{Record: Record{Key: key, Run: "earlier", Time: time.Now()}})
			require.NoError(t, err)
			require.True(t, ok)
			require.NoError(t, j.Settle(context.Background(), Record{Key: key, State: state, Cause: cause, Run: "earlier", Time: time.Now()}))
		}
	}
	cases := []struct {
		name         string
		seed         seed
		retryRefused bool
		want         State
		skipped      bool
		inFlight     bool
		calls        int
	}{
		{name: "new key", want: Placed, calls: 1},
		{name: "placed before", seed: settle(Placed, ""), want: Placed, skipped: true},
		{name: "refused before", seed: settle(Refused, CauseTemplate), want: Refused, skipped: true},
		{name: "refused before, sent again", seed: settle(Refused, CauseTemplate), retryRefused: true, want: Placed, calls: 1},
		{name: "unknown before", seed: settle(Unknown, ""), want: Unknown, skipped: true},
		{name: "unsent before", seed: settle(Unsent, CauseNetwork), want: Placed, calls: 1},
		{name: "in flight elsewhere", seed: func(t *testing.T, j Journal, key string) {
			require.NoError(t, j.Lease(context.Background(), "peer", time.Minute))
			ok, _, err := j.Claim(context.Background(), ClaimRequest{Record: Record{Key: key, Run: "peer", Time: time.Now()}})
			require.NoError(t, err)
			require.True(t, ok)
		}, want: Unknown, skipped: true, inFlight: true},
	}
	for _, tc := range cases {
		for _, direct := range []bool{false, true} {
			name := tc.name
			if direct {
				name += "/claim directly"
			}
			t.Run(name, func(t *testing.T) {
				srv, tel, _ := sandbox(t)
				j := &countingGets{Journal: NewMemJournal()}
				job := otpJobs(1)[0]
				if tc.seed != nil {
					tc.seed(t, j.Journal, job.Key)
				}
				r := &Runner{TEL4VN: tel, Journal: j, RunID: "one", RetryRefused: tc.retryRefused, ClaimDirectly: direct}
				out, err := r.RunOne(context.Background(), job)
				require.NoError(t, err)
				assert.Equal(t, tc.want, out.State)
				assert.Equal(t, tc.skipped, out.Skipped)
				assert.Equal(t, tc.inFlight, out.InFlight)
				assert.Len(t, srv.Calls(), tc.calls)
				if direct {
					assert.Zero(t, j.gets.Load(), "no read before the claim")
				} else {
					assert.NotZero(t, j.gets.Load())
				}
			})
		}
	}
}
