package batch

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
)

// Issue #25.3: peers that die during a run (SIGKILL: their lease is
// never renewed nor ended) leave claims that a survivor reports Unknown,
// not Elsewhere, once the lease lapsed; a live peer's claims are
// Elsewhere.
func TestReportCountsALapsedPeersClaimsUnknown(t *testing.T) {
	_, tel, _ := sandbox(t)
	j := NewMemJournal()
	dead, live := j.Peer(), j.Peer()
	require.NoError(t, dead.Lease(ctx, "dead", 100*time.Millisecond))
	require.NoError(t, live.Lease(ctx, "live", time.Hour))
	jobs := otpJobs(5)
	mustClaimAs(t, dead, jobs[0].Key, "dead") // before this run started
	r := &Runner{TEL4VN: tel, Journal: j, Workers: 1, Progress: func(p Progress) {
		switch p.Done {
		case 1: // the peers claim while this run goes on
			mustClaimAs(t, dead, jobs[4].Key, "dead")
			mustClaimAs(t, live, jobs[3].Key, "live")
		case p.Total:
			time.Sleep(200 * time.Millisecond) // the dead peer's lease lapses before the end
		}
	}}
	rep, err := r.Run(ctx, jobs)
	require.NoError(t, err)
	assertAddsUp(t, rep)
	assert.Equal(t, []string{jobs[0].Key, jobs[4].Key}, rep.UnknownKeys, "the dead peer's claims")
	assert.Equal(t, 2, rep.StillUnknown)
	assert.Equal(t, []string{jobs[3].Key}, rep.ElsewhereKeys, "the live peer's claim")
	assert.Equal(t, 2, rep.Placed)
	rec, _, _ := j.Get(ctx, jobs[4].Key)
	assert.Equal(t, Unknown, rec.State)
	assert.Contains(t, rec.Reason, "dead", "the reason names the run")
}

func mustClaimAs(t *testing.T, j Journal, key, run string) {
	t.Helper()
	ok, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: key, Kind: "otp", Run: run}})
	require.NoError(t, err)
	require.True(t, ok)
}

// A run renews its lease while a job is in flight longer than LeaseTTL:
// a peer reads the claim as Claimed throughout; the run ends the lease
// when it finishes.
func TestRunnerRenewsItsLease(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"campaign_id":"1","results":{"success":["1_1_1_1_x_0912000003"],"fail":[]}}}`)
	}))
	t.Cleanup(srv.Close)
	c, err := autocall.NewClient(srv.URL, autocall.WithAccessToken("t"), autocall.WithProvider(autocall.TEL4VN))
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)

	j := NewMemJournal()
	peer := j.Peer()
	done := make(chan *Report)
	go func() {
		rep, err := (&Runner{TEL4VN: c, Journal: j, RunID: "slow", LeaseTTL: 150 * time.Millisecond}).Run(ctx, otpJobs(1))
		assert.NoError(t, err)
		done <- rep
	}()
	require.Eventually(t, func() bool { _, ok, _ := peer.Get(ctx, "order-0"); return ok }, 5*time.Second, 5*time.Millisecond)
	for i := 0; i < 4; i++ { // 600 ms: four times the ttl
		time.Sleep(150 * time.Millisecond)
		rec, _, _ := peer.Get(ctx, "order-0")
		require.Equal(t, Claimed, rec.State, "a live run's claim, after %d ttl", i+1)
	}
	close(release)
	rep := <-done
	assert.Equal(t, 1, rep.Placed)
	// Ended: a claim under its name now reads as a dead run's.
	mustClaimAs(t, j.Peer(), "late", "slow")
	rec, _, _ := peer.Get(ctx, "late")
	assert.Equal(t, Unknown, rec.State)
}
