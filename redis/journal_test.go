package autocallredis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

const (
	sandboxEnv = "AUTOCALLREDIS_SANDBOX"
	jobsEnv    = "AUTOCALLREDIS_JOBS"
	leaseEnv   = "AUTOCALLREDIS_LEASE" // Runner.LeaseTTL of a worker
	waitEnv    = "AUTOCALLREDIS_WAIT"  // set: a worker's last job ends once its stdin is closed
	workers    = 4
)

func phone(i int) string { return fmt.Sprintf("0912%06d", i*10+3) }

func jobs(n int) []batch.Job {
	out := make([]batch.Job, n)
	for i := range out {
		out[i] = batch.Job{Key: fmt.Sprintf("job-%05d", i), Op: batch.OTP("1", &autocall.OTPRequest{
			Caller: "02873001234", Callees: []string{phone(i)}, TemplateName: "otp", Code: "1"})}
	}
	return out
}

// workerChild runs the whole job list through the shared journal.
func workerChild() int {
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(redisEnv)})
	defer rdb.Close()
	c, err := autocall.NewClient(os.Getenv(sandboxEnv), autocall.WithSecretKey(autocalltest.SecretKey),
		autocall.WithUserAgent(os.Getenv(workerEnv)))
	if err != nil {
		return 4
	}
	n, _ := strconv.Atoi(os.Getenv(jobsEnv))
	r := &batch.Runner{TEL4VN: c, Journal: NewJournal(rdb, "shared"), Workers: workers}
	r.LeaseTTL, _ = time.ParseDuration(os.Getenv(leaseEnv))
	if os.Getenv(waitEnv) != "" {
		r.Progress = func(p batch.Progress) {
			if p.Done == p.Total { // before the run reads again the jobs it met in flight elsewhere
				_, _ = io.Copy(io.Discard, os.Stdin)
			}
		}
	}
	rep, err := r.Run(ctx, jobs(n))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 5
	}
	_ = json.NewEncoder(os.Stdout).Encode(rep)
	return 0
}

func callsPerPhone(srv *autocalltest.Server) map[string]int {
	m := map[string]int{}
	for _, c := range srv.Calls() {
		m[c.Phone]++
	}
	return m
}

// 4 worker processes share a 5,000-job journal; one is SIGKILLed mid-way
// and the rest finish: every job placed at most once, the killed worker's
// in-flight jobs unknown, the counts add up.
func TestJournalAcrossProcesses(t *testing.T) {
	const n = 5000
	rs := startRedis(t, t.TempDir(), 0)
	sb := autocalltest.NewServer()
	defer sb.Close()
	sb.FailNext("/api/v2/campaigns/1/otp", 1_000_000, autocalltest.Fault{Process: true, Delay: time.Millisecond})
	env := []string{redisEnv + "=" + rs.addr(), sandboxEnv + "=" + sb.URL, jobsEnv + "=" + strconv.Itoa(n)}
	var procs []*exec.Cmd
	for i := 0; i < 4; i++ {
		procs = append(procs, child(t, "worker", env...))
	}
	for len(sb.Calls()) < n/4 {
		time.Sleep(2 * time.Millisecond)
	}
	require.NoError(t, procs[0].Process.Signal(syscall.SIGKILL))
	_ = procs[0].Wait()
	for _, p := range procs[1:] {
		require.NoError(t, p.Wait())
	}

	recs, err := NewJournal(rs.client(t), "shared").Records(ctx)
	require.NoError(t, err)
	require.Len(t, recs, n)
	counts := map[batch.State]int{}
	for _, r := range recs {
		if r.State == batch.Claimed { // a killed worker's, its lease not yet lapsed
			r.State = batch.Unknown
		}
		counts[r.State]++
	}
	t.Logf("journal: %v; sandbox: %d calls", counts, len(sb.Calls()))
	calls := callsPerPhone(sb)
	for p, k := range calls {
		require.Equal(t, 1, k, "%s phoned %d times", p, k)
	}
	assert.Equal(t, n, counts[batch.Placed]+counts[batch.Unknown], "counts add up: every job placed or unknown")
	assert.LessOrEqual(t, counts[batch.Unknown], workers, "only the killed worker's jobs in flight")
	for _, r := range recs {
		if r.State == batch.Placed {
			require.Equal(t, 1, calls[r.Phones[0]], r.Key)
		}
	}
}

// Issue #25.3: two of four workers SIGKILLed mid-batch. Their claims in
// flight read Unknown once their leases lapse: each survivor reports them
// in UnknownKeys, never as Elsewhere ("in flight at a live peer"), and
// Records says which run left each.
//
// Nothing here rests on timing. The workers reach the sandbox through a
// holdProxy, so that the two about to die have a job in flight for
// certain (killed at a random instant, they sometimes had none). The held
// creates are closed unanswered, not forwarded: those jobs were never
// phoned, so a survivor sending one again would show as a call to its
// phone, which the test rules out. The survivors read again the jobs they
// met in flight only once the journal shows the dead workers' leases
// lapsed (a 2 s LeaseTTL: one renewal late by 1.5 s on a loaded machine
// would stop a run; the survivors' is 10 s, as they must not lapse).
func TestDeadWorkersAreUnknownToSurvivors(t *testing.T) {
	const n = 3000
	const createPath = "/api/v2/campaigns/1/otp"
	rs := startRedis(t, t.TempDir(), 0)
	sb := autocalltest.NewServer()
	defer sb.Close()
	sb.FailNext(createPath, 1_000_000, autocalltest.Fault{Process: true, Delay: time.Millisecond})
	px := newHoldProxy(t, sb.URL, createPath)
	env := []string{redisEnv + "=" + rs.addr(), sandboxEnv + "=" + px.URL, jobsEnv + "=" + strconv.Itoa(n), waitEnv + "=1"}
	procs := make([]*exec.Cmd, 4)
	outs := make([]*bytes.Buffer, 4)
	var ends []io.Closer // the survivors' stdin: closed, they end
	for i := range procs {
		lease := "10s"
		if i < 2 {
			lease = "2s" // to be killed
		}
		procs[i] = exec.Command(os.Args[0], "-test.run=^$")
		procs[i].Env = append(append(os.Environ(), childEnv+"=worker", workerEnv+"="+worker(i), leaseEnv+"="+lease), env...)
		outs[i] = &bytes.Buffer{}
		procs[i].Stdout, procs[i].Stderr = outs[i], os.Stderr
		if i >= 2 {
			w, err := procs[i].StdinPipe()
			require.NoError(t, err)
			ends = append(ends, w)
		}
		require.NoError(t, procs[i].Start())
		t.Cleanup(func() { _ = procs[i].Process.Kill() }) // after a failed require
	}
	for len(sb.Calls()) < n/4 {
		time.Sleep(2 * time.Millisecond)
	}
	px.hold(worker(0), worker(1))
	px.waitHeld(t, worker(0), worker(1))
	for _, p := range procs[:2] {
		require.NoError(t, p.Process.Signal(syscall.SIGKILL))
		_ = p.Wait()
	}
	px.releaseHeld()
	// Every job claimed, none in flight at a live run: the survivors are
	// done sending, and the dead workers' leases have lapsed.
	j := NewJournal(rs.client(t), "shared")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		recs, err := j.Records(ctx)
		require.NoError(t, err)
		if len(recs) == n && !slices.ContainsFunc(recs, func(r batch.Record) bool { return r.State == batch.Claimed }) {
			break
		}
		require.True(t, time.Now().Before(deadline), "jobs still in flight")
	}
	for i, w := range ends {
		require.NoError(t, w.Close())
		require.NoError(t, procs[2+i].Wait())
	}
	calls := callsPerPhone(sb)
	for p, k := range calls {
		require.Equal(t, 1, k, "%s phoned %d times", p, k)
	}

	recs, err := j.Records(ctx)
	require.NoError(t, err)
	require.Len(t, recs, n)
	var dead []string
	state := map[string]batch.State{} // by phone
	for _, r := range recs {
		require.NotEqual(t, batch.Claimed, r.State, "%s: no live run is left", r.Key)
		state[r.Phones[0]] = r.State
		if r.State == batch.Unknown {
			assert.Contains(t, r.Reason, "claimed by run "+r.Run, "the record names the run that left it")
			dead = append(dead, r.Key)
		} else {
			require.Equal(t, batch.Placed, r.State, r.Key)
			require.Equal(t, 1, calls[r.Phones[0]], "%s placed: phoned once", r.Key)
		}
	}
	for _, w := range []string{worker(0), worker(1)} {
		held := px.heldCallees(w)
		require.NotEmpty(t, held, w)
		for _, p := range held {
			assert.Equal(t, batch.Unknown, state[p], "%s: %s's job in flight when it died is unknown", p, w)
			assert.Zero(t, calls[p], "%s: the job %s died sending was never phoned, nor sent again", p, w)
		}
	}
	for i, out := range outs[2:] {
		var rep batch.Report
		require.NoError(t, json.Unmarshal(out.Bytes(), &rep), "survivor %d: %s", i, out)
		assert.Equal(t, n, rep.Placed+rep.AlreadyPlaced+rep.StillUnknown+rep.Unknown+rep.Elsewhere, "the counts add up: %+v", rep)
		assert.Zero(t, rep.Elsewhere, "survivor %d: the dead workers' jobs are not in flight anywhere: %v", i, rep.ElsewhereKeys)
		assert.Equal(t, dead, rep.UnknownKeys, "survivor %d lists the dead workers' jobs as unknown", i)
	}
}

func worker(i int) string { return "worker-" + strconv.Itoa(i) }

// Redis restarted mid-batch: the run fails clearly; run again once Redis is
// back, nothing is resent.
func TestRedisRestartMidBatch(t *testing.T) {
	dir := t.TempDir()
	rs := startRedis(t, dir, 0)
	sb := autocalltest.NewServer()
	defer sb.Close()
	sb.FailNext("/api/v2/campaigns/1/otp", 1_000_000, autocalltest.Fault{Process: true, Delay: 2 * time.Millisecond})
	c, err := autocall.NewClient(sb.URL, autocall.WithSecretKey(autocalltest.SecretKey))
	require.NoError(t, err)
	rdb := rs.client(t)
	list := jobs(1000)
	go func() {
		for len(sb.Calls()) < 200 {
			time.Sleep(time.Millisecond)
		}
		rs.stop()
	}()
	r := &batch.Runner{TEL4VN: c, Journal: NewJournal(rdb, "restart"), Workers: workers}
	_, err = r.Run(ctx, list)
	require.Error(t, err, "the journal's outage is the run's error")
	assert.Contains(t, err.Error(), "autocallredis")
	before := len(sb.Calls())
	require.Less(t, before, 1000)

	rs2 := startRedis(t, dir, rs.port) // the same data directory: AOF replayed
	rep, err := (&batch.Runner{TEL4VN: c, Journal: NewJournal(rs2.client(t), "restart"), Workers: workers}).Run(ctx, list)
	require.NoError(t, err)
	for p, k := range callsPerPhone(sb) {
		require.Equal(t, 1, k, "%s phoned %d times", p, k)
	}
	// The first run's claims in flight at the outage stay live (Elsewhere)
	// until its lease, which it could not end, lapses.
	assert.Equal(t, 1000, rep.Placed+rep.AlreadyPlaced+rep.Unknown+rep.StillUnknown+rep.Unsent+rep.Refused+rep.AlreadyRefused+rep.Elsewhere)
	// Jobs in flight at the outage are unknown: their claim may have reached
	// Redis with its answer lost, or their outcome could not be recorded.
	// Whether or not they were called, they were not sent again.
	calls := callsPerPhone(sb)
	recs, err := NewJournal(rs2.client(t), "restart").Records(ctx)
	require.NoError(t, err)
	unknownUncalled := 0
	for _, r := range recs {
		if r.State == batch.Placed {
			require.Equal(t, 1, calls[r.Phones[0]], r.Key)
		} else if calls[r.Phones[0]] == 0 {
			unknownUncalled++
		}
	}
	assert.Equal(t, 1000-before-unknownUncalled, rep.Placed, "only the jobs never sent were sent")
	assert.LessOrEqual(t, rep.StillUnknown+rep.Elsewhere, 2*workers)
}

func TestJournalClaimIsAtomic(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	j := NewJournal(rs.client(t), "atomic")
	ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "k", Kind: "otp", Phones: []string{"0987654321"}}, Resend: batch.Resend{}})
	require.NoError(t, err)
	require.True(t, ok)
	ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "k"}, Resend: batch.Resend{}})
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, batch.Claimed, cur.State, "this handle's own claim, in flight")
	require.NoError(t, j.Settle(ctx, batch.Record{Key: "k", State: batch.Refused, Code: "limit_service"}))
	rec, _, _ := j.Get(ctx, "k")
	assert.Equal(t, []string{"0987654321"}, rec.Phones, "the outcome keeps what the claim knew")
	ok, _, _ = j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "k"}, Resend: batch.Resend{}})
	assert.False(t, ok)
	ok, _, _ = j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "k"}, Resend: batch.Resend{Refused: true}})
	assert.True(t, ok)
	// Another host (no lease was taken: its run is dead) resolves it.
	require.NoError(t, batch.Resolve(ctx, NewJournal(rs.client(t), "atomic"), "k", batch.Unsent))
	ok, _, _ = j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "k"}, Resend: batch.Resend{}})
	assert.True(t, ok)
}

// Retry by cause is decided in the claim script, atomically: of many
// workers claiming one refused job, one wins, and only for a chosen cause.
func TestJournalRetryByCause(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	j := NewJournal(rs.client(t), "cause")
	for _, k := range []string{"quota", "template"} {
		ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: k}, Resend: batch.Resend{}})
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, j.Settle(ctx, batch.Record{Key: k, State: batch.Refused, Cause: k}))
	}
	ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "template"}, Resend: batch.Resend{Causes: []string{batch.CauseQuota}}})
	require.NoError(t, err)
	assert.False(t, ok, "refused for another cause")
	assert.Equal(t, batch.Refused, cur.State)
	var wins atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "quota"}, Resend: batch.Resend{Causes: []string{"rate", batch.CauseQuota}}})
			assert.NoError(t, err)
			if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(1), wins.Load(), "one claim wins")
	rec, _, _ := j.Get(ctx, "quota")
	assert.Equal(t, batch.Claimed, rec.State)
	assert.False(t, rec.ClaimedAt.IsZero(), "the claim time is kept")
}

// Two hosts (two runs, in goroutines here) share one job list: the jobs
// each meets in the other's hands are not reported unknown. At the end,
// those the peer settled count as it left them, and only those still in
// flight are Elsewhere; nobody is phoned twice.
func TestPeersInFlightAreNotUnknown(t *testing.T) {
	const n = 1000
	rs := startRedis(t, t.TempDir(), 0)
	sb := autocalltest.NewServer()
	defer sb.Close()
	sb.FailNext("/api/v2/campaigns/1/otp", 1_000_000, autocalltest.Fault{Process: true, Delay: 2 * time.Millisecond})
	reps := make([]*batch.Report, 2)
	var wg sync.WaitGroup
	for i := range reps {
		c, err := autocall.NewClient(sb.URL, autocall.WithSecretKey(autocalltest.SecretKey))
		require.NoError(t, err)
		t.Cleanup(c.CloseIdleConnections)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One RunID for the hosts of one batch, as the Runner's doc says:
			// a peer that started a moment earlier (a loaded machine) is
			// still a peer, not a run that died.
			rep, err := (&batch.Runner{TEL4VN: c, Journal: NewJournal(rs.client(t), "peers"), Workers: workers, RunID: "peers-20261201"}).Run(ctx, jobs(n))
			assert.NoError(t, err)
			reps[i] = rep
		}()
	}
	wg.Wait()
	for p, k := range callsPerPhone(sb) {
		require.Equal(t, 1, k, "%s phoned %d times", p, k)
	}
	require.Len(t, sb.Calls(), n)
	met := 0
	for _, rep := range reps {
		require.NotNil(t, rep)
		t.Logf("%+v", *rep)
		assert.Zero(t, rep.StillUnknown, "no run died: nothing is unknown from an earlier run")
		assert.Empty(t, rep.UnknownKeys)
		assert.Equal(t, n, rep.Placed+rep.AlreadyPlaced+rep.Elsewhere)
		assert.Equal(t, rep.Elsewhere, len(rep.ElsewhereKeys))
		met += rep.AlreadyPlaced
	}
	assert.Equal(t, n, reps[0].Placed+reps[1].Placed, "each job placed once, by one of them")
	t.Logf("jobs met in the peer's hands and settled by it: %d", met)
}
