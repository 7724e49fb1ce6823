package autocallredis

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

func adJobs(prefix string, n, numbers int) []batch.Job {
	out := make([]batch.Job, n)
	for i := range out {
		out[i] = batch.Job{Key: fmt.Sprintf("%s-%03d", prefix, i), Purpose: batch.Advertising,
			Op: batch.OTP("1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{phone(i % numbers)},
				TemplateName: "khuyen_mai", Code: "KM"})}
	}
	return out
}

// adClaim is an advertising claim of key to one number, now, held to one
// call a day.
func adClaim(key string) batch.ClaimRequest {
	return batch.ClaimRequest{Record: batch.Record{Key: key, Kind: "otp", Purpose: batch.Advertising, Phones: []string{"0987654321"},
		Time: time.Now()}, Interval: 24 * time.Hour}
}

// Two hosts, each with its own Redis client and journal value, run
// advertising jobs at the same moment, many to each of a few numbers: the
// index, checked in the claim script, lets one call through per number;
// a day later, one more.
func TestTwoHostsOneNumber(t *testing.T) {
	s := startRedis(t, t.TempDir(), 0)
	vn := time.FixedZone("ICT", 7*3600)
	sb := autocalltest.NewServer(autocalltest.WithStartTime(time.Date(2026, 12, 1, 10, 0, 0, 0, vn)))
	t.Cleanup(sb.Close)
	const numbers = 5

	run := func(host string, jobs []batch.Job) *batch.Report {
		c, err := autocall.NewClient(sb.URL, autocall.WithSecretKey(autocalltest.SecretKey))
		require.NoError(t, err)
		defer c.CloseIdleConnections()
		r := &batch.Runner{TEL4VN: c, Journal: NewJournal(s.client(t), "campaign"), Workers: 8, Now: sb.Now, RunID: host}
		rep, err := r.Run(ctx, jobs)
		require.NoError(t, err)
		return rep
	}
	both := func(a, b []batch.Job) (*batch.Report, *batch.Report) {
		var ra, rb *batch.Report
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); ra = run("host-a", a) }()
		go func() { defer wg.Done(); rb = run("host-b", b) }()
		wg.Wait()
		return ra, rb
	}

	// Different job lists, the same numbers.
	ra, rb := both(adJobs("a", 40, numbers), adJobs("b", 40, numbers))
	assert.Equal(t, numbers, ra.Placed+rb.Placed)
	assert.Equal(t, 80-numbers, len(ra.Deferred)+len(rb.Deferred))
	for p, n := range callsPerPhone(sb) {
		assert.Equal(t, 1, n, "%s called %d times within 24 hours", p, n)
	}
	for _, d := range append(ra.Deferred, rb.Deferred...) {
		assert.Equal(t, batch.CauseFrequency, d.Cause)
		assert.True(t, d.NotBefore.Equal(time.Date(2026, 12, 2, 10, 0, 0, 0, vn)), "%v", d.NotBefore)
	}
	rec, ok, err := NewJournal(s.client(t), "campaign").Get(ctx, ra.Deferred[0].Key)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, batch.Unsent, rec.State)
	assert.Equal(t, batch.CauseFrequency, rec.Cause)
	assert.Equal(t, batch.Advertising, rec.Purpose)

	// The same list on both hosts, as a shared batch runs: still one call a number.
	sb.Advance(time.Hour)
	shared := adJobs("c", 20, numbers)
	ra, rb = both(shared, shared)
	assert.Zero(t, ra.Placed+rb.Placed, "each number was called an hour ago")
	assert.Len(t, sb.Calls(), numbers)

	// 24 hours after the first calls, one more call a number, whoever makes it.
	sb.Advance(23 * time.Hour)
	ra, rb = both(shared, shared)
	assert.Equal(t, numbers, ra.Placed+rb.Placed)
	for p, n := range callsPerPhone(sb) {
		assert.Equal(t, 2, n, "%s: one call a day", p)
	}
}

// A refused call called nobody: its number is free for the next job; a
// subscriber who agreed to more calls is called again.
func TestAdvertisingIndexRefusedAndAgreed(t *testing.T) {
	s := startRedis(t, t.TempDir(), 0)
	sb := autocalltest.NewServer()
	t.Cleanup(sb.Close)
	sb.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Status: 400, Body: `{"message":"invalid_phone_number"}`})
	c, err := autocall.NewClient(sb.URL, autocall.WithSecretKey(autocalltest.SecretKey),
		autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	r := &batch.Runner{TEL4VN: c, Journal: NewJournal(s.client(t), "refused"), Now: sb.Now, Policy: &batch.Policy{Opens: 0, Closes: 24 * time.Hour}}
	rep, err := r.Run(ctx, adJobs("a", 1, 1))
	require.NoError(t, err)
	require.Equal(t, 1, rep.Refused)
	rep, err = r.Run(ctx, adJobs("b", 1, 1))
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed)
	agreed := adJobs("c", 1, 1)
	agreed[0].Agreed = batch.AgreedFrequency
	rep, err = r.Run(ctx, append(agreed, adJobs("d", 1, 1)...))
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed, "the subscriber who agreed is called again")
	require.Len(t, rep.Deferred, 1)
	assert.Equal(t, "d-000", rep.Deferred[0].Key)
	n, err := s.client(t).HLen(ctx, subKey("autocall:journal:refused", "advertising")).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	assert.Equal(t, "autocall:{autocall:journal:x}:advertising", subKey("autocall:journal:x", "advertising"))
	assert.Equal(t, "autocall:journal:{tag}:advertising", subKey("autocall:journal:{tag}", "advertising"), "the journal's own hash tag")
}

// A claim script's answer of another shape than {"held", phone, until} is
// an error naming it, not a panic of the worker.
func TestDeferClaimOddAnswer(t *testing.T) {
	j := NewJournal(nil, "odd")
	for _, held := range [][]any{{"held"}, {"held", "0987654321"}, {"held", "0987654321", "soon"}} {
		ok, _, err := j.deferClaim(ctx, batch.Record{Key: "k"}, held, nil)
		require.Error(t, err, "%v", held)
		assert.False(t, ok)
		assert.Contains(t, err.Error(), "claiming k: the script answered")
	}
}

// The index forgets a job's call only for the written rule (Unsent,
// Refused); a state it does not know counts as a call, as in the file
// journal.
func TestAdvertisingIndexCountsAStateItDoesNotKnowAsACall(t *testing.T) {
	s := startRedis(t, t.TempDir(), 0)
	j := NewJournal(s.client(t), "mystery")
	ok, _, err := j.Claim(ctx, adClaim("a"))
	require.NoError(t, err)
	require.True(t, ok)
	settled := adClaim("a").Record
	settled.State = batch.State("escalated") // a state a later version may write
	require.NoError(t, j.Settle(ctx, settled))
	n, err := s.client(t).HLen(ctx, subKey("autocall:journal:mystery", "advertising")).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "the number stays held")
}

// Issue #25.8: the index drops calls older than the interval (at least 24
// hours) as claims go, the claim's own phones and a bounded sweep of
// others, instead of growing until Expire.
func TestAdvertisingIndexDropsOldCalls(t *testing.T) {
	s := startRedis(t, t.TempDir(), 0)
	rdb := s.client(t)
	j := NewJournal(rdb, "pruned")
	ads := subKey("autocall:journal:pruned", "advertising")
	old, recent := time.Now().Add(-25*time.Hour).UnixMilli(), time.Now().Add(-time.Hour).UnixMilli()
	require.NoError(t, rdb.HSet(ctx, ads,
		"0987654321", fmt.Sprintf(`{"stale":%d}`, old),
		"0900000001", fmt.Sprintf(`{"stale":%d}`, old),
		"0900000002", fmt.Sprintf(`{"stale":%d,"fresh":%d}`, old, recent)).Err())
	ok, _, err := j.Claim(ctx, adClaim("a"))
	require.NoError(t, err)
	require.True(t, ok, "a call 25 hours ago holds nothing back")
	all, err := rdb.HGetAll(ctx, ads).Result()
	require.NoError(t, err)
	assert.NotContains(t, all["0987654321"], "stale")
	assert.Contains(t, all["0987654321"], `"a":`)
	assert.NotContains(t, all, "0900000001", "swept: nothing left for that number")
	assert.Equal(t, fmt.Sprintf(`{"fresh":%d}`, recent), all["0900000002"], "a call within the day stays")
}
