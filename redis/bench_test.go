package autocallredis

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
	"github.com/autocallvn/autocall-go/batch"
)

var benchJobs = flag.Int("journal-jobs", 4000, "jobs per run of BenchmarkJournals")

type nopJournal struct{}

func (nopJournal) Claim(context.Context, batch.ClaimRequest) (bool, batch.Record, error) {
	return true, batch.Record{}, nil
}
func (nopJournal) Settle(context.Context, batch.Record) error { return nil }
func (nopJournal) SettleIf(context.Context, batch.Record, batch.Record) (bool, error) {
	return true, nil
}
func (nopJournal) Lease(context.Context, string, time.Duration) error { return nil }
func (nopJournal) Get(context.Context, string) (batch.Record, bool, error) {
	return batch.Record{}, false, nil
}
func (nopJournal) Records(context.Context) ([]batch.Record, error) { return nil, nil }
func (nopJournal) Close() error                                    { return nil }

// BenchmarkJournals: the same workload (16 workers, a server answering
// after 50 ms: a ceiling of 320 jobs/s) with no journal, the file journal
// and the Redis journal (appendfsync always).
//
//	cd redis && go test -run '^$' -bench Journals -benchtime 1x -count 3 .
func BenchmarkJournals(b *testing.B) {
	const latency, workers = 50 * time.Millisecond, 16
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"campaign_id":"1","results":{"success":["1_1_1_1_x_0912345678"],"fail":[]}}}`)
	}))
	defer srv.Close()
	c, err := autocall.NewClient(srv.URL, autocall.WithAccessToken("t"), autocall.WithProvider(autocall.TEL4VN))
	if err != nil {
		b.Fatal(err)
	}
	rs := startRedis(b, b.TempDir(), 0)
	ceiling := float64(workers) / latency.Seconds()
	for _, kind := range []string{"none", "file", "redis"} {
		b.Run("journal="+kind, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var j batch.Journal = nopJournal{}
				switch kind {
				case "file":
					fj, err := batch.OpenFile(filepath.Join(b.TempDir(), "j"))
					if err != nil {
						b.Fatal(err)
					}
					j = fj
				case "redis":
					j = NewJournal(rs.client(b), fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i))
				}
				start := time.Now()
				rep, err := (&batch.Runner{TEL4VN: c, Journal: j, Workers: workers}).Run(ctx, jobs(*benchJobs))
				elapsed := time.Since(start)
				j.Close()
				if err != nil || rep.Placed != *benchJobs {
					b.Fatalf("%v %+v", err, rep)
				}
				b.ReportMetric(float64(*benchJobs)/elapsed.Seconds(), "jobs/s")
				b.ReportMetric(float64(*benchJobs)/elapsed.Seconds()/ceiling, "of-ceiling")
			}
		})
	}
}
