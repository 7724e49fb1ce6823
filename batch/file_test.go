package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

func openTemp(t *testing.T) (*FileJournal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jobs.journal")
	j, err := OpenFile(path)
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	return j, path
}

func TestFileJournalClaimAndSettle(t *testing.T) {
	j, path := openTemp(t)
	ok, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: "order-1", Kind: "otp", Campaign: "1", Phones: []string{"0987654321"}}, Resend: Resend{}})
	require.NoError(t, err)
	require.True(t, ok)
	// A second claim of a claimed job fails: it is in flight, here.
	ok, cur, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: "order-1"}, Resend: Resend{}})
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, Claimed, cur.State)
	require.NoError(t, j.Settle(ctx, Record{Key: "order-1", State: Placed, CallIDs: []string{"c1"}}))
	rec, found, err := j.Get(ctx, "order-1")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, Placed, rec.State)
	assert.Equal(t, []string{"0987654321"}, rec.Phones, "the outcome keeps what the claim knew")

	// Unsent is claimed again; refused only when asked.
	require.NoError(t, j.Settle(ctx, Record{Key: "order-2", State: Unsent}))
	ok, _, _ = j.Claim(ctx, ClaimRequest{Record: Record{Key: "order-2"}, Resend: Resend{}})
	assert.True(t, ok)
	require.NoError(t, j.Settle(ctx, Record{Key: "order-3", State: Refused, Code: "limit_service"}))
	ok, _, _ = j.Claim(ctx, ClaimRequest{Record: Record{Key: "order-3"}, Resend: Resend{}})
	assert.False(t, ok)
	ok, _, _ = j.Claim(ctx, ClaimRequest{Record: Record{Key: "order-3"}, Resend: Resend{Refused: true}})
	assert.True(t, ok)

	// The file is JSON lines a person (or jq) can read.
	require.NoError(t, j.Close())
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	assert.Len(t, lines, 6)
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal(l, &m), "%s", l)
		assert.True(t, bytes.HasPrefix(l, []byte(`{"key":`)), "the key comes first: %s", l)
	}
}

// After a crash, a claim with no outcome reads as unknown, never unsent.
func TestFileJournalReopenAfterCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.journal")
	j, err := OpenFile(path)
	require.NoError(t, err)
	_, _, err = j.Claim(ctx, ClaimRequest{Record: Record{Key: "a"}, Resend: Resend{}})
	require.NoError(t, err)
	_, _, err = j.Claim(ctx, ClaimRequest{Record: Record{Key: "b"}, Resend: Resend{}})
	require.NoError(t, err)
	require.NoError(t, j.Settle(ctx, Record{Key: "b", State: Placed}))
	require.NoError(t, j.f.Close()) // the process dies: no Close, no unlock but the fd's

	j2, err := OpenFile(path)
	require.NoError(t, err)
	defer j2.Close()
	ok, cur, err := j2.Claim(ctx, ClaimRequest{Record: Record{Key: "a"}, Resend: Resend{Refused: true}})
	require.NoError(t, err)
	assert.False(t, ok, "a job claimed when its process died is never sent again")
	assert.Equal(t, Unknown, cur.State)
	recs, err := j2.Records(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[State]int{Unknown: 1, Placed: 1}, counts(recs))
	assert.Equal(t, []string{"a"}, unknownKeys(recs))

	require.NoError(t, Resolve(ctx, j2, "a", Unsent))
	ok, _, _ = j2.Claim(ctx, ClaimRequest{Record: Record{Key: "a"}, Resend: Resend{}})
	assert.True(t, ok, "resolved unsent: sent by the next run")
	assert.ErrorIs(t, Resolve(ctx, j2, "b", Unsent), ErrNotUnknown)
	assert.ErrorIs(t, Resolve(ctx, j2, "zzz", Placed), ErrNoRecord)
}

// Cut the file at every byte offset of its last record, as a crash would,
// and reopen: nothing recorded before is lost, and the cut record reads as
// claimed (unknown), never as unsent.
func TestFileJournalCutAtEveryByte(t *testing.T) {
	dir := t.TempDir()
	build := func(last Record) ([]byte, int) {
		path := filepath.Join(dir, "build.journal")
		_ = os.Remove(path)
		j, err := OpenFile(path)
		require.NoError(t, err)
		for i := 0; i < 5; i++ {
			k := fmt.Sprintf("k%d", i)
			_, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: k, Kind: "otp"}, Resend: Resend{}})
			require.NoError(t, err)
			require.NoError(t, j.Settle(ctx, Record{Key: k, State: Placed, CallIDs: []string{"id-" + k}}))
		}
		_, _, err = j.Claim(ctx, ClaimRequest{Record: Record{Key: "victim", Kind: "otp", Phones: []string{"0987654321"}}, Resend: Resend{}})
		require.NoError(t, err)
		before, _ := os.ReadFile(path)
		require.NoError(t, j.Settle(ctx, last))
		require.NoError(t, j.Close())
		all, err := os.ReadFile(path)
		require.NoError(t, err)
		return all, len(before)
	}
	for _, last := range []Record{
		{Key: "victim", State: Placed, CallIDs: []string{"1_1_1_5_x_0987654321"}},
		{Key: "victim", State: Unsent, Reason: "connection refused"},
		{Key: "victim", State: Refused, Code: "limit_service"},
	} {
		all, start := build(last)
		for cut := start; cut < len(all); cut++ {
			path := filepath.Join(dir, fmt.Sprintf("cut-%s-%d.journal", last.State, cut))
			require.NoError(t, os.WriteFile(path, all[:cut], 0o600))
			j, err := OpenFile(path)
			require.NoError(t, err, "cut at %d", cut)
			recs, err := j.Records(ctx)
			require.NoError(t, err)
			for i := 0; i < 5; i++ {
				rec, ok, _ := j.Get(ctx, fmt.Sprintf("k%d", i))
				require.True(t, ok)
				require.Equal(t, Placed, rec.State, "cut at %d lost an earlier record", cut)
			}
			rec, ok, _ := j.Get(ctx, "victim")
			require.True(t, ok)
			if cut == len(all)-1 {
				// Whole but for its newline: a whole record.
				require.Equal(t, last.State, rec.State, "cut before the last newline")
			} else {
				require.Equal(t, Unknown, readState(rec.State), "cut at %d of %d: the victim reads %s", cut, len(all), rec.State)
			}
			assert.Len(t, recs, 6)
			// The repaired file takes new records on lines of their own.
			require.NoError(t, j.Settle(ctx, Record{Key: "after", State: Placed}))
			require.NoError(t, j.Close())
			j, err = OpenFile(path)
			require.NoError(t, err, "cut at %d: reopening after a write", cut)
			_, ok, _ = j.Get(ctx, "after")
			assert.True(t, ok)
			require.NoError(t, j.Close())
		}
		// Whole: the last record stands.
		path := filepath.Join(dir, "whole.journal")
		require.NoError(t, os.WriteFile(path, all, 0o600))
		j, err := OpenFile(path)
		require.NoError(t, err)
		rec, _, _ := j.Get(ctx, "victim")
		assert.Equal(t, last.State, rec.State)
		require.NoError(t, j.Close())
	}
}

// A cut claim of a job never claimed before: its key, once whole, reads as
// claimed; cut inside the key, the claim's fsync never returned, so no
// request left for it, and the job reads as never claimed.
func TestFileJournalCutClaim(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.journal")
	j, err := OpenFile(path)
	require.NoError(t, err)
	require.NoError(t, j.Settle(ctx, Record{Key: "done", State: Placed}))
	before, _ := os.ReadFile(path)
	_, _, err = j.Claim(ctx, ClaimRequest{Record: Record{Key: "fresh-key", Kind: "otp"}, Resend: Resend{}})
	require.NoError(t, err)
	require.NoError(t, j.Close())
	all, _ := os.ReadFile(path)
	keyEnd := len(before) + len(`{"key":"fresh-key"`)
	for cut := len(before); cut < len(all); cut++ {
		p := filepath.Join(dir, fmt.Sprintf("cut-%d.journal", cut))
		require.NoError(t, os.WriteFile(p, all[:cut], 0o600))
		j, err := OpenFile(p)
		require.NoError(t, err)
		rec, ok, _ := j.Get(ctx, "fresh-key")
		if cut > keyEnd {
			require.True(t, ok, "cut at %d", cut)
			assert.Equal(t, Unknown, readState(rec.State))
		} else {
			assert.False(t, ok, "cut at %d, inside the key", cut)
		}
		rec, _, _ = j.Get(ctx, "done")
		assert.Equal(t, Placed, rec.State)
		require.NoError(t, j.Close())
	}
}

func TestFileJournalIsLocked(t *testing.T) {
	_, path := openTemp(t)
	_, err := OpenFile(path)
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), path)
}

func TestFileJournalDamagedInTheMiddle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.journal")
	require.NoError(t, os.WriteFile(path, []byte("{\"key\":\"a\",\"state\":\"placed\"}\nnot json\n{\"key\":\"b\",\"state\":\"placed\"}\n"), 0o600))
	_, err := OpenFile(path)
	require.ErrorIs(t, err, ErrDamaged)
	assert.Contains(t, err.Error(), "line 2 is not a record")
	assert.Contains(t, err.Error(), "sed -n 2p "+path, "it says how to look")
	assert.Contains(t, err.Error(), "mend or delete it", "and what to do")
}

// Many workers claim and settle at once; one claim per key wins, and every
// record is in the file after a reopen (run with -race).
func TestFileJournalConcurrent(t *testing.T) {
	j, path := openTemp(t)
	const keys, workers = 200, 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := map[string]int{}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < keys; i++ {
				k := fmt.Sprintf("k%d", i)
				ok, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: k}, Resend: Resend{}})
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					won[k]++
					mu.Unlock()
					if err := j.Settle(ctx, Record{Key: k, State: Placed}); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	assert.Len(t, won, keys)
	for k, n := range won {
		assert.Equal(t, 1, n, k)
	}
	require.NoError(t, j.Close())
	j2, err := OpenFile(path)
	require.NoError(t, err)
	defer j2.Close()
	recs, _ := j2.Records(ctx)
	assert.Equal(t, map[State]int{Placed: keys}, counts(recs))
}
