package batch

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A settled record is kept as its line's place, not whole, and reads back
// whole: after writing, after reopening, and after a compaction moved it.
func TestFileJournalKeepsSettledRecordsOnFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slots.journal")
	now := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := now
	open := func() *FileJournal {
		j, err := OpenFile(path, WithClock(func() time.Time { return clock }))
		require.NoError(t, err)
		return j
	}
	j := open()
	want := map[string]Record{}
	for i := range 20 {
		key := fmt.Sprintf("k%02d", i)
		at := now.Add(-time.Duration(i) * 48 * time.Hour) // the oldest go at compaction
		ok, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: key, Time: at, Kind: "otp", Campaign: "7", Phones: []string{"0987654321"}, Run: "r1"}})
		require.NoError(t, err)
		require.True(t, ok)
		out := Record{Key: key, Time: at, State: Placed, CallIDs: []string{"call-" + key}}
		switch i % 3 {
		case 1:
			out = Record{Key: key, Time: at, State: Refused, Cause: CauseQuota, Code: "limit", Reason: `a "quoted" reason, <escaped>`}
		case 2:
			out = Record{Key: key, Time: at, State: Unsent, Reason: "dial failed"}
		}
		require.NoError(t, j.Settle(ctx, out))
		rec, _, err := j.Get(ctx, key)
		require.NoError(t, err)
		want[key] = rec
	}
	// Deferred and unknown records stay whole.
	require.NoError(t, j.Settle(ctx, Record{Key: "later", Time: now, State: Unsent, Cause: CauseHours, NotBefore: now.Add(time.Hour)}))
	require.NoError(t, j.Settle(ctx, Record{Key: "lost", Time: now, State: Unknown}))
	assert.Len(t, j.whole, 2, "only the deferred and the unknown record are whole")
	assert.Equal(t, []string{"call-k00"}, want["k00"].CallIDs)
	assert.Equal(t, "7", want["k01"].Campaign, "the outcome's line keeps what the claim knew")
	check := func(j *FileJournal, keys []string) {
		t.Helper()
		for _, k := range keys {
			rec, ok, err := j.Get(ctx, k)
			require.NoError(t, err)
			require.True(t, ok, k)
			assert.True(t, SameRecord(rec, want[k]), k)
			assert.Equal(t, want[k].CallIDs, rec.CallIDs, k)
			assert.Equal(t, want[k].Reason, rec.Reason, k)
			assert.Equal(t, want[k].Phones, rec.Phones, k)
		}
	}
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	check(j, keys)
	require.NoError(t, j.Close())

	j = open()
	assert.Len(t, j.whole, 2, "read back as places, not decoded whole")
	check(j, keys)
	recs, err := j.Records(ctx)
	require.NoError(t, err)
	require.Len(t, recs, 22)
	assert.Equal(t, "k00", recs[0].Key, "in the order the keys first appeared")
	assert.Equal(t, Unsent, recs[20].State)

	clock = now.Add(24 * time.Hour)
	c, err := j.Compact(ctx)
	require.NoError(t, err)
	require.NotZero(t, c.Forgotten+c.Dropped)
	var kept []string
	for _, k := range keys {
		if _, ok, _ := j.Get(ctx, k); ok {
			kept = append(kept, k)
		}
	}
	require.NotEmpty(t, kept)
	check(j, kept) // at their new places
	require.NoError(t, j.Close())
	j = open()
	defer j.Close()
	check(j, kept)
}

// A settled record's line changed under the journal is not read as
// another record: reading it fails with ErrDamaged.
func TestFileJournalLineChangedUnderIt(t *testing.T) {
	j, path := openTemp(t)
	require.NoError(t, j.Settle(ctx, Record{Key: "a", State: Placed, CallIDs: []string{"c1"}}))
	require.NoError(t, j.Settle(ctx, Record{Key: "b", State: Placed, CallIDs: []string{"c2"}}))
	changeUnderIt(t, path, `"key":"a"`, `"key":"x"`)
	_, _, err := j.Get(ctx, "a")
	require.ErrorIs(t, err, ErrDamaged)
	_, err = j.Records(ctx)
	require.ErrorIs(t, err, ErrDamaged)
	rec, _, err := j.Get(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, []string{"c2"}, rec.CallIDs)
}

func TestScanLine(t *testing.T) {
	at := `"2025-03-01T09:00:00.123456789+07:00"`
	for _, c := range []struct {
		line string
		key  string
	}{
		{`{"key":"k1","state":"placed","time":` + at + `,"call_ids":["c"]}`, "k1"},
		{`{"key":"k2","state":"refused","time":` + at + `,"reason":"a \"purpose\":\"advertising\" text"}`, "k2"},
		{`{"key":"k3","state":"unsent","time":` + at + `}`, "k3"},
	} {
		key, code, tm, ok := scanLine([]byte(c.line))
		require.True(t, ok, c.line)
		assert.Equal(t, c.key, string(key))
		assert.NotZero(t, code)
		assert.Equal(t, 123456789, tm.Nanosecond())
	}
	// A claim, or an unknown record, is decoded once the file is read, if
	// it is still its key's latest.
	for _, state := range []string{"claimed", "unknown"} {
		_, code, _, ok := scanLine([]byte(`{"key":"k","state":"` + state + `","time":` + at + `,"run":"r"}`))
		assert.True(t, ok)
		assert.Equal(t, uint64(codeDecode), code)
	}
	for _, line := range []string{
		`{"key":"k","state":"unsent","time":` + at + `,"not_before":` + at + `}`,         // deferred: whole
		`{"key":"k","state":"placed","time":` + at + `,"purpose":"advertising"}`,         // the index needs its phones
		`{"key":"k\u00e9","state":"placed","time":` + at + `}`,                           // an escape in the key
		`{"state":"placed","key":"k","time":` + at + `}`,                                 // written otherwise
		`{"key":"k","state":"placed","time":` + at + `,"call_ids":["c"}`,                 // not JSON
		`{"key":"k","state":"placed","time":` + at + `,"reason":"a` + "\x00" + `b"}`,     // a control byte
		`{"key":"k","state":"placed","time":"yesterday"}`,                                // no time
		`{"key":"","state":"placed","time":` + at + `}`,                                  // no key
		`{"key":"k","state":"placed","time":` + at + `}` + strings.Repeat(" x", 1) + `}`, // not JSON after its end
		`{"key":"k","state":"placed","time":` + at + `,"Purpose":"advertising"}`,         // decoding ignores case
		`{"key":"k","state":"placed","time":` + at + `,"purpose":"advert\u0069sing"}`,    // an escaped advertising
		`{"key":"k","state":"placed","time":` + at + `,"KEY":"other"}`,                   // the key again: the last wins
		`{"key":"k","state":"placed","time":` + at + `,"code":7}`,                        // a number: decoding decides
		`{"key":"k","state":"placed","time":"2025-03-01T09:00:00.100Z"}`,                 // not as time.Time writes it
		`{"key":"k","state":"placed","time":` + at + `,"reason":"a\x"}`,                  // a bad escape
		`{"key":"k","state":"placed","time":` + at + `,"phones":["1",]}`,                 // a bad array
	} {
		_, _, _, ok := scanLine([]byte(line))
		assert.False(t, ok, line)
	}
	// Whatever it reads, decoding reads the same.
	for _, rec := range []Record{
		{Key: "a", State: Placed, Time: time.Now(), Phones: []string{"1", "2"}, CallIDs: []string{}, Reason: "x\"\n\u2028<>&é"},
		{Key: "b", State: Refused, Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("", 7*3600)), Cause: CauseQuota, Purpose: Transactional},
		{Key: "c", State: Unsent, Time: time.Date(2025, 1, 1, 0, 0, 0, 1, time.UTC), ClaimedAt: time.Now(), Run: "r"},
	} {
		line, err := json.Marshal(rec)
		require.NoError(t, err)
		key, code, tm, ok := scanLine(line)
		require.True(t, ok, string(line))
		var dec Record
		require.NoError(t, json.Unmarshal(line, &dec))
		assert.Equal(t, dec.Key, string(key))
		assert.Equal(t, dec.State, settledStates[code])
		assert.True(t, dec.Time.Equal(tm))
	}
}

// A line damaged after its key, state and time is still found at opening.
func TestFileJournalDamagedAfterItsKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.journal")
	at := `"2025-03-01T09:00:00Z"`
	lines := `{"key":"a","state":"placed","time":` + at + "}\n" +
		`{"key":"b","state":"placed","time":` + at + `,"call_ids":["c1"` + "\x00\x00\x00\n" +
		`{"key":"c","state":"placed","time":` + at + "}\n"
	require.NoError(t, os.WriteFile(path, []byte(lines), 0o600))
	_, err := OpenFile(path)
	require.ErrorIs(t, err, ErrDamaged)
	assert.Contains(t, err.Error(), "line 2 is not a record")
}

func TestScanTombstones(t *testing.T) {
	day, keys, ok := scanTombstones([]byte(`{"forgotten":{"day":"2025-03-01","keys":"AAAAAAAAAAE="}}`))
	require.True(t, ok)
	assert.Equal(t, "2025-03-01", string(day))
	assert.Equal(t, "AAAAAAAAAAE=", string(keys))
	for _, line := range []string{
		`{"forgotten":{"keys":"AAAAAAAAAAE=","day":"2025-03-01"}}`,
		`{"forgotten":{"day":"2025-03-01","keys":"AAAAAAAAAAE="}}x`,
		`{"forgotten":{"day":"2025-03-01","keys":"AAAA\"AAAAAE="}}`,
	} {
		_, _, ok := scanTombstones([]byte(line))
		assert.False(t, ok, line)
	}
	// Written otherwise, a line of tombstones is still read (decoded).
	path := filepath.Join(t.TempDir(), "t.journal")
	require.NoError(t, os.WriteFile(path, []byte(`{"forgotten":{"keys":"`+tombKeys(KeyHash("old"))+`","day":"2025-03-01"}}`+"\n"), 0o600))
	j, err := OpenFile(path, WithClock(func() time.Time { return time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC) }))
	require.NoError(t, err)
	defer j.Close()
	ok, rec, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: "old"}})
	require.NoError(t, err)
	assert.False(t, ok)
	assert.True(t, IsForgotten(rec))
}

func tombKeys(hs ...uint64) string {
	raw := make([]byte, 8*len(hs))
	for i, h := range hs {
		binary.BigEndian.PutUint64(raw[8*i:], h)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// A line changed under the journal to another state of the same key (a
// copy of the file put back in place, an editor), or cut away, is not
// read as the record: reading it fails with ErrDamaged, and a claim of
// its key claims nothing.
func TestFileJournalLineStateChangedUnderIt(t *testing.T) {
	j, path := openTemp(t)
	require.NoError(t, j.Settle(ctx, Record{Key: "a", State: Placed, CallIDs: []string{"c1"}}))
	require.NoError(t, j.Settle(ctx, Record{Key: "b", State: Placed, CallIDs: []string{"c2"}}))
	changeUnderIt(t, path, `"state":"placed"`, `"state":"unsent"`)
	_, _, err := j.Get(ctx, "a")
	require.ErrorIs(t, err, ErrDamaged)
	ok, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: "a"}})
	require.ErrorIs(t, err, ErrDamaged)
	assert.False(t, ok, "not sent again")

	require.NoError(t, os.Truncate(path, 0))
	_, _, err = j.Get(ctx, "b")
	require.ErrorIs(t, err, ErrDamaged)
}

// changeUnderIt replaces the first old in the journal file at path with
// new, of the same length, in place (the same file, as an editor saving
// over it would leave it), behind the journal's back.
func changeUnderIt(t *testing.T, path, old, new string) {
	t.Helper()
	require.Len(t, new, len(old))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.WriteAt(bytes.Replace(raw, []byte(old), []byte(new), 1), 0)
	require.NoError(t, err)
}
