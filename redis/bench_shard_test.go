package autocallredis

import (
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/batch"
)

var shardJobs = flag.Int("shard-jobs", 100_000, "jobs per run of BenchmarkJournalSharding")

// BenchmarkJournalSharding asks whether a large journal gains from being
// split over several hashes sharing a hash tag (so that one claim script
// still reaches one slot): 16 workers claim then settle every job, each
// claim the journal's script, on one hash or on 16. Reported: jobs/s (a
// claim and a settle each), the time to read every record back (HGETALL
// of each hash, as Records does), the longest of those reads, Redis's own
// time in one HGETALL (during which it serves nobody else) and the memory
// the journal takes.
//
//	cd redis && go test -run '^$' -bench JournalSharding -benchtime 1x -count 2 .
func BenchmarkJournalSharding(b *testing.B) {
	rs := startRedis(b, b.TempDir(), 0)
	rdb := rs.client(b)
	n := *shardJobs
	for _, shards := range []int{1, 16} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				name := fmt.Sprintf("{bench-%d-%d}", time.Now().UnixNano(), shards)
				keyOf := func(job string) string {
					if shards == 1 {
						return name
					}
					h := fnv.New32a()
					_, _ = h.Write([]byte(job))
					return fmt.Sprintf("%s:%d", name, h.Sum32()%uint32(shards))
				}
				var next atomic.Int64
				var wg sync.WaitGroup
				var failed atomic.Value
				start := time.Now()
				for w := 0; w < 16; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							k := int(next.Add(1)) - 1
							if k >= n {
								return
							}
							key := fmt.Sprintf("job-%06d", k)
							rec := batch.Record{Key: key, State: batch.Claimed, Time: time.Now(), Kind: "otp",
								Campaign: "1", Phones: []string{phone(k)}}
							line, _ := json.Marshal(rec)
							if err := claimScript.Run(ctx, rdb, []string{keyOf(key)}, key, line, "0").Err(); err != nil && err.Error() != "redis: nil" {
								failed.Store(err)
								return
							}
							rec.State, rec.CallIDs = batch.Placed, []string{fmt.Sprintf("1_1_%d_1_x_%s", k, phone(k))}
							line, _ = json.Marshal(rec)
							if err := rdb.HSet(ctx, keyOf(key), key, line).Err(); err != nil {
								failed.Store(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				elapsed := time.Since(start)
				if err := failed.Load(); err != nil {
					b.Fatal(err)
				}
				if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
					b.Fatal(err)
				}
				readStart := time.Now()
				var longest time.Duration
				var mem int64
				total := 0
				for s := 0; s < shards; s++ {
					key := name
					if shards > 1 {
						key = fmt.Sprintf("%s:%d", name, s)
					}
					t0 := time.Now()
					all, err := rdb.HGetAll(ctx, key).Result()
					if err != nil {
						b.Fatal(err)
					}
					longest = max(longest, time.Since(t0))
					total += len(all)
					m, err := rdb.MemoryUsage(ctx, key, 0).Result()
					if err != nil {
						b.Fatal(err)
					}
					mem += m
				}
				read := time.Since(readStart)
				stats, err := rdb.Info(ctx, "commandstats").Result()
				if err != nil {
					b.Fatal(err)
				}
				// Redis's own time in HGETALL: how long it held up everyone else.
				var calls int
				var usec, perCall float64
				_, _ = fmt.Sscanf(infoField(stats, "cmdstat_hgetall"), "calls=%d,usec=%g,usec_per_call=%g", &calls, &usec, &perCall)
				if total != n {
					b.Fatalf("%d records, want %d", total, n)
				}
				b.ReportMetric(float64(n)/elapsed.Seconds(), "jobs/s")
				b.ReportMetric(read.Seconds()*1000, "read-ms")
				b.ReportMetric(longest.Seconds()*1000, "longest-read-ms")
				b.ReportMetric(perCall/1000, "redis-ms/hgetall")
				b.ReportMetric(float64(mem)/1e6, "MB")
				keys := []string{name}
				for s := 0; s < shards && shards > 1; s++ {
					keys = append(keys, fmt.Sprintf("%s:%d", name, s))
				}
				rdb.Del(ctx, keys...)
			}
		})
	}
}
