package batch

import (
	"bufio"
	"bytes"
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
	dayText, keys, ok := scanTombstones(line)
	if !ok {
		var tl tombstoneLine
		if json.Unmarshal(line, &tl) != nil || tl.Forgotten.Day == "" {
			return false
		}
		dayText, keys = []byte(tl.Forgotten.Day), []byte(tl.Forgotten.Keys)
	}
	day, err := time.Parse(time.DateOnly, string(dayText))
	if err != nil {
		return false
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(keys)))
	n, err := base64.StdEncoding.Decode(raw, keys)
	raw = raw[:n]
	if err != nil || len(raw)%8 != 0 {
		return false
	}
	hs := make([]uint64, len(raw)/8)
	for i := range hs {
		hs[i] = binary.BigEndian.Uint64(raw[i*8:])
	}
	j.tombs.addDay(dayOf(day), hs) // sorted when the file is read
	return true
}

// scanTombstones reads a line of tombstones as the journal writes it,
// without a JSON decoder (a year's are a third of the file); false for a
// line written otherwise, which is then decoded.
func scanTombstones(line []byte) (day, keys []byte, ok bool) {
	rest, ok := bytes.CutPrefix(line, []byte(`{"forgotten":{"day":"`))
	if ok {
		day, rest, ok = plainString(rest)
	}
	if ok {
		rest, ok = bytes.CutPrefix(rest, []byte(`,"keys":"`))
	}
	if ok {
		keys, rest, ok = plainString(rest)
	}
	return day, keys, ok && string(rest) == "}}"
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
	stale := j.lines - len(j.recs)
	now := j.opts.now()
	for _, s := range j.recs {
		if j.opts.retention.Fate(j.stub(s), now) != Keep {
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
	var kept []slot
	gone := map[string]bool{}
	forgotten := map[int32][]uint64{}
	for _, s := range j.recs {
		rec := j.stub(s)
		switch j.opts.retention.Fate(rec, now) {
		case Keep:
			kept = append(kept, s)
			continue
		case Forget:
			d := dayOf(rec.Time)
			forgotten[d] = append(forgotten[d], KeyHash(s.key))
			c.Forgotten++
		case Drop:
			c.Dropped++
		}
		gone[s.key] = true
	}
	for d, hs := range forgotten {
		tombs.addDay(d, hs)
		tombs.sortDay(d)
	}
	c.Kept, c.Superseded, c.Tombstones = len(kept), j.lines-len(j.recs), tombs.count()

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
		delete(j.keys, k)
		delete(j.whole, k)
		delete(j.own, k)
	}
	j.ads.dropKeys(gone)
	for i, s := range kept {
		j.keys[s.key] = int32(i)
	}
	j.recs = kept
	j.tombs, j.lines = tombs, len(kept)
	c.BytesAfter = size
	step("done")
	if derr != nil {
		return c, fmt.Errorf("batch: compacting the journal: syncing its directory: %w", derr)
	}
	return c, nil
}

// stub is what retention reads of s's record: the record itself when it
// is whole.
func (j *FileJournal) stub(s slot) Record {
	if s.whole() {
		return j.whole[s.key]
	}
	return s.stub()
}

// writeCompacted writes the new journal at tmp, synced and locked, its
// offset at the end; it returns the file and its size.
// The kept settled records' lines are copied as they are, and their
// slots in kept moved to their new places.
func (j *FileJournal) writeCompacted(tmp string, kept []slot, tombs tombstones) (*os.File, int64, error) {
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
			if _, err := writeLine(w, tl); err != nil {
				return f, 0, err
			}
			hs = hs[n:]
		}
	}
	if err := w.Flush(); err != nil {
		return f, 0, err
	}
	off, err := f.Seek(0, io.SeekCurrent) // after the tombstones' lines
	if err != nil {
		return f, 0, err
	}
	var buf []byte
	for i, s := range kept {
		if s.whole() {
			n, err := writeLine(w, j.whole[s.key])
			if err != nil {
				return f, 0, err
			}
			off += int64(n)
		} else {
			at, n := s.line()
			if cap(buf) < n+1 {
				buf = make([]byte, n+1)
			}
			buf = buf[:n+1]
			if _, err := j.f.ReadAt(buf[:n], at); err != nil {
				return f, 0, fmt.Errorf("reading the journal: %w", err)
			}
			buf[n] = '\n'
			if _, err := w.Write(buf); err != nil {
				return f, 0, err
			}
			kept[i] = s.moved(off)
			off += int64(n + 1)
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

func writeLine(w *bufio.Writer, v any) (int, error) {
	line, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	w.Write(line)
	return len(line) + 1, w.WriteByte('\n')
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
	h := Horizon{Retention: j.opts.retention, Records: len(j.recs), Keys: j.tombs.count(), OldestKey: j.tombs.oldest()}
	for _, s := range j.recs {
		if r := j.stub(s); h.OldestRecord.IsZero() || r.Time.Before(h.OldestRecord) {
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
	var buf []byte
	for _, s := range j.recs {
		var rec Record
		if rec, buf, err = j.read(s, buf); err != nil {
			return nil, live, err
		}
		m.s.put(j.view(rec))
	}
	m.s.tombs = j.tombs
	return m, live, nil
}
