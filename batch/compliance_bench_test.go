package batch

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkBatchPolicy: BenchmarkBatch's workload (16 workers, 50 ms a
// request, the file journal) with every job transactional, then every job
// advertising under the decree's Policy with a 100,000-number Do-Not-Call
// list: the Policy's cost is the difference.
//
//	go test -run '^$' -bench BatchPolicy -benchtime 1x -count 3 ./batch/ -args -batch-jobs 4000
func BenchmarkBatchPolicy(b *testing.B) {
	c := benchClient(b)
	dnc := &DoNotCallList{phones: map[string]struct{}{}}
	for i := 0; i < 100_000; i++ {
		dnc.phones[fmt.Sprintf("098%07d", i)] = struct{}{}
	}
	open := time.Date(2026, 12, 1, 10, 0, 0, 0, Vietnam())
	for _, purpose := range []Purpose{Transactional, Advertising} {
		name := string(purpose)
		if name == "" {
			name = "transactional"
		}
		b.Run("purpose="+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				jobs := otpJobs(*benchJobs)
				for k := range jobs {
					jobs[k].Purpose = purpose
				}
				benchRun(b, &Runner{TEL4VN: c, Journal: benchFileJournal(b, i), Workers: benchWorkers,
					Policy: &Policy{DoNotCall: dnc}, Now: func() time.Time { return open }}, jobs)
			}
		})
	}
}

// BenchmarkPolicyChecks: the Policy's own work for one advertising job,
// without the network or the disk: the window, a lookup in a
// 100,000-number Do-Not-Call list, and the per-phone index's check and
// entry, in a journal that already indexes 100,000 calls.
//
//	go test -run '^$' -bench PolicyChecks ./batch/
func BenchmarkPolicyChecks(b *testing.B) {
	dnc := &DoNotCallList{phones: map[string]struct{}{}}
	ix := adIndex{}
	open := time.Date(2026, 12, 1, 10, 0, 0, 0, Vietnam())
	for i := 0; i < 100_000; i++ {
		dnc.phones[fmt.Sprintf("098%07d", i)] = struct{}{}
		ix.put(fmt.Sprintf("old-%d", i), []string{fmt.Sprintf("097%07d", i)}, open.Add(-48*time.Hour))
	}
	p := &Policy{DoNotCall: dnc}
	phones := make([][]string, 1024)
	for i := range phones {
		phones[i] = []string{fmt.Sprintf("097%07d", i*37)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ph := phones[i%len(phones)]
		if p.hours(open, 0) != nil || p.doNotCall(ctx, ph, 0) != nil {
			b.Fatal("held")
		}
		if d := ix.holds("k", ph, open, DefaultInterval); d != nil {
			b.Fatal(d)
		}
		ix.put("k", ph, open)
		ix.drop("k", ph)
	}
}
