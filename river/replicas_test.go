package autocallriver

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// creates records when each create request reached the provider, by the
// wall clock (the sandbox's clock moves in 100 ms steps), through a proxy
// in front of the sandbox.
type creates struct {
	mu    sync.Mutex
	times []time.Time
}

func (c *creates) all() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]time.Time(nil), c.times...)
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

func recordingProxy(t *testing.T, srv *autocalltest.Server) (string, *creates) {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	c := &creates{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/campaigns/") {
			c.mu.Lock()
			c.times = append(c.times, time.Now())
			c.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL, c
}

// A global rate of 20/s over 3 replicas: at most 21 creates (the rate and
// a burst of 1) in any second, over more than 10 seconds.
func TestGlobalRateAcrossReplicas(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	base, seen := recordingProxy(t, srv)
	pool, url := newPool(t)
	rs := threeReplicas(t, url, srv, replicaOpts{rate: 20, workers: 8, baseURL: base})
	const n = 230
	for i := 0; i < n; i++ {
		insertOrder(t, rs[i%3].client, pool, otpArgs(i), true)
	}
	waitSettled(t, pool, n, 40*time.Second)
	ts := seen.all()
	if len(ts) != n {
		t.Fatalf("%d creates for %d orders", len(ts), n)
	}
	span := ts[len(ts)-1].Sub(ts[0])
	most := 0
	for i := range ts {
		k := sort.Search(len(ts), func(j int) bool { return !ts[j].Before(ts[i].Add(time.Second)) })
		most = max(most, k-i)
	}
	t.Logf("%d creates over %s, at most %d in a second", len(ts), span.Round(time.Millisecond), most)
	if most > 21 {
		t.Fatalf("%d creates in one second, over a rate of 20/s with a burst of 1", most)
	}
	if span < 10*time.Second {
		t.Fatalf("the creates spanned %s, under 10s", span)
	}
}

// A 429 with Retry-After: 3 seen by one replica: no replica sends a create
// during those 3 seconds (but those already on the wire when it came).
func TestRateLimitPausesEveryReplica(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	base, seen := recordingProxy(t, srv)
	pool, url := newPool(t)
	rs := threeReplicas(t, url, srv, replicaOpts{rate: 30, workers: 4, baseURL: base})
	const n = 150
	for i := 0; i < 20; i++ {
		insertOrder(t, rs[i%3].client, pool, otpArgs(i), true)
	}
	waitSettled(t, pool, 20, 20*time.Second)
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Status: 429,
		Body: `{"status_code":429,"message":"rate_limit_exceeded"}`, Header: http.Header{"Retry-After": {"3"}}})
	before := len(seen.all())
	for i := 20; i < n; i++ {
		insertOrder(t, rs[i%3].client, pool, otpArgs(i), true)
	}
	waitSettled(t, pool, n, 40*time.Second)
	ts := seen.all()
	t429 := ts[before]
	var during []time.Duration
	for _, at := range ts[before+1:] {
		if d := at.Sub(t429); d < 3*time.Second {
			during = append(during, d)
		}
	}
	// Creates already past the check when the 429 came reach the provider
	// within a few milliseconds; none may leave later within the pause.
	for _, d := range during {
		if d > 100*time.Millisecond {
			t.Fatalf("creates %v after the 429, within its Retry-After of 3s", during)
		}
	}
	t.Logf("creates on the wire when the 429 came: %d", len(during))
	for p, c := range callsPerPhone(srv) {
		if c != 1 {
			t.Fatalf("%s called %d times", p, c)
		}
	}
	if len(srv.Calls()) != n {
		t.Fatalf("%d calls for %d orders", len(srv.Calls()), n)
	}
}

// Advertising orders at 16:59:58 (Vietnam) on 3 replicas, one number in 5
// orders: one call, the others snoozed 24 hours; advertising orders after
// 17:00 snoozed to 8:00; no create after 17:00.
func TestAdvertisingAtFiveToFiveOnReplicas(t *testing.T) {
	start := time.Date(2026, 12, 1, 16, 59, 58, 0, batch.Vietnam())
	srv := autocalltest.NewServer(autocalltest.WithStartTime(start), autocalltest.WithRealTime())
	defer srv.Close()
	pool, url := newPool(t)
	rs := threeReplicas(t, url, srv, replicaOpts{workers: 4, now: srv.Now})
	ad := func(i int, ph string) OTPArgs {
		a := otpArgs(i)
		a.Purpose, a.Callees = "advertising", []string{ph}
		return a
	}
	shared := phone(999)
	for i := 0; i < 5; i++ {
		insertOrder(t, rs[i%3].client, pool, ad(i, shared), true)
	}
	for srv.Now().Before(start.Add(2200 * time.Millisecond)) {
		time.Sleep(50 * time.Millisecond)
	}
	for i := 5; i < 10; i++ {
		insertOrder(t, rs[i%3].client, pool, ad(i, phone(i)), true)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var scheduled int
		pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'scheduled'`).Scan(&scheduled)
		if scheduled == 9 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs snoozed, want 9", scheduled)
		}
		time.Sleep(100 * time.Millisecond)
	}
	calls := srv.Calls()
	if len(calls) != 1 || calls[0].Phone != shared {
		t.Fatalf("calls: %+v", calls)
	}
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Path, "/api/v2/campaigns/") && !r.Time.Before(start.Add(2*time.Second)) {
			t.Fatalf("a create at %s, after 17:00", r.Time)
		}
	}
	recs, _ := rs[0].j.Records(ctx)
	byCause := map[string]int{}
	for _, rec := range recs {
		byCause[string(rec.State)+"/"+rec.Cause]++
		if rec.Cause == batch.CauseHours && !rec.NotBefore.Equal(time.Date(2026, 12, 2, 8, 0, 0, 0, batch.Vietnam())) {
			t.Errorf("%s deferred to %s", rec.Key, rec.NotBefore)
		}
		if rec.Cause == batch.CauseFrequency && rec.NotBefore.Before(start.Add(24*time.Hour)) {
			t.Errorf("%s deferred to %s", rec.Key, rec.NotBefore)
		}
	}
	if byCause["placed/"] != 1 || byCause["unsent/frequency"] != 4 || byCause["unsent/hours"] != 5 {
		t.Fatalf("records: %v", byCause)
	}
	// River holds them until then: the scheduled times are hours away.
	jobs, err := rs[0].client.JobList(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs.Jobs {
		if j.State == rivertype.JobStateScheduled && time.Until(j.ScheduledAt) < 14*time.Hour {
			t.Errorf("job %d snoozed only until %s", j.ID, j.ScheduledAt)
		}
	}
}
