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
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The benchmarks of retention (BENCHMARKS.md): a daily cron of 10,000
// rows kept 30 days, simulated for a year, and a 1,000,000-job journal
// opened before and after compaction. Run them with
//
//	go test -run '^$' -bench 'Retention' -benchtime 1x ./batch
//
// The year runs the cron through the journal's API (cronDay); the
// million-job journal is written as its lines directly (appendDay), the
// lines a run writes, since it is never compacted.

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
			Phones: []string{fmt.Sprintf("09%08d", (d*cronRows+i)%100000000)}, ClaimedAt: at, Run: run}
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

// BenchmarkRetentionYear runs the cron's year through the FileJournal's
// API with a simulated clock (WithClock), then measures OpenFile on the
// journal as it stood after days 30, 90, 180 and 365, and on the largest
// file the cron opened in the last month (the day before a compaction).
// Each day claims and settles 10,000 rows as a run does, many at once
// (their claims share fsyncs); the journal is compacted when its stale
// lines pass the share at the day's start and end, as OpenFile and Close
// do. One handle serves the year: reopening it every day would write
// nothing different.
func BenchmarkRetentionYear(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "cron.journal")
	start := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	j, err := OpenFile(path, WithClock(func() time.Time { return time.Unix(0, clock.Load()).UTC() }))
	if err != nil {
		b.Fatal(err)
	}
	snap := map[string]string{}
	var largest int64
	began := time.Now()
	for d := 1; d <= 365; d++ {
		at := start.Add(time.Duration(d) * 24 * time.Hour)
		clock.Store(at.UnixNano())
		compactIfDue(b, j) // as OpenFile does
		if size := fileSize(b, path); d > 335 && size > largest {
			largest = size
			snap["largest"] = filepath.Join(dir, "largest")
			copyFile(b, path, snap["largest"])
		}
		cronDay(b, j, d, at)
		compactIfDue(b, j) // as Close does
		if d == 30 || d == 90 || d == 180 || d == 365 {
			name := fmt.Sprintf("day%03d", d)
			snap[name] = filepath.Join(dir, name)
			copyFile(b, path, snap[name])
		}
	}
	if err := j.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("the year took %s", time.Since(began).Round(time.Second))
	end := start.Add(366 * 24 * time.Hour)
	for _, name := range []string{"day030", "day090", "day180", "day365", "largest"} {
		b.Run(name, func(b *testing.B) { measureOpen(b, snap[name], WithClock(func() time.Time { return end })) })
	}
}

// cronDay claims and settles day d's rows through j, at the day's time:
// one phone and one call id each.
func cronDay(b *testing.B, j *FileJournal, d int, at time.Time) {
	ctx := context.Background()
	run := fmt.Sprintf("%sZ-%016x", at.UTC().Format("20060102T150405"), d)
	rows := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rows {
				rec := Record{Key: fmt.Sprintf("d%03d-row-%05d", d, i), Time: at, Kind: "otp", Campaign: "1",
					Phones: []string{fmt.Sprintf("09%08d", (d*cronRows+i)%100000000)}, Run: run}
				ok, _, err := j.Claim(ctx, ClaimRequest{Record: rec})
				if err == nil && !ok {
					err = fmt.Errorf("%s: not claimed", rec.Key)
				}
				if err == nil {
					err = j.Settle(ctx, Record{Key: rec.Key, State: Placed, Time: at,
						CallIDs: []string{fmt.Sprintf("1_2_%d_%d_u_84%s", d, i, rec.Phones[0][1:])}})
				}
				if err != nil {
					failed.Store(&err)
				}
			}
		}()
	}
	for i := range cronRows {
		rows <- i
	}
	close(rows)
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
}

// compactIfDue compacts j when its stale lines pass the share, as
// OpenFile and Close do.
func compactIfDue(b *testing.B, j *FileJournal) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.shouldCompact() {
		if _, err := j.compactLocked(); err != nil {
			b.Fatal(err)
		}
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
