package batch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The file journal's records in memory. A key's latest record is kept
// whole while it may still change without a claim (Claimed, Unknown) or
// waits for a time (an Unsent record's NotBefore); a settled one (Placed,
// Refused, Unsent) is kept as a slot of 32 bytes — its key, where its
// line is in the file, its state and its time — and read back from the
// file when asked for. A year of a daily cron keeps 300,000 records: as
// slots, a tenth of their memory whole.

// slot is a key's latest record: settled (read back from its line), or
// whole (in FileJournal.whole).
type slot struct {
	key string
	// pos is the line's offset << 25 | its length (without the newline)
	// << 4 | its state's code << 1 | 1 if the record is advertising; 0 for
	// a record kept whole.
	pos   uint64
	nanos int64 // the record's time, Unix nanoseconds
}

const (
	slotLenBits = 21 // lines up to 2 MiB; a longer one is kept whole
	slotLenMax  = 1<<slotLenBits - 1
	slotLow     = slotLenBits + 4
	slotOffMax  = 1<<(64-slotLow) - 1 // 512 GiB
	// codeDecode: a claim's line, or an unknown record's, found while
	// opening; decoded (and kept whole) once the file is read, if it is
	// still its key's latest: most claims are followed by their outcome.
	codeDecode = 4
)

// settledStates are the states a slot keeps, by code (0: whole).
var settledStates = [...]State{1: Placed, 2: Refused, 3: Unsent}

func settledCode(s State) uint64 {
	switch s {
	case Placed:
		return 1
	case Refused:
		return 2
	case Unsent:
		return 3
	}
	return 0
}

// The times a slot's Unix nanoseconds hold (years 1678 to 2262).
var (
	slotTimeMin = time.Unix(0, -1<<63+1)
	slotTimeMax = time.Unix(0, 1<<63-1)
)

// slotOf is the slot of rec, written at off as a line of n bytes
// (without its newline), or false when rec is kept whole: it is not
// settled, it waits for NotBefore (the retention keeps it until then), or
// its line or time do not fit.
func slotOf(rec Record, off int64, n int) (slot, bool) {
	code := settledCode(rec.State)
	if code == 0 || !rec.NotBefore.IsZero() || !fitsSlot(off, n, rec.Time) {
		return slot{key: rec.Key}, false
	}
	return slot{key: rec.Key, pos: packSlot(off, n, code, rec.Purpose == Advertising), nanos: rec.Time.UnixNano()}, true
}

func fitsSlot(off int64, n int, t time.Time) bool {
	return n > 0 && n <= slotLenMax && off >= 0 && off <= slotOffMax && t.After(slotTimeMin) && t.Before(slotTimeMax)
}

func packSlot(off int64, n int, code uint64, adv bool) uint64 {
	p := uint64(off)<<slotLow | uint64(n)<<4 | code<<1
	if adv {
		p |= 1
	}
	return p
}

func (s slot) whole() bool { return s.pos == 0 }
func (s slot) line() (int64, int) {
	return int64(s.pos >> slotLow), int(s.pos >> 4 & slotLenMax)
}

// moved is s with its line at off (in a compacted file).
func (s slot) moved(off int64) slot {
	s.pos = s.pos&(1<<slotLow-1) | uint64(off)<<slotLow
	return s
}

// stub is what Retention.Fate and Horizon read of a settled record: its
// state, time and purpose (its NotBefore is zero, or it would be whole).
func (s slot) stub() Record {
	rec := Record{Key: s.key, State: settledStates[s.pos>>1&7], Time: time.Unix(0, s.nanos).UTC()}
	if s.pos&1 != 0 {
		rec.Purpose = Advertising
	}
	return rec
}

// putSlot makes s its key's latest record; a whole record is the caller's
// to store in j.whole.
func (j *FileJournal) putSlot(s slot) {
	j.lines++
	i, had := j.keys[s.key]
	if !had {
		j.keys[s.key] = int32(len(j.recs))
		j.recs = append(j.recs, s)
		return
	}
	if j.recs[i].whole() && !s.whole() {
		delete(j.whole, s.key)
	}
	s.key = j.recs[i].key // one copy of the key's text
	j.recs[i] = s
}

// put makes rec, written at off as a line of n bytes (without its
// newline; n 0: not on file), its key's latest record.
func (j *FileJournal) put(rec Record, off int64, n int) {
	s, settled := slotOf(rec, off, n)
	j.putSlot(s)
	if !settled {
		j.whole[j.recs[j.keys[rec.Key]].key] = rec
	}
	j.ads.record(rec)
}

// decodeClaims decodes, once the file is read, the lines of claims and
// unknown records that are still their key's latest (codeDecode), and
// keeps their records whole.
func (j *FileJournal) decodeClaims() error {
	var buf []byte
	for i, s := range j.recs {
		if s.whole() || s.pos>>1&7 != codeDecode {
			continue
		}
		off, n := s.line()
		buf = slices.Grow(buf[:0], n)[:n]
		if _, err := j.f.ReadAt(buf, off); err != nil {
			return fmt.Errorf("batch: reading the journal: %w", err)
		}
		var rec Record
		if err := json.Unmarshal(buf, &rec); err != nil || rec.Key != s.key {
			return fmt.Errorf("%w: %s, the record of %q at byte %d no longer reads (%v): the file was changed while it was read", ErrDamaged, j.path, s.key, off, err)
		}
		j.recs[i].pos = 0
		j.whole[s.key] = j.loaded(rec)
	}
	return nil
}

// record returns key's latest record as stored, read back from the file
// when it is settled.
func (j *FileJournal) record(key string) (Record, bool, error) {
	i, ok := j.keys[key]
	if !ok {
		return Record{}, false, nil
	}
	rec, _, err := j.read(j.recs[i], nil)
	return rec, true, err
}

// read returns s's record; buf, which it returns, is for reading lines.
func (j *FileJournal) read(s slot, buf []byte) (Record, []byte, error) {
	if s.whole() {
		return j.whole[s.key], buf, nil
	}
	off, n := s.line()
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := j.f.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) { // cut short under the journal
			err = fmt.Errorf("%w: %s, the record of %q at byte %d is past the file's end: the file was changed under the journal", ErrDamaged, j.path, s.key, off)
		}
		return Record{}, buf, fmt.Errorf("batch: reading the journal %s: %w", j.path, err)
	}
	var rec Record
	err := json.Unmarshal(buf, &rec)
	// The line must be the record its place was made for, not only one of
	// its key: another state of it (an older line copied back over the
	// file) could be claimable.
	if err == nil && (rec.Key != s.key || rec.State != s.stub().State || rec.Time.UnixNano() != s.nanos) {
		err = fmt.Errorf("it reads %q %s at %s, not %s at %s", rec.Key, rec.State, rec.Time.Format(time.RFC3339Nano), s.stub().State, s.stub().Time.Format(time.RFC3339Nano))
	}
	if err != nil {
		return Record{}, buf, fmt.Errorf("%w: %s, the record of %q at byte %d no longer reads (%v): the file was changed under the journal", ErrDamaged, j.path, s.key, off, err)
	}
	return rec, buf, nil
}

// scanLine reads a record's line, as the journal writes it
// (`{"key":"…","state":"…","time":"…",…}`, without its newline), without
// decoding it: its key, its state's code (codeDecode for a claim or an
// unknown record) and its time. It returns false for any other line —
// deferred (not_before), advertising (the per-phone index needs its
// phones), of another state, written otherwise — which is then decoded
// whole, and so for any line that is not valid JSON.
func scanLine(line []byte) (key []byte, code uint64, t time.Time, ok bool) {
	rest, ok := bytes.CutPrefix(line, []byte(`{"key":"`))
	if !ok {
		return nil, 0, t, false
	}
	key, rest, ok = plainString(rest)
	// Decoding reads a byte that is not UTF-8 as U+FFFD: such a key would
	// be another key read back (the journal writes it escaped).
	if !ok || len(key) == 0 || !utf8.Valid(key) {
		return nil, 0, t, false
	}
	var state, at []byte
	if rest, ok = bytes.CutPrefix(rest, []byte(`,"state":"`)); ok {
		state, rest, ok = plainString(rest)
	}
	if ok {
		rest, ok = bytes.CutPrefix(rest, []byte(`,"time":"`))
	}
	if ok {
		at, rest, ok = plainString(rest)
	}
	if !ok || !settledTail(rest) {
		return nil, 0, t, false
	}
	if code = settledCode(State(state)); code == 0 && (State(state) == Claimed || State(state) == Unknown) {
		code = codeDecode
	}
	if code == 0 {
		return nil, 0, t, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(at))
	// As time.Time writes it, or decoding decides.
	if err != nil || !bytes.Equal(t.AppendFormat(nil, time.RFC3339Nano), at) {
		return nil, 0, t, false
	}
	return key, code, t, true
}

// settledTail checks the rest of a line after its time: fields whose
// values are strings or arrays of strings, then the line's end — valid
// JSON, as the journal writes it —, each of a Record field holding the
// value its type decodes from (an invalid claim time is a damaged line,
// to be found on opening), none of them deferring the record
// (not_before), making it advertising, or naming its key, state or time
// again. False for anything else (decoding decides).
func settledTail(b []byte) bool {
	for {
		if len(b) == 1 && b[0] == '}' {
			return true
		}
		if len(b) < 2 || b[0] != ',' || b[1] != '"' {
			return false
		}
		name, rest, escaped, ok := jsonString(b[2:])
		if !ok || escaped || len(rest) == 0 || rest[0] != ':' {
			return false
		}
		b = rest[1:]
		kind := tailKind(name)
		if kind == tailNo {
			return false
		}
		if len(b) > 0 && b[0] == '[' {
			if kind != tailAny && kind != tailArray {
				return false
			}
			if b, ok = stringArray(b[1:]); !ok {
				return false
			}
			continue
		}
		if len(b) == 0 || b[0] != '"' || kind == tailArray {
			return false
		}
		val, rest, escaped, ok := jsonString(b[1:])
		if !ok {
			return false
		}
		switch kind {
		case tailPurpose:
			if escaped || string(val) == string(Advertising) {
				return false
			}
		case tailTime:
			var t time.Time
			if t.UnmarshalJSON(b[:len(val)+2]) != nil {
				return false
			}
		}
		b = rest
	}
}

// The values a field after a line's time may hold.
const (
	tailAny     = iota // not a Record field: a string or an array of strings
	tailString         // a string
	tailArray          // an array of strings
	tailTime           // a time, as time.Time decodes it
	tailPurpose        // a string, not advertising
	tailNo             // not after the time (not_before, key, state, time)
)

var tailFields = [...]struct {
	name string
	kind int
}{
	{"kind", tailString}, {"campaign", tailString}, {"phones", tailArray},
	{"call_ids", tailArray}, {"session_id", tailString}, {"code", tailString},
	{"reason", tailString}, {"cause", tailString}, {"claimed", tailTime},
	{"run", tailString}, {"purpose", tailPurpose},
	{"not_before", tailNo}, {"key", tailNo}, {"state", tailNo}, {"time", tailNo},
}

// tailKind is what the field name (unescaped) may hold; decoding matches
// field names in any case.
func tailKind(name []byte) int {
	for _, f := range tailFields {
		if string(name) == f.name {
			return f.kind
		}
	}
	for _, f := range tailFields {
		if strings.EqualFold(string(name), f.name) {
			return f.kind
		}
	}
	return tailAny
}

// stringArray cuts `"…","…"]` (or `]`) from b, after an array's bracket.
func stringArray(b []byte) ([]byte, bool) {
	if len(b) > 0 && b[0] == ']' {
		return b[1:], true
	}
	for {
		if len(b) == 0 || b[0] != '"' {
			return nil, false
		}
		_, rest, _, ok := jsonString(b[1:])
		if !ok || len(rest) == 0 {
			return nil, false
		}
		switch rest[0] {
		case ']':
			return rest[1:], true
		case ',':
			b = rest[1:]
		default:
			return nil, false
		}
	}
}

// jsonString cuts a JSON string from b, after its opening quote: its
// text (escapes not undone), the rest, and whether it had escapes; false
// if it is not a valid JSON string.
func jsonString(b []byte) (s, rest []byte, escaped, ok bool) {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return b[:i], b[i+1:], escaped, true
		case c < 0x20:
			return nil, nil, false, false
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				return nil, nil, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+5 >= len(b) {
					return nil, nil, false, false
				}
				for _, h := range b[i+2 : i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return nil, nil, false, false
					}
				}
				i += 5
			default:
				return nil, nil, false, false
			}
		}
	}
	return nil, nil, false, false
}

// plainString cuts a JSON string's text without escapes from the start of
// b, after its opening quote; false if it has an escape or a control byte.
func plainString(b []byte) (s, rest []byte, ok bool) {
	for i, c := range b {
		switch {
		case c == '"':
			return b[:i], b[i+1:], true
		case c == '\\' || c < 0x20:
			return nil, nil, false
		}
	}
	return nil, nil, false
}
