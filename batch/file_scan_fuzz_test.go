package batch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzScanLine: a line scanLine accepts is one encoding/json decodes
// without error to the same key, state and time, neither deferred nor
// advertising — or opening would keep a slot that reads back otherwise,
// or not at all.
func FuzzScanLine(f *testing.F) {
	at := time.Date(2025, 3, 1, 9, 0, 0, 123456789, time.FixedZone("", 7*3600))
	for _, rec := range []Record{
		{Key: "a", State: Placed, Time: at, Phones: []string{"0987654321"}, CallIDs: []string{"c1"}, ClaimedAt: at, Run: "r1", Kind: "otp", Campaign: "7"},
		{Key: "Nguyễn Văn A/1", State: Refused, Time: at.UTC(), Cause: CauseQuota, Code: "limit", Reason: `a "quoted" reason`, Purpose: Transactional},
		{Key: "k3", State: Unsent, Time: at, Reason: "dial failed", SessionID: "s"},
		{Key: "k4", State: Claimed, Time: at, ClaimedAt: at, Run: "r"},
		{Key: "k5", State: Unknown, Time: at},
	} {
		line, err := json.Marshal(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(line)
	}
	f.Add([]byte(`{"key":"k","state":"placed","time":"2025-03-01T09:00:00+24:00"}`))
	for _, tail := range []string{`"claimed":"x"`, `"claimed":"2025-03-01T9:00:00Z"`, `"phones":"0987654321"`, `"kind":["otp"]`, `"Call_IDs":"c"`, `"claimed":"2025-03-01T09:00:00\u005a"`} {
		f.Add([]byte(`{"key":"k","state":"placed","time":"2025-03-01T09:00:00Z",` + tail + `}`))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		key, code, tm, ok := scanLine(line)
		if !ok {
			return
		}
		var rec Record
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("scanned but does not decode: %v: %q", err, line)
		}
		want := settledStates[0]
		if code != codeDecode {
			want = settledStates[code]
		} else if rec.State != Claimed && rec.State != Unknown {
			t.Fatalf("scanned as a claim, decodes as %q: %q", rec.State, line)
		}
		if code != codeDecode && rec.State != want {
			t.Fatalf("scanned as %q, decodes as %q: %q", want, rec.State, line)
		}
		if rec.Key != string(key) {
			t.Fatalf("scanned key %q, decoded %q: %q", key, rec.Key, line)
		}
		if !rec.Time.Equal(tm) {
			t.Fatalf("scanned time %v, decoded %v: %q", tm, rec.Time, line)
		}
		if !rec.NotBefore.IsZero() || rec.Purpose == Advertising {
			t.Fatalf("scanned, but deferred or advertising: %q", line)
		}
	})
}

// A key with a byte that is not UTF-8 (written by hand: the journal
// escapes it) is read as decoding reads it, not kept as a place whose
// line reads back as another key.
func TestFileJournalKeyNotUTF8(t *testing.T) {
	path := filepath.Join(t.TempDir(), "utf8.journal")
	line := "{\"key\":\"a\xea\",\"state\":\"placed\",\"time\":\"2025-03-01T09:00:00Z\",\"call_ids\":[\"c1\"]}\n"
	require.NoError(t, os.WriteFile(path, []byte(line), 0o600))
	j, err := OpenFile(path)
	require.NoError(t, err)
	defer j.Close()
	recs, err := j.Records(ctx)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, "a\uFFFD", recs[0].Key)
	ok, cur, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: "a\uFFFD"}})
	require.NoError(t, err)
	assert.False(t, ok, "placed: not claimed again")
	assert.Equal(t, Placed, cur.State)
}

// A middle line whose claim time is damaged stops opening with
// ErrDamaged, naming the line, as a line that is not JSON does: it is not
// found later by a Get or a Claim of its key.
func TestFileJournalDamagedClaimTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.journal")
	at := `"2025-03-01T09:00:00Z"`
	lines := `{"key":"a","state":"placed","time":` + at + "}\n" +
		`{"key":"b","state":"placed","time":` + at + `,"claimed":"2025-03-01T09:0x:00Z"}` + "\n" +
		`{"key":"c","state":"placed","time":` + at + "}\n"
	require.NoError(t, os.WriteFile(path, []byte(lines), 0o600))
	_, err := OpenFile(path)
	require.ErrorIs(t, err, ErrDamaged)
	assert.Contains(t, err.Error(), "line 2 is not a record")
}
