package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
	autocallriver "github.com/autocallvn/autocall-go/river"
)

// SIGTERM lets the job in flight (claimed, its call under way) finish and
// settles it; a job River fetched ahead, still waiting for the worker's
// place, is not in flight: it goes back to River unsent, for a replica
// that is not stopping. Stopped softly (River's Stop), it took the place
// once the first call answered and phoned its customer after SIGTERM.
func TestSIGTERMSendsNoJobWaitingForAPlace(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	// Each create is held in front of the sandbox until release.
	u, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	arrived, release := make(chan struct{}, 16), make(chan struct{})
	held := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/campaigns/") {
			arrived <- struct{}{}
			<-release
		}
		proxy.ServeHTTP(w, r)
	}))
	defer held.Close()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()

	dbURL, pool := migratedDB(t)
	w := startWorkerEnv(t, dbURL, srv, []string{"AUTOCALL_BASE_URL=" + held.URL}, "--workers", "1") // one place, one fetched ahead
	insertOnly, err := river.NewClient(riverpgxv5New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		args := autocallriver.OTPArgs{Common: autocallriver.Common{Key: fmt.Sprintf("order-%d", i)},
			CampaignID: "1", Caller: "02873001234", Callees: []string{fmt.Sprintf("09120000%d3", i)}, TemplateName: "otp", Code: "1234"}
		if _, err := insertOnly.Insert(ctx, args, nil); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatalf("no create reached the provider\n%s", tail(w.out.String(), 2000))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'running'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break // one in its place, one fetched ahead
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs running, want 2", n)
		}
		time.Sleep(10 * time.Millisecond)
	}

	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond) // the stop has begun
	go func() {
		for range arrived { // a later create goes through
		}
	}()
	close(release)
	released = true
	w.exited(t)

	if n := srv.Count("/api/v2/campaigns/1/otp"); n != 1 {
		t.Errorf("%d creates reached the provider, want 1 (the job in flight at SIGTERM)", n)
	}
	j, err := autocallriver.NewJournal(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	recs, err := j.Records(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].State != batch.Placed {
		t.Errorf("journal %+v, want one record, placed (the job in flight, settled)", recs)
	}
	var left int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'available'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 1 {
		t.Errorf("%d jobs available in River, want 1 (the one fetched ahead, given back)", left)
	}
}
