package batch

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Compaction of the file journal: the records Retention.Fate keeps and the
// tombstones that stand are written to a new file beside the journal
// (path + ".compact"), which is synced, locked, and renamed over the
// journal; then the directory is synced. A crash before the rename leaves
// the old journal whole (and a stray .compact file, overwritten by the
// next compaction); after it, the new one, whole since it was synced
// before. Never neither.

// Compaction thresholds: stale lines (superseded, or let go by the
// Retention) past compactShare of the file's lines, in a file of at least
// compactMinBytes. Between compactions a daily run's file stays within a
// third of its compacted size.
var (
	compactShare    = 0.25
	compactMinBytes = int64(1 << 20)
)

// compactStep, when set (crash tests), is called at each step of a
// compaction.
var compactStep func(step string)

func step(name string) {
	if compactStep != nil {
		compactStep(name)
	}
}

// tombstoneLine is a file line of tombstones: the KeyHash hashes, 8 bytes
// each, big-endian, base64, of the keys forgotten whose records were of
// Day (UTC). A line holds at most tombstonesPerLine of them.
type tombstoneLine struct {
	Forgotten struct {
		Day  string `json:"day"`
		Keys string `json:"keys"`
	} `json:"forgotten"`
}

const tombstonesPerLine = 4096

// tombstoneLine reads line as a line of tombstones, into j.tombs.
func (j *FileJournal) tombstoneLine(line []byte) bool {
	var tl tombstoneLine
	if json.Unmarshal(line, &tl) != nil || tl.Forgotten.Day == "" {
		return false
	}
	day, err := time.Parse(time.DateOnly, tl.Forgotten.Day)
	if err != nil {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(tl.Forgotten.Keys)
	if err != nil || len(raw)%8 != 0 {
		return false
	}
	hs := make([]uint64, len(raw)/8)
	for i := range hs {
		hs[i] = binary.BigEndian.Uint64(raw[i*8:])
	}
	j.tombs.add(day, hs...)
	return true
}

// shouldCompact reports, under j.mu, whether the stale lines passed the
// share of the file that calls for a compaction.
func (j *FileJournal) shouldCompact() bool {
	if j.live || j.lines == 0 {
		return false
	}
	j.syncMu.Lock()
	size := j.written
	j.syncMu.Unlock()
	if size < compactMinBytes {
		return false
	}
	stale := j.lines - len(j.records)
	now := j.opts.now()
	for _, rec := range j.records {
		if j.opts.retention.Fate(rec, now) != Keep {
			stale++
		}
	}
	return float64(stale) > compactShare*float64(j.lines)
}

// Compact implements Compactor: it rewrites the journal now with the
// records its Retention keeps and the tombstones that stand. Claims wait
// for it.
func (j *FileJournal) Compact(context.Context) (Compaction, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return Compaction{}, errClosed
	}
	return j.compactLocked()
}

// compactLocked compacts under j.mu.
func (j *FileJournal) compactLocked() (c Compaction, err error) {
	// Every byte written is durable first, and no sync is left running on
	// the old file: appends wait for j.mu.
	j.syncMu.Lock()
	c.BytesBefore = j.written
	j.syncMu.Unlock()
	if err := j.waitSynced(c.BytesBefore); err != nil {
		return c, err
	}
	now := j.opts.now()
	tombs := make(tombstones, len(j.tombs))
	for d, hs := range j.tombs {
		tombs[d] = hs
	}
	c.Expired = tombs.expire(j.opts.retention, now)
	var kept []string
	gone := map[string]bool{}
	for _, k := range j.order {
		rec := j.records[k]
		switch j.opts.retention.Fate(rec, now) {
		case Keep:
			kept = append(kept, k)
			continue
		case Forget:
			tombs.add(rec.Time, KeyHash(k))
			c.Forgotten++
		case Drop:
			c.Dropped++
		}
		gone[k] = true
	}
	c.Kept, c.Superseded, c.Tombstones = len(kept), j.lines-len(j.records), tombs.count()

	tmp := j.path + ".compact"
	f, size, err := j.writeCompacted(tmp, kept, tombs)
	if err != nil {
		if f != nil {
			f.Close()
		}
		os.Remove(tmp)
		return c, fmt.Errorf("batch: compacting the journal (it is whole as it was): %w", err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		f.Close()
		os.Remove(tmp)
		return c, fmt.Errorf("batch: compacting the journal (it is whole as it was): %w", err)
	}
	step("renamed")
	// From here the new file is the journal: it is used whatever follows.
	derr := syncDir(filepath.Dir(j.path))
	step("dir-synced")
	j.syncMu.Lock()
	old := j.f
	j.f, j.written, j.synced = f, size, size
	j.syncMu.Unlock()
	old.Close() // its lock goes with it; the new file's is held

	for k := range gone {
		rec := j.records[k]
		delete(j.records, k)
		delete(j.own, k)
		j.ads.drop(k, rec.Phones)
	}
	j.order = slices.Clip(kept)
	j.tombs, j.lines = tombs, len(kept)
	c.BytesAfter = size
	step("done")
	if derr != nil {
		return c, fmt.Errorf("batch: compacting the journal: syncing its directory: %w", derr)
	}
	return c, nil
}

// writeCompacted writes the new journal at tmp, synced and locked, its
// offset at the end; it returns the file and its size.
func (j *FileJournal) writeCompacted(tmp string, kept []string, tombs tombstones) (*os.File, int64, error) {
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, 0, err
	}
	// Locked before it becomes the journal, so that no other process can
	// take the journal between the rename and the end.
	if err := lockFile(f); err != nil {
		return f, 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	days := make([]int32, 0, len(tombs))
	for d := range tombs {
		days = append(days, d)
	}
	slices.Sort(days)
	var tl tombstoneLine
	for _, d := range days {
		hs := tombs[d]
		tl.Forgotten.Day = dayEnd(d).Add(-time.Hour).Format(time.DateOnly)
		for len(hs) > 0 {
			n := min(len(hs), tombstonesPerLine)
			raw := make([]byte, 8*n)
			for i, h := range hs[:n] {
				binary.BigEndian.PutUint64(raw[i*8:], h)
			}
			tl.Forgotten.Keys = base64.StdEncoding.EncodeToString(raw)
			if err := writeLine(w, tl); err != nil {
				return f, 0, err
			}
			hs = hs[n:]
		}
	}
	for i, k := range kept {
		if err := writeLine(w, j.records[k]); err != nil {
			return f, 0, err
		}
		if i == len(kept)/2 {
			if err := w.Flush(); err != nil {
				return f, 0, err
			}
			step("half-written")
		}
	}
	if err := w.Flush(); err != nil {
		return f, 0, err
	}
	step("written")
	if err := f.Sync(); err != nil {
		return f, 0, err
	}
	step("synced")
	size, err := f.Seek(0, io.SeekEnd)
	return f, size, err
}

func writeLine(w *bufio.Writer, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Write(line)
	return w.WriteByte('\n')
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, os.ErrInvalid) { // a system that cannot sync a directory
		return nil
	}
	return err
}

// Horizon says how far back the journal remembers (as of its last
// compaction: a record past its retention stays until the next).
func (j *FileJournal) Horizon() Horizon {
	j.mu.Lock()
	defer j.mu.Unlock()
	h := Horizon{Retention: j.opts.retention, Records: len(j.records), Keys: j.tombs.count(), OldestKey: j.tombs.oldest()}
	for _, r := range j.records {
		if h.OldestRecord.IsZero() || r.Time.Before(h.OldestRecord) {
			h.OldestRecord = r.Time
		}
	}
	return h
}

// ReadFileHorizon is ReadFile, with how far back the journal remembers,
// judged by opts' Retention.
func ReadFileHorizon(path string, opts ...JournalOption) (recs []Record, inUseNow bool, h Horizon, err error) {
	j, live, err := readFile(path, opts)
	if err != nil {
		return nil, live, h, err
	}
	defer j.f.Close()
	recs, err = j.Records(context.Background())
	return recs, live, j.Horizon(), err
}

var _ Compactor = (*FileJournal)(nil)

// MemJournalFromFile is a MemJournal holding a copy of the journal at path
// (read without its lock): its records, its per-phone index and its
// tombstones, so that a dry run skips, defers and refuses as forgotten what
// the real run would. live reports that a process holds the journal.
func MemJournalFromFile(path string, opts ...JournalOption) (m *MemJournal, live bool, err error) {
	j, live, err := readFile(path, opts)
	if err != nil {
		return nil, live, err
	}
	defer j.f.Close()
	m = NewMemJournal(opts...)
	for _, k := range j.order {
		m.s.put(j.view(j.records[k]))
	}
	m.s.tombs = j.tombs
	return m, live, nil
}
