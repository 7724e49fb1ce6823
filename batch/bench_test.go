package batch

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	autocall "github.com/autocallvn/autocall-go"
)

var benchJobs = flag.Int("batch-jobs", 10_000, "jobs per run of BenchmarkBatch")

// nopJournal records nothing: the ceiling a journal is measured against.
type nopJournal struct{}

func (*nopJournal) Claim(context.Context, ClaimRequest) (bool, Record, error) {
	return true, Record{}, nil
}
func (*nopJournal) Settle(context.Context, Record) error                   { return nil }
func (*nopJournal) SettleIf(context.Context, Record, Record) (bool, error) { return true, nil }
func (*nopJournal) Lease(context.Context, string, time.Duration) error     { return nil }
func (*nopJournal) Get(context.Context, string) (Record, bool, error)      { return Record{}, false, nil }
func (*nopJournal) Records(context.Context) ([]Record, error)              { return nil, nil }
func (*nopJournal) Close() error                                           { return nil }

// BenchmarkBatch: 10,000 OTP jobs against a server that answers after
// 50 ms, 16 workers. The ceiling is workers ÷ latency, 320 jobs/s.
//
//	go test -run '^$' -bench Batch -benchtime 1x ./batch/
func BenchmarkBatch(b *testing.B) {
	c := benchClient(b)
	for _, kind := range []string{"nop", "file"} {
		b.Run("journal="+kind, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var j Journal = &nopJournal{}
				if kind == "file" {
					j = benchFileJournal(b, i)
				}
				benchRun(b, &Runner{TEL4VN: c, Journal: j, Workers: benchWorkers}, otpJobs(*benchJobs))
			}
		})
	}
}

// benchLatency and benchWorkers are the benchmarks' workload: a server
// answering after 50 ms, 16 workers; the ceiling is workers ÷ latency.
const benchLatency, benchWorkers = 50 * time.Millisecond, 16

// benchClient is a TEL4VN client of a server that accepts every call
// after benchLatency.
func benchClient(b *testing.B) *autocall.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(benchLatency)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"campaign_id":"1","results":{"success":["1_1_1_1_x_0912345678"],"fail":[]}}}`)
	}))
	b.Cleanup(srv.Close)
	c, err := autocall.NewClient(srv.URL, autocall.WithAccessToken("t"), autocall.WithProvider(autocall.TEL4VN))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdleConnections)
	return c
}

// benchFileJournal is a fresh file journal for the i-th run.
func benchFileJournal(b *testing.B, i int) *FileJournal {
	fj, err := OpenFile(filepath.Join(b.TempDir(), fmt.Sprintf("bench-%d.journal", i)))
	if err != nil {
		b.Fatal(err)
	}
	return fj
}

// benchRun runs jobs, closes the journal, requires every job placed and
// reports jobs/s and its share of the ceiling.
func benchRun(b *testing.B, r *Runner, jobs []Job) {
	start := time.Now()
	rep, err := r.Run(ctx, jobs)
	elapsed := time.Since(start)
	r.Journal.Close()
	if err != nil || rep.Placed != len(jobs) {
		b.Fatalf("%v %+v", err, rep)
	}
	ceiling := float64(benchWorkers) / benchLatency.Seconds()
	b.ReportMetric(float64(len(jobs))/elapsed.Seconds(), "jobs/s")
	b.ReportMetric(float64(len(jobs))/elapsed.Seconds()/ceiling, "of-ceiling")
}
