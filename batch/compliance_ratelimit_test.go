package batch

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

// An advertising job answered 429 just before 17:00 is not sent again
// after it: the SDK leaves the resend to the batch, which checks the
// window again once the pause is over.
func TestAdvertisingRateLimitedAtTheCloseIsNotResentAfterIt(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 16, 59, 59, 0, Vietnam())
	srv := autocalltest.NewServer(autocalltest.WithStartTime(t0))
	defer srv.Close()
	tel, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey))
	require.NoError(t, err)
	t.Cleanup(tel.CloseIdleConnections)
	srv.FailNext(otpPath, 1, autocalltest.Fault{Status: 429, Body: `{"message":"too many"}`,
		Header: http.Header{"Retry-After": {"1"}}})
	// The clock passes 17:00 once the first create has been answered.
	now := func() time.Time {
		if srv.Count(otpPath) > 0 {
			return t0.Add(2 * time.Second)
		}
		return t0
	}
	j, _ := openTemp(t)
	rep, err := (&Runner{TEL4VN: tel, Journal: j, Now: now}).Run(ctx, []Job{adJob("late", "0912000013")})
	require.NoError(t, err)
	assertAddsUp(t, rep)
	assert.Equal(t, 1, srv.Count(otpPath), "no create after 17:00")
	assert.Empty(t, srv.Calls())
	assert.Equal(t, 1, rep.Unsent)
	require.Len(t, rep.Deferred, 1)
	assert.Equal(t, CauseHours, rep.Deferred[0].Cause)
	assert.Equal(t, time.Date(2026, 12, 2, 8, 0, 0, 0, Vietnam()), rep.Deferred[0].NotBefore)
}

// peerListsLate is a Do-Not-Call service that lists every number, but
// answers only after a peer, whose list did not have it, claimed the job
// for its call.
type peerListsLate struct {
	j    Journal
	peer ClaimRequest
}

func (p peerListsLate) Listed(ctx context.Context, _ string) (bool, error) {
	ok, _, err := p.j.Claim(ctx, p.peer)
	if err != nil || !ok {
		return false, fmt.Errorf("the peer's claim: %v %v", ok, err)
	}
	return true, nil
}

// A Do-Not-Call refusal is written under a claim: a peer that claimed the
// job meanwhile (its call in flight) keeps its claim, and the number stays
// held by it.
func TestDoNotCallRefusalNeverOverwritesAPeersClaim(t *testing.T) {
	srv, tel := clockSandbox(t, hcm(1, 10, 0, 0))
	j, _ := openTemp(t)
	peer := ClaimRequest{Record: Record{Key: "k", Kind: "otp", Campaign: "1", Phones: []string{"0912000013"}, Purpose: Advertising,
		Time: srv.Now(), Run: "peer"}, Interval: DefaultInterval}
	r := &Runner{TEL4VN: tel, Journal: j, Now: srv.Now, Policy: &Policy{DoNotCall: peerListsLate{j: j, peer: peer}}}
	rep, err := r.Run(ctx, []Job{adJob("k", "0912000013")})
	require.NoError(t, err)
	assertAddsUp(t, rep)
	assert.Zero(t, rep.Refused, "the refusal did not overwrite the peer's claim")
	assert.Equal(t, Claimed, recordOf(t, j, "k").State)
	assert.Empty(t, srv.Calls())
}

// A run that meets a job deferred until a time still to come writes
// nothing for it: an overnight cron every five minutes leaves the journal
// as it was. Once the time has come, the job goes.
func TestDeferredJobsCostNoWriteUntilTheyMayGo(t *testing.T) {
	srv, tel := clockSandbox(t, hcm(1, 18, 0, 0))
	j, path := openTemp(t)
	r := &Runner{TEL4VN: tel, Journal: j, Now: srv.Now}
	jobs := []Job{adJob("a", "0912000013"), adJob("b", "0912000023")}
	rep, err := r.Run(ctx, jobs)
	require.NoError(t, err)
	require.Len(t, rep.Deferred, 2)
	before, err := os.Stat(path)
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		srv.Advance(5 * time.Minute)
		rep, err = r.Run(ctx, jobs)
		require.NoError(t, err)
		assertAddsUp(t, rep)
		assert.Len(t, rep.Deferred, 2)
		assert.Equal(t, time.Date(2026, 12, 2, 8, 0, 0, 0, Vietnam()), rep.Deferred[0].NotBefore.In(Vietnam()))
	}
	after, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, before.Size(), after.Size(), "no record written for jobs still deferred")

	// Agreed to the hours since: it goes now.
	agreed := adJob("a", "0912000013")
	agreed.Agreed = AgreedHours
	rep, err = r.Run(ctx, []Job{agreed})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed)

	srv.Advance(14 * time.Hour) // 8:15 the next day
	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed, "b goes when the window opens")
	assert.Len(t, srv.Calls(), 2)
}
