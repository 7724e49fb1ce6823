package batch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"
)

// FileJournal is the default Journal: a file of JSON lines, one record a
// line, the latest line of a key winning. `jq` and `less` read it as it is.
//
// Crash safety: a claim is written and fsynced before Claim returns, so
// before its request leaves. An outcome is written at once and made
// durable by the next sync: the next claim's (a sync covers every byte
// written before it), a background sync a few milliseconds later, or
// Close. Concurrent writers share one fsync (group commit). A crash before
// an outcome's sync leaves its job claimed, so unknown: never sent again,
// at worst looked up by hand. That keeps one sync wait per job, not two,
// on the batch's path.
//
// Reopening: every claim found without its outcome was in flight when
// its process died, and reads as Unknown (Get and Records say so too). A
// process that dies leaves at most its last line cut short. A cut line
// whose key can be read counts as a claim: it is written again whole, as
// Unknown, so that it stays unknown however often the journal is opened.
// A line cut before its key ends was a claim whose fsync never returned,
// so no request left for it, and it is dropped. A last line that is a
// whole record but for its newline is a whole record. A damaged line
// anywhere else stops OpenFile with ErrDamaged, naming the line.
//
// One process at a time: OpenFile takes an exclusive lock on the file and
// fails with ErrLocked while another process holds it.
//
// Memory: a settled record (Placed, Refused, Unsent) is held as its line's
// place in the file, its state and time (32 bytes and its key), and read
// back from the file by Get, Records and a claim of its key; claims,
// unknown and deferred records are held whole. A year of a daily
// 10,000-row cron, 300,000 records and 3.3 million tombstones, opens in
// under a second with about 55 MiB of heap (BENCHMARKS.md).
type FileJournal struct {
	f    *os.File
	path string

	// live: reading a journal a process holds (ReadFile): its claims are
	// in flight, not dead, so they stay Claimed.
	live bool

	// The latest record of each key (file_records.go): recs in the order
	// the keys first appeared, keys indexing them, whole the records not
	// kept as their line's place.
	mu     sync.Mutex
	keys   map[string]int32
	recs   []slot
	whole  map[string]Record
	ads    adIndex           // advertising calls by phone, from records
	own    map[string]string // this process's unsettled claims: key → run
	closed bool

	// Retention (file_compact.go): the keys of forgotten records, and how
	// many record lines the file holds (superseded ones included).
	opts  journalOptions
	tombs tombstones
	lines int

	// Group commit: writers append under mu, then wait for a sync that
	// covers their bytes; one goroutine syncs for all of them.
	syncMu   sync.Mutex
	written  int64 // bytes appended
	synced   int64 // bytes known durable
	syncCond *sync.Cond
	syncing  bool
	syncErr  error
	later    *time.Timer    // the background sync of outcomes, when one is due
	bg       sync.WaitGroup // the background sync, until it has ended
}

// settleSyncDelay is how soon an outcome is synced when no claim does it.
const settleSyncDelay = 10 * time.Millisecond

// OpenFile opens (or creates) the journal at path and reads it. Options
// set its Retention (WithRetention; the defaults otherwise): a journal
// whose stale lines pass a share of the file is compacted on opening and
// on Close (Compact).
func OpenFile(path string, opts ...JournalOption) (*FileJournal, error) {
	f, err := openLocked(path)
	if err != nil {
		return nil, err
	}
	j := newFileJournal(f, path, opts)
	j.own = map[string]string{}
	j.syncCond = sync.NewCond(&j.syncMu)
	if err := j.open(); err != nil {
		f.Close()
		return nil, err
	}
	if j.shouldCompact() {
		if _, err := j.Compact(context.Background()); err != nil {
			j.Close()
			return nil, err
		}
	}
	return j, nil
}

func newFileJournal(f *os.File, path string, opts []JournalOption) *FileJournal {
	return &FileJournal{f: f, path: path, keys: map[string]int32{}, whole: map[string]Record{}, ads: adIndex{}, tombs: tombstones{}, opts: journalOpts(opts)}
}

// openLocked opens path and takes its lock. A compaction in another
// process may rename a new file over path between the open and the lock:
// the file locked must still be the one at path, or it is opened again.
func openLocked(path string) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("batch: opening the journal: %w", err)
		}
		if err := lockFile(f); err != nil {
			f.Close()
			if errors.Is(err, ErrLocked) {
				return nil, fmt.Errorf("%w: %s", ErrLocked, path)
			}
			return nil, fmt.Errorf("batch: locking the journal %s: %w", path, err)
		}
		held, herr := f.Stat()
		now, nerr := os.Stat(path)
		if herr == nil && nerr == nil && os.SameFile(held, now) {
			return f, nil
		}
		f.Close()
		if herr != nil {
			return nil, fmt.Errorf("batch: opening the journal: %w", herr)
		}
	}
}

// open reads the file and repairs its end: a cut last line is dropped, and
// what it said written again whole; a last record without its newline
// gets one.
func (j *FileJournal) open() error {
	end, tail, err := j.load()
	if err != nil {
		return err
	}
	if err := j.f.Truncate(end); err != nil {
		return fmt.Errorf("batch: repairing the journal: %w", err)
	}
	if _, err := j.f.Seek(end, io.SeekStart); err != nil {
		return err
	}
	j.written, j.synced = end, end
	var fix []byte
	if tail.newline {
		fix = append(fix, '\n')
	}
	if tail.cut != nil {
		line, err := json.Marshal(*tail.cut)
		if err != nil {
			return err
		}
		fix = append(append(fix, line...), '\n')
	}
	if len(fix) == 0 {
		return nil
	}
	if _, err := j.f.Write(fix); err != nil {
		return fmt.Errorf("batch: repairing the journal: %w", err)
	}
	j.written += int64(len(fix))
	return j.waitSynced(j.written)
}

// lastLine is what load found at the end of the file to repair.
type lastLine struct {
	newline bool    // a whole record without its newline
	cut     *Record // the record a cut line still names, to write whole
}

// ReadFile reads the journal at path without writing to it or taking its
// lock, so that it can be looked at while a run holds it (inUse). A claim
// without its outcome then reads as Claimed: that run has it in flight.
// When no process holds the journal, a claim reads as Unknown, as OpenFile
// reads it. Nothing is repaired: a cut last line is read as OpenFile would
// read it, or, in use, as a claim being written. Records are in the order
// their keys first appeared.
func ReadFile(path string) (recs []Record, inUseNow bool, err error) {
	j, live, err := readFile(path, nil)
	if err != nil {
		return nil, live, err
	}
	defer j.f.Close()
	recs, err = j.Records(context.Background())
	return recs, live, err
}

// readFile loads the journal at path without its lock; the caller closes
// j.f.
func readFile(path string, opts []JournalOption) (j *FileJournal, live bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("batch: opening the journal: %w", err)
	}
	live, err = inUse(f)
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("batch: looking at the journal's lock: %w", err)
	}
	j = newFileJournal(f, path, opts)
	j.live = live
	if _, _, err := j.load(); err != nil {
		f.Close()
		return nil, live, err
	}
	return j, live, nil
}

// load reads every line; it returns the offset after the last whole
// record and what the end needs. A settled record's line is scanned, not
// decoded (scanLine): opening reads a year's journal in well under a
// second.
func (j *FileJournal) load() (int64, lastLine, error) {
	var tail lastLine
	if _, err := j.f.Seek(0, io.SeekStart); err != nil {
		return 0, tail, err
	}
	r := bufio.NewReaderSize(j.f, 1<<20)
	var off int64
	defer j.tombs.sort()
	for n := 1; ; n++ {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: read it whole.
			long := append([]byte(nil), line...)
			var more []byte
			more, err = r.ReadBytes('\n')
			line = append(long, more...)
		}
		if err == io.EOF {
			if err := j.decodeClaims(); err != nil {
				return 0, tail, err
			}
			if len(line) == 0 {
				return off, tail, nil
			}
			var rec Record
			if json.Unmarshal(line, &rec) == nil && rec.Key != "" {
				j.put(j.loaded(rec), off, len(line))
				tail.newline = true
				return off + int64(len(line)), tail, nil
			}
			tail.cut = j.cutLine(line)
			return off, tail, nil
		}
		if err != nil {
			return 0, tail, fmt.Errorf("batch: reading the journal: %w", err)
		}
		body := line[:len(line)-1]
		if key, code, t, ok := scanLine(body); ok && fitsSlot(off, len(body), t) {
			s := slot{pos: packSlot(off, len(body), code, false), nanos: t.UnixNano()}
			if i, had := j.keys[string(key)]; had {
				s.key = j.recs[i].key
			} else {
				s.key = string(key)
			}
			j.putSlot(s)
			off += int64(len(line))
			continue
		}
		if bytes.HasPrefix(body, []byte(`{"forgotten":`)) && j.tombstoneLine(body) {
			off += int64(len(line))
			continue
		}
		var rec Record
		jerr := json.Unmarshal(body, &rec)
		if jerr == nil && rec.Key == "" && j.tombstoneLine(body) {
			off += int64(len(line))
			continue
		}
		if jerr != nil || rec.Key == "" {
			if jerr == nil {
				jerr = errors.New("no key")
			}
			return 0, tail, fmt.Errorf("%w: %s, line %d is not a record (%v), and it is not the last line, so no crash cut it. "+
				"Nothing was sent. Keep a copy of the file, look at the line (sed -n %dp %s), then mend or delete it: "+
				"each line is one JSON record and the last line of a key wins", ErrDamaged, j.path, n, jerr, n, j.path)
		}
		j.put(j.loaded(rec), off, len(body))
		off += int64(len(line))
	}
}

// loaded is a record as read on opening: a claim without its outcome was
// in flight when its process died, so its outcome is unknown.
func (j *FileJournal) loaded(rec Record) Record {
	if rec.State == Claimed && !j.live {
		rec.State = Unknown
		if rec.Reason == "" {
			rec.Reason = "claimed by a process that ended before it recorded the outcome"
		}
	}
	return rec
}

// cutLine reads what a line cut by a crash still says: its key, if whole,
// is a job that may have been in flight. It returns the record to write
// again whole, or nil.
func (j *FileJournal) cutLine(line []byte) *Record {
	key, ok := cutKey(line)
	if !ok {
		return nil
	}
	rec, had, err := j.record(key)
	if !had || err != nil {
		rec = Record{Key: key}
	}
	if j.live { // being written now, not cut
		rec.State = Claimed
		j.put(rec, 0, 0)
		return nil
	}
	rec.State, rec.Time = Unknown, time.Now()
	rec.Reason = "the journal's last line was cut short by a crash while the job was in flight"
	rec.CallIDs, rec.SessionID, rec.Code, rec.Cause = nil, "", "", ""
	j.put(rec, 0, 0) // written again whole by open, and kept whole: Unknown
	return &rec
}

// cutKey reads the key from the start of a record line, `{"key":"…",`.
func cutKey(line []byte) (string, bool) {
	const prefix = `{"key":`
	if !bytes.HasPrefix(line, []byte(prefix)) {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(line[len(prefix):]))
	var key string
	if dec.Decode(&key) != nil || key == "" {
		return "", false
	}
	// The key is whole only if its closing quote was followed by more.
	if dec.InputOffset() >= int64(len(line)-len(prefix)) {
		return "", false
	}
	return key, true
}

// Claim implements Journal.
func (j *FileJournal) Claim(ctx context.Context, req ClaimRequest) (bool, Record, error) {
	rec := req.Record
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return false, Record{}, errClosed
	}
	cur, had, err := j.record(rec.Key)
	if err != nil {
		j.mu.Unlock()
		return false, Record{}, err
	}
	if had && !req.Resend.Claimable(cur) {
		cur = j.view(cur)
		j.mu.Unlock()
		return false, cur, nil
	}
	if !had {
		// Only a key with no record can be a forgotten one.
		if f, ok := j.tombs.forgottenOrNone(rec.Key, req.Resend); ok {
			j.mu.Unlock()
			return false, f, nil
		}
	}
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	if rec.Purpose == Advertising && req.Interval > 0 {
		if d := j.ads.holds(rec.Key, rec.Phones, rec.Time, req.Interval); d != nil {
			// Written under the claim's lock, so that it cannot overwrite a
			// claim made since; nothing leaves for it, so no sync is awaited.
			def, err := j.settleLocked(d.record(rec))
			j.mu.Unlock()
			return false, def, err
		}
	}
	rec.State = Claimed
	rec.ClaimedAt = rec.Time
	end, err := j.appendLocked(rec)
	if err == nil {
		j.own[rec.Key] = rec.Run
	}
	j.mu.Unlock()
	if err != nil {
		return false, Record{}, err
	}
	return true, Record{}, j.waitSynced(end)
}

// view is rec as Get reads it, under j.mu: a claim is Claimed while this
// process has it in flight (or, read by ReadFile, while a process holds
// the journal); the claims found at opening were made Unknown by loaded.
func (j *FileJournal) view(rec Record) Record {
	if rec.State != Claimed || j.live {
		return rec
	}
	if _, mine := j.own[rec.Key]; mine {
		return rec
	}
	return deadClaim(rec)
}

// Settle implements Journal.
func (j *FileJournal) Settle(ctx context.Context, rec Record) error {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return errClosed
	}
	_, err := j.settleLocked(rec)
	j.mu.Unlock()
	return err
}

// settleLocked writes rec over its key's record (Record.Inherit), under
// j.mu, and has it synced soon: nothing waits for it to leave. It returns
// the record written.
func (j *FileJournal) settleLocked(rec Record) (Record, error) {
	cur, ok, err := j.record(rec.Key)
	if err != nil {
		return rec, err
	}
	if ok {
		rec = rec.Inherit(cur)
	}
	_, err = j.appendLocked(rec)
	if err == nil {
		delete(j.own, rec.Key)
		j.syncSoonLocked()
	}
	return rec, err
}

// SettleIf implements Journal: the comparison and the write are made under
// the journal's lock.
func (j *FileJournal) SettleIf(ctx context.Context, rec, expect Record) (bool, error) {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return false, errClosed
	}
	cur, ok, err := j.record(rec.Key)
	if err != nil {
		j.mu.Unlock()
		return false, err
	}
	if !ok || !SameRecord(j.view(cur), expect) {
		j.mu.Unlock()
		return false, nil
	}
	end, err := j.appendLocked(rec.Inherit(cur))
	if err == nil {
		delete(j.own, rec.Key)
	}
	j.mu.Unlock()
	if err != nil {
		return false, err
	}
	// Made durable at once: an operator's decision is not left to the
	// background sync.
	return true, j.waitSynced(end)
}

// Lease implements Journal. The file's lock proves that one process holds
// it, so a lease keeps nothing: ending one (ttl <= 0) makes the run's
// unsettled claims read as Unknown, since no one will settle them.
func (j *FileJournal) Lease(_ context.Context, run string, ttl time.Duration) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return errClosed
	}
	if ttl <= 0 {
		for k, r := range j.own {
			if r == run {
				delete(j.own, k)
			}
		}
	}
	return nil
}

// syncSoonLocked has what was written synced shortly, if no claim does it.
func (j *FileJournal) syncSoonLocked() {
	if j.later == nil {
		j.bg.Add(1)
		j.later = time.AfterFunc(settleSyncDelay, j.syncLater)
	}
}

// syncLater makes the outcomes written so far durable.
func (j *FileJournal) syncLater() {
	defer j.bg.Done()
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return
	}
	j.later = nil
	j.mu.Unlock()
	j.syncMu.Lock()
	end := j.written
	j.syncMu.Unlock()
	_ = j.waitSynced(end) // an error is kept and returned to the next Claim
}

// appendLocked writes rec as one line; the key comes first, so that a
// line cut short still names its job.
func (j *FileJournal) appendLocked(rec Record) (int64, error) {
	if rec.Key == "" || !utf8.ValidString(rec.Key) {
		// Written, it would read back as another key, or none.
		return 0, fmt.Errorf("%w: %q", ErrBadKey, rec.Key)
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	line = append(line, '\n')
	// At the end of what was written whole, not at the file's offset: a
	// write that failed half-way is written over, so that every record
	// read back from the file is at the place put says.
	j.syncMu.Lock()
	at := j.written
	j.syncMu.Unlock()
	if _, err := j.f.WriteAt(line, at); err != nil {
		// Part of it may be on file: taken back, or a Close now would leave
		// it at the end, read on opening as a claim cut by a crash (Unknown)
		// though the caller was told it failed. Should that fail too, the
		// next line is written over it.
		_ = j.f.Truncate(at)
		return 0, fmt.Errorf("batch: writing the journal: %w", err)
	}
	j.put(rec, at, len(line)-1)
	j.syncMu.Lock()
	j.written += int64(len(line))
	end := j.written
	j.syncMu.Unlock()
	return end, nil
}

// waitSynced returns once the bytes up to end are durable. The first
// waiter syncs for everyone who wrote before it started.
func (j *FileJournal) waitSynced(end int64) error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	for j.synced < end {
		if j.syncErr != nil {
			return j.syncErr
		}
		if j.syncing {
			j.syncCond.Wait()
			continue
		}
		j.syncing = true
		target := j.written
		f := j.f // compaction swaps the file under syncMu
		j.syncMu.Unlock()
		err := f.Sync()
		j.syncMu.Lock()
		j.syncing = false
		if err != nil {
			j.syncErr = fmt.Errorf("batch: syncing the journal: %w", err)
		} else {
			j.synced = max(j.synced, target)
		}
		j.syncCond.Broadcast()
	}
	return j.syncErr
}

// Get implements Journal: a claim found when the journal was opened reads
// as Unknown; one made since, by this process, as Claimed.
func (j *FileJournal) Get(_ context.Context, key string) (Record, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	rec, ok, err := j.record(key)
	if err != nil {
		return Record{}, false, err
	}
	return j.view(rec), ok, nil
}

// Records implements Journal, in the order the keys first appeared.
func (j *FileJournal) Records(context.Context) ([]Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Record, 0, len(j.recs))
	var buf []byte
	for _, s := range j.recs {
		rec, b, err := j.read(s, buf)
		if err != nil {
			return nil, err
		}
		buf = b
		out = append(out, j.view(rec))
	}
	return out, nil
}

// Path is the journal's file.
func (j *FileJournal) Path() string { return j.path }

// Close syncs, unlocks and closes the file. It returns once the
// background sync has ended and the lock is released: the journal can be
// opened again at once, by this process or another.
func (j *FileJournal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	var cerr error
	if j.shouldCompact() {
		// The run is over: the rewrite costs no call its time. A failure
		// leaves the journal whole as it was.
		_, cerr = j.compactLocked()
	}
	j.closed = true
	if j.later != nil && j.later.Stop() {
		j.bg.Done() // it will not run
	}
	j.mu.Unlock()
	// A sync still running holds the file: closing under it would put off
	// the real close, and the lock's release, until it ends.
	j.bg.Wait()
	err := j.f.Sync()
	if ferr := j.f.Close(); err == nil {
		err = ferr
	}
	return errors.Join(err, cerr)
}
