package batch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

func ttsJob(key, template string, i int) Job {
	return Job{Key: key, Op: TTS("1", &autocall.TTSRequest{Caller: "02873001234", Callees: []string{phone(i)},
		TemplateName: template, Params: map[string]string{"tên": "Nguyễn Văn A"}})}
}

// Item 1, 5: a TTS job whose template was never imported is answered 200
// with every callee in results.fail: it is Refused (template), never
// Placed; once the template is imported, retrying the template cause (not
// another) sends it, once.
func TestEveryCalleeRefusedIsRefusedAndRetriedByCause(t *testing.T) {
	srv, tel, _ := sandbox(t)
	j, _ := openTemp(t)
	jobs := []Job{ttsJob("bill-1", "nhac_no", 1)}
	var last error
	rep, err := (&Runner{TEL4VN: tel, Journal: j, Progress: func(p Progress) { last = p.LastErr }}).Run(ctx, jobs)
	require.NoError(t, err)
	require.ErrorIs(t, last, autocall.ErrRefused, "the progress names the refusal")
	assert.Contains(t, last.Error(), "Template Not Found")
	assert.Equal(t, 1, rep.Refused)
	assert.Zero(t, rep.Placed)
	rec, _, _ := j.Get(ctx, "bill-1")
	assert.Equal(t, Refused, rec.State)
	assert.Equal(t, CauseTemplate, rec.Cause)
	assert.Contains(t, rec.Reason, "Template Not Found", "the provider's reason is kept")
	assert.Empty(t, srv.Calls())

	require.NoError(t, tel.TTS.ImportTemplate(ctx, "1", &autocall.Template{Name: "nhac_no", Content: "Chào {{tên}}"}))
	rep, err = (&Runner{TEL4VN: tel, Journal: j, RetryCauses: []string{CauseQuota}}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.AlreadyRefused, "another cause is not retried")
	rep, err = (&Runner{TEL4VN: tel, Journal: j, RetryCauses: []string{CauseTemplate}}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed)
	assert.Len(t, srv.Calls(), 1)
	rep, err = (&Runner{TEL4VN: tel, Journal: j, RetryCauses: []string{CauseTemplate}}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.AlreadyPlaced)
	assert.Len(t, srv.Calls(), 1)
}

// Item 5: refused jobs go again by key, and Resolve moves one to Unsent.
func TestRefusedJobsGoAgainByKeyAndByResolve(t *testing.T) {
	srv, tel, _ := sandbox(t)
	j, _ := openTemp(t)
	srv.SetBalance(0)
	jobs := otpJobs(3)
	rep, err := (&Runner{TEL4VN: tel, Journal: j, Workers: 1}).Run(ctx, jobs)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Refused, "the quota stops the run after the first")
	require.ErrorIs(t, rep.Stopped, autocall.ErrBalanceNotEnough)
	rec, _, _ := j.Get(ctx, "order-0")
	require.Equal(t, CauseQuota, rec.Cause)
	srv.SetBalance(-1) // topped up: no limit
	require.ErrorIs(t, Resolve(ctx, j, "order-0", Placed), ErrNotUnknown, "a refused job placed nothing")

	rep, err = (&Runner{TEL4VN: tel, Journal: j, RetryKeys: []string{"order-1"}}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Placed, "order-1 and order-2, never sent")
	assert.Equal(t, 1, rep.AlreadyRefused, "order-0 is not chosen")

	require.NoError(t, Resolve(ctx, j, "order-0", Unsent))
	rec, _, _ = j.Get(ctx, "order-0")
	assert.Equal(t, Unsent, rec.State)
	assert.Empty(t, rec.Cause)
	rep, err = (&Runner{TEL4VN: tel, Journal: j}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed)
	assert.Equal(t, 2, rep.AlreadyPlaced)
	for p, n := range callsPerPhone(srv) {
		require.Equal(t, 1, n, p)
	}
}

// Item 2: a token fetch that fails leaves every job Unsent, with nothing
// sent; a refused credential stops the batch. The next run sends them.
func TestTokenFailureLeavesJobsUnsent(t *testing.T) {
	srv, tel, _ := sandbox(t)
	wrong, err := autocall.NewClient(srv.URL, autocall.WithSecretKey("not-the-secret"),
		autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	j, _ := openTemp(t)
	jobs := otpJobs(20)
	rep, err := (&Runner{TEL4VN: wrong, Journal: j, Workers: 4}).Run(ctx, jobs)
	require.NoError(t, err)
	assertAddsUp(t, rep)
	assert.Equal(t, 20, rep.Unsent)
	assert.Zero(t, rep.Refused)
	require.ErrorIs(t, rep.Stopped, autocall.ErrUnauthorized)
	assert.Empty(t, srv.Calls())
	recs, _ := j.Records(ctx)
	for _, r := range recs {
		assert.Equal(t, Unsent, r.State, r.Key)
		assert.Equal(t, CauseAuth, r.Cause, r.Key)
	}
	rep, err = (&Runner{TEL4VN: tel, Journal: j, Workers: 4}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 20, rep.Placed)
}

// Item 3: a create answered 200 with a 5xx code may have placed the call:
// unknown, and never sent again, even with RetryRefused.
func TestServerCodeUnder200IsNeverResent(t *testing.T) {
	srv, tel, _ := sandbox(t)
	const path = "/api/v2/campaigns/1/otp"
	srv.FailNext(path, 1, autocalltest.Fault{Process: true, Status: 200, Body: `{"code":500,"status":false}`})
	srv.FailNext(path, 1, autocalltest.Fault{Process: true, Status: 200, Body: `{"data":{"results":{"success":[]}},"code":200,"code":503}`})
	j, _ := openTemp(t)
	jobs := otpJobs(2)
	r := &Runner{TEL4VN: tel, Journal: j, Workers: 1, RetryRefused: true}
	rep, err := r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Unknown)
	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.StillUnknown)
	assert.Len(t, srv.Calls(), 2)
	for p, n := range callsPerPhone(srv) {
		require.Equal(t, 1, n, "%s phoned twice", p)
	}
}

// Item 4: events settle only their own job.
func TestSettleFromEventsMatchesOnlyProvableEvents(t *testing.T) {
	j, _ := openTemp(t)
	claim := func(key, phone string, at time.Time) {
		_, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: key, Kind: "otp", Campaign: "1", Phones: []string{phone}, Time: at}, Resend: Resend{}})
		require.NoError(t, err)
		require.NoError(t, j.Settle(ctx, Record{Key: key, State: Unknown, Reason: "lost answer"}))
	}
	now := time.Now()
	claim("shared-a", "0912000003", now.Add(-time.Minute))
	claim("shared-b", "0912000003", now.Add(-time.Minute)) // two keys, one phone
	claim("today", "0912000013", now.Add(-time.Minute))
	claim("alone", "0912000023", now.Add(-time.Minute))
	// A placed job holds a call id to "alone"'s phone.
	_, _, _ = j.Claim(ctx, ClaimRequest{Record: Record{Key: "placed", Kind: "otp", Campaign: "1", Phones: []string{"0912000023"}}, Resend: Resend{}})
	require.NoError(t, j.Settle(ctx, Record{Key: "placed", State: Placed, CallIDs: []string{"1_1_1_9_u_0912000023"}}))

	events := []*autocall.CallEvent{
		{CallID: "1_1_1_1_u_0912000003", StartedAt: now},                      // whose? two jobs: neither
		{CallID: "1_1_1_2_u_0912000013", StartedAt: now.Add(-24 * time.Hour)}, // yesterday's
		{CallID: "1_1_1_3_u_0912000013"},                                      // no time: cannot tell
		{CallID: "1_1_1_9_u_0912000023", StartedAt: now},                      // the placed job's call
		{CampaignID: "2", Phone: "0912000023", StartedAt: now},                // another campaign
	}
	settled, err := SettleFromEvents(ctx, j, events)
	require.NoError(t, err)
	assert.Empty(t, settled)

	settled, err = SettleFromEvents(ctx, j, []*autocall.CallEvent{
		{CallID: "1_1_1_4_u_0912000013", StartedAt: now},
		{CampaignID: "1", Phone: "0912000023", EndedAt: now},
	})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"today", "alone"}, settled)
	rec, _, _ := j.Get(ctx, "today")
	assert.Equal(t, Placed, rec.State)
	assert.Equal(t, []string{"1_1_1_4_u_0912000013"}, rec.CallIDs)
	for _, k := range []string{"shared-a", "shared-b"} {
		rec, _, _ := j.Get(ctx, k)
		assert.Equal(t, Unknown, rec.State, k)
	}
}

// Item 6: settled jobs never wait for the rate limiter: a re-run of a
// finished list is quick however low the rate, and a new job goes at once.
func TestSettledJobsCostNoRate(t *testing.T) {
	srv, tel, _ := sandbox(t)
	j, _ := openTemp(t)
	jobs := otpJobs(300)
	rep, err := (&Runner{TEL4VN: tel, Journal: j, Workers: 8}).Run(ctx, jobs[:299])
	require.NoError(t, err)
	require.Equal(t, 299, rep.Placed)
	// At 2 a second the 299 settled jobs would take 150 s.
	rep, err = (&Runner{TEL4VN: tel, Journal: j, Workers: 4, Rate: 2}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 299, rep.AlreadyPlaced)
	assert.Equal(t, 1, rep.Placed, "the new job is sent")
	assert.Less(t, rep.Elapsed, 30*time.Second, "settled jobs spent the rate")
	assert.Len(t, srv.Calls(), 300)
}

// Item 6: a rate limit said without a 429 (rate_limit_exceeded in a 400)
// pauses every worker, and the job goes again after it; a Retry-After
// above the client's MaxDelay is honoured up to MaxPause.
func TestRateLimitCodeAndLongRetryAfterPauseTheBatch(t *testing.T) {
	srv, tel, _ := sandbox(t)
	const path = "/api/v2/campaigns/1/otp"
	srv.FailNext(path, 1, autocalltest.Fault{Status: 400, Header: http.Header{"Retry-After": {"2"}},
		Body: `{"messsage":"Bad Request","code":400,"status":false,"data":{"error":"rate_limit_exceeded"}}`})
	j, _ := openTemp(t)
	var mu sync.Mutex
	var paused bool
	r := &Runner{TEL4VN: tel, Journal: j, Workers: 4, Progress: func(p Progress) {
		mu.Lock()
		paused = paused || !p.PausedUntil.IsZero()
		mu.Unlock()
	}}
	start := time.Now()
	rep, err := r.Run(ctx, otpJobs(8))
	require.NoError(t, err)
	assert.Equal(t, 8, rep.Placed, "the refused job went again")
	assert.True(t, paused)
	assert.GreaterOrEqual(t, time.Since(start), 1500*time.Millisecond, "the 2 s Retry-After, above MaxDelay (10 ms), is honoured")
	assert.Len(t, srv.Calls(), 8)
	assert.Equal(t, 9, srv.Count(path), "one refused, then each once")
}

// Item 6: a pause beyond MaxPause stops the run, the rest Unsent, and
// says when to run again.
func TestPauseBeyondMaxPauseStops(t *testing.T) {
	srv, tel, _ := sandbox(t)
	srv.FailNext("/api/v2/campaigns/1/otp", 3, autocalltest.Fault{Status: 429, Header: http.Header{"Retry-After": {"86400"}},
		Body: `{"messsage":"Too Many Requests","code":429,"status":false}`})
	j, _ := openTemp(t)
	done := make(chan struct{})
	var rep *Report
	go func() {
		defer close(done)
		rep, _ = (&Runner{TEL4VN: tel, Journal: j, Workers: 1, MaxPause: time.Second}).Run(ctx, otpJobs(5))
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the batch waits out a day's Retry-After")
	}
	var pe *PauseError
	require.ErrorAs(t, rep.Stopped, &pe)
	assert.ErrorIs(t, rep.Stopped, autocall.ErrRateLimited)
	assert.WithinDuration(t, time.Now().Add(24*time.Hour), pe.Until, time.Minute)
	assert.Contains(t, rep.Stopped.Error(), "run again after")
	assert.Equal(t, 5, rep.Unsent)
	assertAddsUp(t, rep)
	assert.Empty(t, srv.Calls())
}

// Item 7: Close returns with the lock released: reopening at once works.
func TestFileJournalReopensAtOnceAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.journal")
	for i := 0; i < 200; i++ {
		j, err := OpenFile(path)
		require.NoError(t, err, "open %d", i)
		key := fmt.Sprintf("k%d", i)
		_, _, err = j.Claim(ctx, ClaimRequest{Record: Record{Key: key}, Resend: Resend{}})
		require.NoError(t, err)
		require.NoError(t, j.Settle(ctx, Record{Key: key, State: Placed}))
		time.Sleep(time.Duration(i%12) * time.Millisecond) // around the background sync
		require.NoError(t, j.Close())
	}
}

// Item 7: a cut claim read as unknown stays unknown on every later open,
// even when nothing was written in between.
func TestCutClaimStaysUnknown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.journal")
	j, err := OpenFile(path)
	require.NoError(t, err)
	_, _, err = j.Claim(ctx, ClaimRequest{Record: Record{Key: "victim", Kind: "otp", Phones: []string{"0912000003"}}, Resend: Resend{}})
	require.NoError(t, err)
	require.NoError(t, j.Close())
	cutFile(t, path, 5) // the claim line loses its end
	for open := 1; open <= 3; open++ {
		j, err := OpenFile(path)
		require.NoError(t, err)
		rec, ok, _ := j.Get(ctx, "victim")
		require.True(t, ok, "open %d", open)
		assert.Equal(t, Unknown, rec.State, "open %d", open)
		claimed, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: "victim"}, Resend: Resend{Refused: true}})
		require.NoError(t, err)
		assert.False(t, claimed, "open %d: never sendable", open)
		require.NoError(t, j.Close())
	}
}

// Item 8: a job whose outcome could not be written is reported as the
// journal holds it, unknown; never Placed.
func TestReportMatchesTheJournalWhenSettleFails(t *testing.T) {
	_, tel, _ := sandbox(t)
	fj, _ := openTemp(t)
	j := &failingSettle{Journal: fj, fail: "order-2"}
	rep, err := (&Runner{TEL4VN: tel, Journal: j, Workers: 1}).Run(ctx, otpJobs(3))
	require.Error(t, err, "the journal failing is the run's error")
	assert.Equal(t, 2, rep.Placed, "order-2's outcome was not written")
	assert.Contains(t, rep.UnknownKeys, "order-2")
	assert.Equal(t, 1, rep.Unknown)
	rec, _, _ := fj.Get(ctx, "order-2")
	assert.Equal(t, Unknown, readState(rec.State))
	assertAddsUp(t, rep)
}

// A bad row's refusal that could not be written leaves its claim in the journal: the report says Unknown, as the
// journal does, never Unsent or Refused.
func TestReportMatchesTheJournalWhenARefusalCannotBeWritten(t *testing.T) {
	_, tel, _ := sandbox(t)
	fj, _ := openTemp(t)
	j := &failingSettle{Journal: fj, fail: "order-1"}
	jobs := otpJobs(3)
	jobs[1].Op = OTP("1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"not a phone"}, TemplateName: "otp", Code: "1"})
	rep, err := (&Runner{TEL4VN: tel, Journal: j, Workers: 1}).Run(ctx, jobs)
	require.Error(t, err, "the journal failing is the run's error")
	assert.Equal(t, 1, rep.Unknown, "order-1's refusal was not written")
	assert.Equal(t, 0, rep.Refused, "order-2 may be left unsent: the journal failing stops the run")
	assert.Contains(t, rep.UnknownKeys, "order-1")
	rec, _, _ := fj.Get(ctx, "order-1")
	assert.Equal(t, Unknown, readState(rec.State))
	assertAddsUp(t, rep)
}

type failingSettle struct {
	Journal
	fail string
}

func (f *failingSettle) Settle(ctx context.Context, rec Record) error {
	if rec.Key == f.fail {
		return errors.New("disk full")
	}
	return f.Journal.Settle(ctx, rec)
}

// Item 8: a peer's job still in flight (claimed under this run's shared
// RunID) is reported apart from a job left unknown by a dead earlier run;
// one the peer settles during the run counts as it left it. Get and
// Records read a dead claim as Unknown.
func TestReportSeparatesPeersFromDeadRuns(t *testing.T) {
	_, tel, _ := sandbox(t)
	j, path := openTemp(t)
	jobs := otpJobs(6)
	// order-0: claimed by a run that died.
	_, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: "order-0", Run: "dead-run", Time: time.Now().Add(-time.Hour)}, Resend: Resend{}})
	require.NoError(t, err)
	require.NoError(t, j.Close())
	j, err = OpenFile(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	rec, _, _ := j.Get(ctx, "order-0")
	assert.Equal(t, Unknown, rec.State, "Get reads a dead claim as unknown")
	recs, _ := j.Records(ctx)
	assert.Equal(t, Unknown, recs[0].State)
	// order-1 and order-2: a peer of this run has them in flight.
	for _, k := range []string{"order-1", "order-2"} {
		_, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: k, Run: "cron-0600"}, Resend: Resend{}})
		require.NoError(t, err)
	}
	var once sync.Once
	r := &Runner{TEL4VN: tel, Journal: j, Workers: 1, RunID: "cron-0600", Progress: func(Progress) {
		once.Do(func() { // the peer settles order-2 while this run goes on
			_ = j.Settle(ctx, Record{Key: "order-2", State: Placed, CallIDs: []string{"x"}})
		})
	}}
	rep, err := r.Run(ctx, jobs)
	require.NoError(t, err)
	assertAddsUp(t, rep)
	assert.Equal(t, 1, rep.StillUnknown)
	assert.Equal(t, []string{"order-0"}, rep.UnknownKeys)
	assert.Equal(t, 1, rep.Elsewhere)
	assert.Equal(t, []string{"order-1"}, rep.ElsewhereKeys)
	assert.Equal(t, 1, rep.AlreadyPlaced, "order-2, settled by the peer")
	assert.Equal(t, 3, rep.Placed)
}

// cutFile drops the last n bytes of path.
func cutFile(t *testing.T, path string, n int) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b[:len(b)-n], 0o600))
}

// ReadFile reads a journal a run holds, without its lock: that run's
// claims are in flight; once it is closed, a claim left reads as unknown.
func TestReadFileWhileARunHoldsTheJournal(t *testing.T) {
	j, path := openTemp(t)
	_, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: "flying", Phones: []string{"0912000003"}}, Resend: Resend{}})
	require.NoError(t, err)
	_, _, err = j.Claim(ctx, ClaimRequest{Record: Record{Key: "done"}, Resend: Resend{}})
	require.NoError(t, err)
	require.NoError(t, j.Settle(ctx, Record{Key: "done", State: Placed, CallIDs: []string{"c1"}}))
	recs, live, err := ReadFile(path)
	require.NoError(t, err)
	assert.True(t, live)
	require.Len(t, recs, 2)
	assert.Equal(t, Claimed, recs[0].State)
	assert.False(t, recs[0].ClaimedAt.IsZero())
	assert.Equal(t, Placed, recs[1].State)
	// The reader took no lock, and wrote nothing.
	_, _, err = j.Claim(ctx, ClaimRequest{Record: Record{Key: "more"}, Resend: Resend{}})
	require.NoError(t, err)
	require.NoError(t, j.Close())
	recs, live, err = ReadFile(path)
	require.NoError(t, err)
	assert.False(t, live)
	assert.Equal(t, Unknown, recs[0].State)
	assert.Len(t, recs, 3)
}
