package batch

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
)

// peerAfterGet is a journal on which a peer acts right after the first
// Get: between Resolve's (or a run's) read and its write.
type peerAfterGet struct {
	*FileJournal
	peer func()
}

func (p *peerAfterGet) Get(ctx context.Context, key string) (Record, bool, error) {
	rec, ok, err := p.FileJournal.Get(ctx, key)
	if f := p.peer; f != nil {
		p.peer = nil
		f()
	}
	return rec, ok, err
}

// A refused job is resolved unsent while a peer's run retries it and
// places it: Resolve must not overwrite Placed (the next run would call
// the customer again).
func TestResolveDoesNotOverwriteAPeersOutcome(t *testing.T) {
	j, _ := openTemp(t)
	claimSettle(t, j, Record{Key: "k", Kind: "otp", State: Refused, Cause: CauseQuota})
	pj := &peerAfterGet{FileJournal: j, peer: func() {
		claimSettleRetry(t, j, Record{Key: "k", State: Placed, CallIDs: []string{"1_1_1_1_u_84912000003"}}, Resend{Causes: []string{CauseQuota}})
	}}
	err := Resolve(ctx, pj, "k", Unsent)
	assert.ErrorIs(t, err, ErrChanged)
	rec, _, _ := j.Get(ctx, "k")
	assert.Equal(t, Placed, rec.State)
	assert.Equal(t, []string{"1_1_1_1_u_84912000003"}, rec.CallIDs)

	// Nothing in the way: the record is the one read, and it is written.
	claimSettle(t, j, Record{Key: "u", Kind: "otp", Campaign: "1", State: Unknown})
	require.NoError(t, Resolve(ctx, j, "u", Unsent))
	rec, _, _ = j.Get(ctx, "u")
	assert.Equal(t, Unsent, rec.State)
	assert.Equal(t, "1", rec.Campaign, "kept from the claim")
}

// A job in flight at a live run is not resolved: its run will settle it.
func TestResolveRefusesALiveClaim(t *testing.T) {
	j, _ := openTemp(t)
	mustClaimAs(t, j, "k", "r")
	err := Resolve(ctx, j, "k", Placed)
	assert.ErrorIs(t, err, ErrNotUnknown)
	assert.Equal(t, Claimed, recordOf(t, j, "k").State)
}

func TestResolveSaysWhatIsAllowed(t *testing.T) {
	j, _ := openTemp(t)
	claimSettle(t, j, Record{Key: "r", State: Refused, Cause: CauseQuota})
	claimSettle(t, j, Record{Key: "p", State: Placed})
	err := Resolve(ctx, j, "r", Placed)
	assert.ErrorIs(t, err, ErrNotUnknown)
	assert.Contains(t, err.Error(), "resolved only to unsent")
	assert.NotContains(t, err.Error(), "not unknown")
	err = Resolve(ctx, j, "p", Unsent)
	assert.ErrorIs(t, err, ErrNotUnknown)
	assert.Contains(t, err.Error(), "the job is placed")
}

// A bad row whose key a peer places meanwhile is not recorded Refused
// over the peer's Placed: it is claimed first, as a send is.
func TestBadRowDoesNotOverwriteAPeersOutcome(t *testing.T) {
	j, _ := openTemp(t)
	pj := &peerAfterGet{FileJournal: j, peer: func() {
		claimSettle(t, j, Record{Key: "k", State: Placed, CallIDs: []string{"1_1_1_1_u_84912000003"}})
	}}
	bad := Job{Key: "k", Op: OTP("1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"12345"}, TemplateName: "otp", Code: "1"})}
	rep, err := (&Runner{TEL4VN: &autocall.Client{}, Journal: pj, Workers: 1}).Run(ctx, []Job{bad})
	require.NoError(t, err)
	rec, _, _ := j.Get(ctx, "k")
	assert.Equal(t, Placed, rec.State, "reason: %s", rec.Reason)
	assert.Equal(t, 1, rep.AlreadyPlaced)

	// With nobody in the way it is claimed, then refused.
	rep, err = (&Runner{TEL4VN: &autocall.Client{}, Journal: j, Workers: 1}).Run(ctx, []Job{{Key: "b", Op: bad.Op}})
	require.NoError(t, err)
	rec, _, _ = j.Get(ctx, "b")
	assert.Equal(t, Refused, rec.State)
	assert.Equal(t, CausePhone, rec.Cause)
	assert.Equal(t, 1, rep.Refused)
}

func claimSettle(t *testing.T, j Journal, rec Record) {
	t.Helper()
	claimSettleRetry(t, j, rec, Resend{})
}

func claimSettleRetry(t *testing.T, j Journal, rec Record, retry Resend) {
	t.Helper()
	ok, cur, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: rec.Key, Kind: rec.Kind, Campaign: rec.Campaign}, Resend: retry})
	require.NoError(t, err)
	require.True(t, ok, "claim of %s: %+v", rec.Key, cur)
	require.NoError(t, j.Settle(ctx, rec))
}
