package batch

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// The benchmarks of retention (BENCHMARKS.md): a daily cron of 10,000
// rows kept 30 days, simulated for a year, and a 1,000,000-job journal
// opened before and after compaction. Run them with
//
//	go test -run '^$' -bench 'Retention' -benchtime 1x ./batch
//
// Each day of the simulation appends the lines a run writes (a claim
// and its outcome per row: one phone, one call id), then opens and closes
// the journal as the cron's run does, with the day's clock: Close
// compacts when stale lines pass the share.

const cronRows = 10000

// appendDay writes day d's run: rows claimed then placed at the day's time.
func appendDay(path string, d int, at time.Time) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	run := fmt.Sprintf("%sZ-%016x", at.UTC().Format("20060102T150405"), d)
	for i := range cronRows {
		rec := Record{Key: fmt.Sprintf("d%03d-row-%05d", d, i), State: Claimed, Time: at, Kind: "otp", Campaign: "1",
			Phones: []string{fmt.Sprintf("09%08d", (d*cronRows+i)%100000000)}, Claimed: at, Run: run}
		line, _ := json.Marshal(rec)
		w.Write(append(line, '\n'))
		rec.State, rec.CallIDs = Placed, []string{fmt.Sprintf("1_2_%d_%d_u_84%s", d, i, rec.Phones[0][1:])}
		line, _ = json.Marshal(rec)
		w.Write(append(line, '\n'))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// measureOpen reports OpenFile's time, the heap it holds, and the file's
// size, on path as it is (compaction held off).
func measureOpen(b *testing.B, path string, opts ...JournalOption) {
	defer func(m int64) { compactMinBytes = m }(compactMinBytes)
	compactMinBytes = 1 << 62
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	var heap uint64
	var took time.Duration
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		j, err := OpenFile(path, opts...)
		if err != nil {
			b.Fatal(err)
		}
		took = time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		h := j.Horizon()
		b.ReportMetric(float64(h.Records), "records")
		b.ReportMetric(float64(h.Keys), "keys")
		j.Close()
	}
	b.ReportMetric(took.Seconds(), "open-s")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(st.Size())/(1<<20), "file-MiB")
}

func copyFile(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	out.Close()
}

// BenchmarkRetentionYear simulates the year, then measures OpenFile on the
// journal as it stood after days 30, 90, 180 and 365, and on the largest
// file of the year (the day before a compaction).
func BenchmarkRetentionYear(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "cron.journal")
	start := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	snap := map[string]string{}
	var largest int64
	for d := 1; d <= 365; d++ {
		at := start.Add(time.Duration(d) * 24 * time.Hour)
		if err := appendDay(path, d, at); err != nil {
			b.Fatal(err)
		}
		st, _ := os.Stat(path)
		if st.Size() > largest {
			largest = st.Size()
			snap["largest"] = filepath.Join(dir, "largest")
			copyFile(b, path, snap["largest"])
		}
		j, err := OpenFile(path, WithClock(func() time.Time { return at }))
		if err != nil {
			b.Fatal(err)
		}
		if err := j.Close(); err != nil { // compacts past the share
			b.Fatal(err)
		}
		if d == 30 || d == 90 || d == 180 || d == 365 {
			name := fmt.Sprintf("day%03d", d)
			snap[name] = filepath.Join(dir, name)
			copyFile(b, path, snap[name])
		}
	}
	end := start.Add(366 * 24 * time.Hour)
	for _, name := range []string{"day030", "day090", "day180", "day365", "largest"} {
		b.Run(name, func(b *testing.B) { measureOpen(b, snap[name], WithClock(func() time.Time { return end })) })
	}
}

// BenchmarkRetentionMillion: a journal of 1,000,000 jobs (100 days of the
// cron, never compacted) opened as it is, then after compaction 101 days
// on from its first day.
func BenchmarkRetentionMillion(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "million.journal")
	start := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	for d := 1; d <= 100; d++ {
		if err := appendDay(path, d, start.Add(time.Duration(d)*24*time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
	now := func() time.Time { return start.Add(101 * 24 * time.Hour) }
	b.Run("before", func(b *testing.B) { measureOpen(b, path, WithClock(now)) })
	j, err := OpenFile(path, WithClock(now))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := j.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	j.Close()
	b.Run("after", func(b *testing.B) { measureOpen(b, path, WithClock(now)) })
}
