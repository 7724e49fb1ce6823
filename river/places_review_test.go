package autocallriver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// waitState waits until key's record is state, or fails.
func waitState(t *testing.T, j *Journal, key string, state batch.State, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		rec, ok, err := j.Get(ctx, key)
		must(t, err)
		if ok && rec.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q (had %v) after %s, want %q", key, rec.State, ok, within, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A Worker given to a second NewClient while the first client's jobs hold
// places: each job gives its place back to the places it took it from. A
// second call that replaced the Worker's places left each such job waiting
// for ever, at its settle, to give back a place the new places never had:
// calls placed, never recorded (Claimed, then Unknown once the worker
// stopped).
func TestWorkerOfTwoNewClientsGivesBackItsPlaces(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	base, arrived, release := heldProxy(t, srv)
	pool, _ := newPool(t)
	w := &Worker{Journal: newJournal(t, pool), TEL4VN: fastClient(t, base), LeaseTTL: 3 * time.Second}
	c1, err := NewClient(pool, w, 2, quickConfig())
	if err != nil {
		t.Fatal(err)
	}
	must(t, c1.Start(ctx))
	released := false
	t.Cleanup(func() {
		if !released {
			close(release)
		}
		// Jobs left waiting to give back a place (the defect) are let go,
		// so that the client stops.
		for range 4 {
			select {
			case w.places <- struct{}{}:
			default:
			}
		}
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = c1.StopAndCancel(stop)
		_ = w.Close(ctx)
	})
	insertOrder(t, c1, pool, otpArgs(1), true)
	insertOrder(t, c1, pool, otpArgs(2), true)
	for range 2 {
		select {
		case <-arrived:
		case <-time.After(20 * time.Second):
			t.Fatal("the creates did not reach the provider")
		}
	}
	// A second client on the same Worker, with other places (refused, or
	// given places of its own: either way the first client's jobs must
	// end), and one with the same (they share them).
	if _, err := NewClient(pool, w, 1, quickConfig()); err != nil {
		t.Logf("a second NewClient with other places: %v", err)
	}
	if _, err := NewClient(pool, w, 2, quickConfig()); err != nil {
		t.Errorf("a second NewClient with the same places: %v", err)
	}
	close(release)
	released = true
	waitState(t, w.Journal, "order-1", batch.Placed, 10*time.Second)
	waitState(t, w.Journal, "order-2", batch.Placed, 10*time.Second)
	if n := len(srv.Calls()); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

// A claim stays unsettled, and would read Unknown if the process died,
// until its outcome is written. The place is given back before that write
// (the next call overlaps it), so a process can hold maxWorkers + Prefetch
// claims unsettled, River's slots, and a crash leave that many Unknown:
// here 1 place and 1 fetched ahead, one job answered but unwritten while
// the next one's call is under way. Never more: a third job would need a
// River slot.
func TestUnsettledClaimsAtMostPlacesAndPrefetch(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	// The first create is held until go1, the second until the end.
	u, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var creates atomic.Int32
	go1, end := make(chan struct{}), make(chan struct{})
	held := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/campaigns/") {
			if creates.Add(1) == 1 {
				<-go1
			} else {
				<-end
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	pool, _ := newPool(t)
	w := &Worker{Journal: newJournal(t, pool), TEL4VN: fastClient(t, held.URL), LeaseTTL: 3 * time.Second}
	client, err := NewClient(pool, w, 1, quickConfig())
	if err != nil {
		t.Fatal(err)
	}
	insertOrder(t, client, pool, otpArgs(1), true)
	insertOrder(t, client, pool, otpArgs(2), true)
	must(t, client.Start(ctx))
	tx, err := pool.Begin(ctx)
	must(t, err)
	opened := false
	defer func() {
		// The held creates go, the record is let go, then everything stops.
		if !opened {
			close(go1)
		}
		close(end)
		_ = tx.Rollback(ctx)
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = client.StopAndCancel(stop)
		_ = w.Close(ctx)
		held.Close()
	}()
	waitFor := func(n int32) {
		deadline := time.Now().Add(10 * time.Second)
		for creates.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d creates, want %d", creates.Load(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(1)
	// The first job's outcome cannot be written while this holds its
	// record (a slow database; a process about to die): its call is
	// answered, its claim stays.
	var key string
	must(t, tx.QueryRow(ctx, `SELECT key FROM autocall_job WHERE state = 'claimed' FOR UPDATE`).Scan(&key))
	close(go1)
	opened = true
	waitFor(2) // the next job took the place: claimed, its call under way
	time.Sleep(100 * time.Millisecond)
	var claimed int
	must(t, pool.QueryRow(ctx, `SELECT count(*) FROM autocall_job WHERE state = 'claimed'`).Scan(&claimed))
	if claimed != 2 {
		t.Errorf("%d claims unsettled with 1 place and 1 fetched ahead (%s answered, its outcome unwritten, and the next call under way), want 2", claimed, key)
	}
}
