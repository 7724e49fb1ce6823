package batch

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
)

// Keys A (claimed first) and B, both unknown, one campaign and phone; B is
// resolved Placed by hand, without call ids; then B's call event arrives.
// It may be B's call, so it settles nothing: A stays Unknown rather than
// Placed with B's call id, which would hide A's failed call.
func TestSettleFromEventsAmbiguousWithAJobPlacedByHand(t *testing.T) {
	j, _ := openTemp(t)
	phone := "0912000013"
	claim := func(key string) {
		ok, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: key, Kind: "otp", Campaign: "1", Phones: []string{phone}}, Resend: Resend{}})
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, j.Settle(ctx, Record{Key: key, State: Unknown, Reason: "timeout"}))
	}
	claim("A")
	claim("B")
	require.NoError(t, Resolve(ctx, j, "B", Placed))
	ev := &autocall.CallEvent{CallID: "1_1_1_7_uuid_84912000013", CampaignID: "1", Phone: phone, StartedAt: time.Now().Add(time.Second)}
	keys, err := SettleFromEvents(ctx, j, []*autocall.CallEvent{ev})
	require.NoError(t, err)
	assert.Empty(t, keys)
	a, _, _ := j.Get(ctx, "A")
	assert.Equal(t, Unknown, a.State)
	assert.Empty(t, a.CallIDs)

	// A job of that phone claimed only after the event is no rival: the
	// event settles A.
	ok, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: "later", Kind: "otp", Campaign: "1", Phones: []string{phone}, Time: time.Now().Add(time.Hour)}, Resend: Resend{}})
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, j.Settle(ctx, Record{Key: "later", State: Placed, CallIDs: []string{"1_1_1_9_u_84912000013"}}))
	j2, _ := openTemp(t)
	for _, key := range []string{"A", "later"} {
		rec, _, _ := j.Get(ctx, key)
		ok, _, err := j2.Claim(ctx, ClaimRequest{Record: Record{Key: key, Kind: "otp", Campaign: "1", Phones: []string{phone}, Time: rec.ClaimedAt}, Resend: Resend{}})
		require.NoError(t, err)
		require.True(t, ok)
		rec.CallIDs = nil // "later" placed by hand, without ids
		require.NoError(t, j2.Settle(ctx, rec))
	}
	keys, err = SettleFromEvents(ctx, j2, []*autocall.CallEvent{ev})
	require.NoError(t, err)
	assert.Equal(t, []string{"A"}, keys)
}

// Providers write a call's time to the second: a call made in its claim's
// own second reads as earlier than the claim (claimed 10:00:00.700, called
// "10:00:00"). It is still the job's call; one from the second before is not.
func TestSettleFromEventsInTheClaimsSecond(t *testing.T) {
	j := NewMemJournal()
	phone := "0912000014"
	claimed := time.Date(2026, 12, 1, 10, 0, 0, 700_000_000, Vietnam())
	ok, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: "A", Kind: "otp", Campaign: "1", Phones: []string{phone}, Time: claimed}})
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, j.Settle(ctx, Record{Key: "A", State: Unknown, Reason: "timeout"}))

	before := &autocall.CallEvent{CallID: "1_1_1_7_u_84912000014", CampaignID: "1", Phone: phone, StartedAt: claimed.Truncate(time.Second).Add(-time.Second)}
	keys, err := SettleFromEvents(ctx, j, []*autocall.CallEvent{before})
	require.NoError(t, err)
	assert.Empty(t, keys, "a call from the second before the claim is not its call")

	same := &autocall.CallEvent{CallID: "1_1_1_8_u_84912000014", CampaignID: "1", Phone: phone, StartedAt: claimed.Truncate(time.Second)}
	keys, err = SettleFromEvents(ctx, j, []*autocall.CallEvent{same})
	require.NoError(t, err)
	assert.Equal(t, []string{"A"}, keys)
	rec, _, _ := j.Get(ctx, "A")
	assert.Equal(t, Placed, rec.State)
	assert.Equal(t, []string{string(same.CallID)}, rec.CallIDs)
}
