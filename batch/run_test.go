package batch

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

func sandbox(t *testing.T) (*autocalltest.Server, *autocall.Client, *autocall.Client) {
	t.Helper()
	srv := autocalltest.NewServer()
	t.Cleanup(srv.Close)
	fast := autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond})
	tel, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey), fast)
	require.NoError(t, err)
	omi, err := autocall.NewClient(srv.URL, autocall.WithAPIKey(autocalltest.APIKey), fast)
	require.NoError(t, err)
	t.Cleanup(tel.CloseIdleConnections)
	t.Cleanup(omi.CloseIdleConnections)
	return srv, tel, omi
}

// phone is the i-th customer's number: 0912 then six digits, none of the
// sandbox's special endings.
func phone(i int) string { return fmt.Sprintf("0912%06d", i*10+3) }

func otpJobs(n int) []Job {
	jobs := make([]Job, n)
	for i := range jobs {
		jobs[i] = Job{Key: fmt.Sprintf("order-%d", i), Op: OTP("1", &autocall.OTPRequest{
			Caller: "02873001234", Callees: []string{phone(i)}, TemplateName: "otp", Code: fmt.Sprintf("%04d", i%10000)})}
	}
	return jobs
}

// callsPerPhone counts the calls the sandbox placed to each number.
func callsPerPhone(srv *autocalltest.Server) map[string]int {
	m := map[string]int{}
	for _, c := range srv.Calls() {
		m[c.Phone]++
	}
	return m
}

func assertAddsUp(t *testing.T, rep *Report) {
	t.Helper()
	sum := rep.Placed + rep.Refused + rep.Unknown + rep.Unsent + rep.AlreadyPlaced + rep.AlreadyRefused + rep.StillUnknown + rep.Elsewhere
	assert.Equal(t, rep.Total, sum, "the report's counts add up: %+v", rep)
}

func TestRunTwicePhonesNobodyTwice(t *testing.T) {
	srv, tel, _ := sandbox(t)
	j, _ := openTemp(t)
	var progress []Progress
	var mu sync.Mutex
	r := &Runner{TEL4VN: tel, Journal: j, Workers: 8, Progress: func(p Progress) {
		mu.Lock()
		progress = append(progress, p)
		mu.Unlock()
	}}
	jobs := otpJobs(300)
	rep, err := r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 300, rep.Placed)
	assertAddsUp(t, rep)
	require.Len(t, progress, 300)
	last := progress[len(progress)-1]
	assert.Equal(t, 300, last.Done)
	assert.Zero(t, last.Left)
	assert.Positive(t, last.Rate)

	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 300, rep.AlreadyPlaced)
	assert.Zero(t, rep.Placed)
	assertAddsUp(t, rep)
	for p, n := range callsPerPhone(srv) {
		require.Equal(t, 1, n, "%s phoned %d times", p, n)
	}
	assert.Len(t, srv.Calls(), 300)
	rec, _, _ := j.Get(ctx, "order-7")
	assert.Equal(t, Placed, rec.State)
	require.Len(t, rec.CallIDs, 1)
	assert.Contains(t, rec.CallIDs[0], phone(7))
}

func TestBadRowsAreRefusedAndDoNotStopTheBatch(t *testing.T) {
	srv, tel, _ := sandbox(t)
	j, _ := openTemp(t)
	jobs := otpJobs(10)
	jobs[3].Op = OTP("1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"12345"}, TemplateName: "otp", Code: "1"})
	tmpl := &autocall.Template{Name: "t", Content: "Chào {{name}}, nợ {{amount}}"}
	jobs[5].Op = TTS("1", &autocall.TTSRequest{Caller: "02873001234", Callees: []string{phone(5)}, Template: tmpl,
		Params: map[string]string{"name": "A"}})
	rep, err := (&Runner{TEL4VN: tel, Journal: j}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 8, rep.Placed)
	assert.Equal(t, 2, rep.Refused)
	assertAddsUp(t, rep)
	rec, _, _ := j.Get(ctx, "order-3")
	assert.Equal(t, Refused, rec.State)
	assert.Contains(t, rec.Reason, "starts with 1")
	rec, _, _ = j.Get(ctx, "order-5")
	assert.Contains(t, rec.Reason, "amount")
	assert.Len(t, srv.Calls(), 8)
}

// A quota the provider says is spent stops the whole batch at once; the
// rest is unsent, and sent by the next run once the balance is topped up.
func TestQuotaStopsTheBatch(t *testing.T) {
	srv, tel, _ := sandbox(t)
	srv.SetBalance(20 * autocalltest.CallPrice)
	j, _ := openTemp(t)
	jobs := otpJobs(100)
	r := &Runner{TEL4VN: tel, Journal: j, Workers: 1}
	rep, err := r.Run(ctx, jobs)
	require.NoError(t, err)
	require.ErrorIs(t, rep.Stopped, autocall.ErrBalanceNotEnough)
	assert.Equal(t, 20, rep.Placed)
	assert.Equal(t, 1, rep.Refused, "the job that met the refusal")
	assert.Equal(t, 79, rep.Unsent)
	assertAddsUp(t, rep)

	srv.SetBalance(-1)
	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 79, rep.Placed)
	assert.Equal(t, 20, rep.AlreadyPlaced)
	assert.Equal(t, 1, rep.AlreadyRefused)
	r.RetryRefused = true
	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed, "refused jobs go again when asked")
	for p, n := range callsPerPhone(srv) {
		require.Equal(t, 1, n, p)
	}
}

// A 429 pauses every worker for its Retry-After and slows the batch; no
// row fails for it, nobody is called twice.
func TestRateLimitSlowsTheBatch(t *testing.T) {
	srv, tel, _ := sandbox(t)
	srv.FailNext("/api/v2/campaigns/1/otp", 6, autocalltest.Fault{Status: http.StatusTooManyRequests,
		Body:   `{"messsage":"Too Many Requests","code":429,"status":false,"data":{"error":"rate_limit_exceeded"}}`,
		Header: http.Header{"Retry-After": {"1"}}})
	j, _ := openTemp(t)
	var pauses atomic.Int64
	r := &Runner{TEL4VN: tel, Journal: j, Workers: 4, Progress: func(p Progress) {
		if !p.PausedUntil.IsZero() {
			pauses.Add(1)
		}
	}}
	begin := time.Now()
	rep, err := r.Run(ctx, otpJobs(40))
	require.NoError(t, err)
	assert.Equal(t, 40, rep.Placed, "429s slow the batch instead of failing rows")
	assertAddsUp(t, rep)
	assert.GreaterOrEqual(t, time.Since(begin), time.Second, "every worker waited for Retry-After")
	assert.Positive(t, pauses.Load())
	for p, n := range callsPerPhone(srv) {
		require.Equal(t, 1, n, p)
	}
}

// An answer lost after the provider placed the call: the job is unknown,
// never resent; it is settled from the provider's call events or by hand.
func TestUnknownJobsAreNeverResent(t *testing.T) {
	srv, tel, _ := sandbox(t)
	srv.FailNext("/api/v2/campaigns/1/otp", 2, autocalltest.Fault{Process: true, Reset: true})
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Process: true, Status: 502, HTML: true})
	j, _ := openTemp(t)
	r := &Runner{TEL4VN: tel, Journal: j, Workers: 1}
	jobs := otpJobs(10)
	rep, err := r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Unknown)
	assert.Equal(t, 7, rep.Placed)
	assert.Len(t, rep.UnknownKeys, 3)
	assertAddsUp(t, rep)

	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 3, rep.StillUnknown, "unknown jobs are reported, not resent")
	assert.Len(t, srv.Calls(), 10, "the sandbox placed all ten, once each")

	// The calls ended and their events arrived: settle from them.
	srv.Advance(autocalltest.RingTime + autocalltest.TalkTime)
	var events []*autocall.CallEvent
	for _, c := range srv.Calls() {
		events = append(events, &autocall.CallEvent{CallID: autocall.CallID(c.ID), CampaignID: c.CampaignID, Phone: c.Phone,
			StartedAt: time.Now()})
	}
	settled, err := SettleFromEvents(ctx, j, events[:2])
	require.NoError(t, err)
	assert.Len(t, settled, 2)
	recs, _ := j.Records(ctx)
	left := unknownKeys(recs)
	require.Len(t, left, 1)
	require.NoError(t, Resolve(ctx, j, left[0], Placed))
	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 10, rep.AlreadyPlaced)
	assert.Len(t, srv.Calls(), 10)
}

// A dial that fails proves nothing left: those jobs are unsent and the next
// run sends them.
func TestUnsentJobsGoAgain(t *testing.T) {
	srv, _, _ := sandbox(t)
	dead, err := autocall.NewClient("http://127.0.0.1:1", autocall.WithAccessToken("t"), autocall.WithProvider(autocall.TEL4VN),
		autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	j, _ := openTemp(t)
	jobs := otpJobs(5)
	rep, err := (&Runner{TEL4VN: dead, Journal: j}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Unsent)
	rec, _, _ := j.Get(ctx, "order-0")
	assert.Equal(t, Unsent, rec.State)

	_, tel, _ := sandbox(t)
	rep, err = (&Runner{TEL4VN: tel, Journal: j}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Placed)
	assert.Empty(t, srv.Calls(), "the first sandbox never saw a request")
}

// A cancelled context stops taking jobs; those in flight finish and are
// recorded; the report adds up and the rest is unsent.
func TestCancelStopsTakingJobs(t *testing.T) {
	srv, tel, _ := sandbox(t)
	srv.FailNext("/api/v2/campaigns/1/otp", 1000, autocalltest.Fault{Process: true, Delay: 20 * time.Millisecond})
	j, path := openTemp(t)
	cctx, cancel := contextWithCancel()
	var n atomic.Int64
	r := &Runner{TEL4VN: tel, Journal: j, Workers: 4, Progress: func(Progress) {
		if n.Add(1) == 10 {
			cancel()
		}
	}}
	rep, err := r.Run(cctx, otpJobs(200))
	require.NoError(t, err)
	assertAddsUp(t, rep)
	require.ErrorIs(t, rep.Stopped, errCanceled)
	assert.Less(t, rep.Placed, 200)
	assert.Equal(t, 200-rep.Placed, rep.Unsent)
	assert.Len(t, srv.Calls(), rep.Placed, "every call placed is recorded placed")
	recs, _ := j.Records(ctx)
	assert.Equal(t, rep.Placed, counts(recs)[Placed])
	assert.Zero(t, counts(recs)[Unknown], "in-flight jobs finished and were recorded: %s", filepath.Base(path))
}

func TestOMICallJobs(t *testing.T) {
	srv, _, omi := sandbox(t)
	j, _ := openTemp(t)
	plan := autocall.NewDialplan().Text("Đơn hàng của bạn đã được giao")
	jobs := []Job{
		{Key: "s1", Op: ByPhone(&autocall.PhoneCallRequest{Dialplan: plan, Phones: []string{phone(1), phone(2)}})},
		{Key: "s2", Op: ByExtension(&autocall.ExtensionCallRequest{CID: "02873001234", Extensions: []string{"101"}, Dialplan: plan})},
	}
	rep, err := (&Runner{OMICall: omi, Journal: j}).Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Placed)
	rec, _, _ := j.Get(ctx, "s1")
	assert.NotEmpty(t, rec.SessionID)
	assert.Len(t, srv.Sessions(), 2)

	_, err = (&Runner{Journal: j}).Run(ctx, jobs)
	require.Error(t, err, "an OMICall job needs Runner.OMICall")
	_, err = (&Runner{OMICall: omi, Journal: j}).Run(ctx, append(jobs, jobs[0]))
	require.ErrorContains(t, err, "given twice")
}

func contextWithCancel() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }

var errCanceled = context.Canceled

// Faults mixed through a batch of many workers: counts add up, nobody is
// phoned twice, and only the faults that may have placed a call leave jobs
// unknown.
func TestFaultRun(t *testing.T) {
	srv, tel, _ := sandbox(t)
	const path = "/api/v2/campaigns/1/otp"
	srv.FailNext(path, 50, autocalltest.Fault{Process: true, Delay: time.Millisecond})
	srv.FailNext(path, 5, autocalltest.Fault{Process: true, Reset: true})
	srv.FailNext(path, 10, autocalltest.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}},
		Body: `{"messsage":"Too Many Requests","code":429,"status":false,"data":{"error":"rate_limit_exceeded"}}`})
	srv.FailNext(path, 5, autocalltest.Fault{Process: true, Status: 503, Body: `{"messsage":"busy","code":503,"status":false}`})
	j, _ := openTemp(t)
	rep, err := (&Runner{TEL4VN: tel, Journal: j, Workers: 8}).Run(ctx, otpJobs(500))
	require.NoError(t, err)
	assertAddsUp(t, rep)
	assert.Equal(t, 10, rep.Unknown, "the resets and 503s after processing")
	assert.Equal(t, 490, rep.Placed, "429s slowed the batch, failed no row")
	calls := callsPerPhone(srv)
	for p, n := range calls {
		require.Equal(t, 1, n, p)
	}
	assert.Len(t, calls, 500, "the unknown ones were placed too, once")
}

// The report names the run: the id it made, which its claims carry, or
// the one it was given.
func TestReportNamesItsRun(t *testing.T) {
	_, c, _ := sandbox(t)
	j := NewMemJournal()
	rep, err := (&Runner{TEL4VN: c, Journal: j}).Run(ctx, otpJobs(2))
	require.NoError(t, err)
	require.NotEmpty(t, rep.RunID)
	recs, err := j.Records(ctx)
	require.NoError(t, err)
	for _, rec := range recs {
		assert.Equal(t, rep.RunID, rec.Run, rec.Key)
	}
	rep, err = (&Runner{TEL4VN: c, Journal: NewMemJournal(), RunID: "cron-0600"}).Run(ctx, otpJobs(1))
	require.NoError(t, err)
	assert.Equal(t, "cron-0600", rep.RunID)
}
