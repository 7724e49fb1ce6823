package autocallriver

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// heldProxy holds each create in front of the sandbox until release is
// closed, and says on arrived when one is held.
func heldProxy(t *testing.T, srv *autocalltest.Server) (base string, arrived chan struct{}, release chan struct{}) {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	p := httputil.NewSingleHostReverseProxy(u)
	arrived, release = make(chan struct{}, 16), make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/campaigns/") {
			arrived <- struct{}{}
			<-release
		}
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL, arrived, release
}

// A job River no longer has when its call's answer comes (deleted from
// river_job while the call was in flight) cannot be completed in the
// outcome's transaction: the placed outcome is still written, at once, not
// retried as if the database were unreachable and then left to read
// Unknown.
func TestPlacedIsWrittenWhenRiverNoLongerRunsTheJob(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	base, arrived, release := heldProxy(t, srv)
	pool, url := newPool(t)
	r := startReplica(t, url, srv, replicaOpts{baseURL: base, settleFor: 3 * time.Second})
	res := insertOrder(t, r.client, pool, otpArgs(1), true)
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("no create reached the provider")
	}
	// An operator deletes the job (River's own JobDelete refuses a running one).
	if _, err := pool.Exec(ctx, `DELETE FROM river_job WHERE id = $1`, res.Job.ID); err != nil {
		t.Fatal(err)
	}
	close(release)
	deadline := time.Now().Add(2 * time.Second) // under SettleFor
	for {
		rec, _, err := r.j.Get(ctx, "order-1")
		if err == nil && rec.State == batch.Placed && len(rec.CallIDs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the placed outcome is not written: %+v (%v)", rec, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(srv.Calls()); n != 1 {
		t.Fatalf("%d calls", n)
	}
}

// The database down for longer than Worker.SettleFor just as a call's
// answer comes: the placed outcome, held by the worker, is written once
// the database is back, and the River job completes. It used to stay
// "claimed" under the worker's live lease for as long as the worker ran
// (out of reach of Resolve and SettleFromEvents), its River job
// cancelled as unknown.
func TestOutcomeHeldThroughALongOutageIsWrittenLater(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	base, arrived, release := heldProxy(t, srv)
	pool, url := newPool(t)
	obs := &jobCounter{}
	r := startReplica(t, url, srv, replicaOpts{baseURL: base, settleFor: time.Second, observer: obs})
	res := insertOrder(t, r.client, pool, otpArgs(1), true)
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("no create reached the provider")
	}
	if err := pg.StopFast(); err != nil {
		t.Fatal(err)
	}
	close(release)
	time.Sleep(3 * time.Second) // the job gives up writing after SettleFor
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec, _, err := r.j.Get(ctx, "order-1")
		job, jerr := r.client.JobGet(ctx, res.Job.ID)
		if err == nil && jerr == nil && rec.State == batch.Placed && len(rec.CallIDs) == 1 && job.State == rivertype.JobStateCompleted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("journal %+v (%v), River job %+v (%v)", rec, err, job, jerr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(srv.Calls()); n != 1 {
		t.Fatalf("%d calls", n)
	}
	// Counted as River is told: placed, once, not as the journal's failure.
	if got := obs.ends(); len(got) != 1 || got[0] != (batch.JobEnd{State: batch.Placed}) {
		t.Fatalf("the Observer was told %+v", got)
	}
}
