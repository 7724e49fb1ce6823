package batch

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A job met after its run stopped (RunOne's ctx ended: River's
// StopAndCancel, a JobTimeout) is not claimed; a settled one still reads
// as what the journal holds, with or without ClaimDirectly ("the outcome
// is the same"): claiming directly, the stop path reads it (without the
// read, a placed job read as nothing recorded, River snoozed it instead of
// completing it, and Run's report counted it unsent).
func TestRunOneClaimDirectlyStoppedReadsTheSettledState(t *testing.T) {
	for _, direct := range []bool{false, true} {
		srv, tel, _ := sandbox(t)
		j := NewMemJournal()
		job := otpJobs(1)[0]
		ok, _, err := j.Claim(context.Background(), ClaimRequest{Record: Record{Key: job.Key, Run: "earlier", Time: time.Now()}})
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, j.Settle(context.Background(), Record{Key: job.Key, State: Placed, Run: "earlier", Time: time.Now()}))
		stopped, cancel := context.WithCancel(context.Background())
		cancel()
		r := &Runner{TEL4VN: tel, Journal: j, RunID: "one", ClaimDirectly: direct}
		out, err := r.RunOne(stopped, job)
		require.NoError(t, err)
		assert.Equal(t, Placed, out.State, "claim directly: %v", direct)
		assert.True(t, out.Skipped, "claim directly: %v", direct)
		assert.Empty(t, srv.Calls())
	}
}
