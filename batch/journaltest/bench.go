package journaltest

import (
	"context"
	"strconv"
	"testing"

	"github.com/autocallvn/autocall-go/batch"
)

// BenchClaimSettle measures what a journal costs a job: one claim and its
// outcome (Placed, one call id), one job after another, so that every
// journal is measured by one loop (BENCHMARKS.md sets them side by side).
func BenchClaimSettle(b *testing.B, j batch.Journal) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		key := "bench-" + strconv.Itoa(i)
		ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: key, Kind: "otp", Campaign: "1",
			Phones: []string{"0987654321"}, Run: "bench"}})
		if err != nil || !ok {
			b.Fatalf("claim %s: %v %v", key, ok, err)
		}
		if err := j.Settle(ctx, batch.Record{Key: key, State: batch.Placed, CallIDs: []string{"1_1_1_" + key + "_0987654321"}}); err != nil {
			b.Fatal(err)
		}
	}
}
