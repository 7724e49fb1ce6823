package batch

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Many goroutines claim, settle, read and compact at once: every record
// read back is its own key's line (no place drifts), before and after a
// reopen.
func TestFileJournalConcurrentReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.journal")
	j, err := OpenFile(path)
	require.NoError(t, err)
	const workers, per = 8, 150
	var wg sync.WaitGroup
	errs := make(chan error, workers*per)
	check := func(rec Record) {
		if len(rec.CallIDs) != 1 || rec.CallIDs[0] != "call-"+rec.Key || rec.Reason != "reason of "+rec.Key {
			errs <- fmt.Errorf("read back for %q: %+v", rec.Key, rec)
		}
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				key := fmt.Sprintf("w%d-%d-Nguyễn \"%c\"", w, i, 'a'+i%26)
				ok, _, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: key, Phones: []string{"0912000003"}}})
				if err != nil || !ok {
					errs <- fmt.Errorf("claim %q: %v %v", key, ok, err)
					return
				}
				if err := j.Settle(ctx, Record{Key: key, State: Placed, CallIDs: []string{"call-" + key}, Reason: "reason of " + key}); err != nil {
					errs <- err
					return
				}
				rec, _, err := j.Get(ctx, key)
				if err != nil {
					errs <- err
					return
				}
				check(rec)
				if i%50 == 0 {
					recs, err := j.Records(ctx)
					if err != nil {
						errs <- err
						return
					}
					for _, r := range recs {
						if r.State == Placed {
							check(r)
						}
					}
				}
				if w == 0 && i%40 == 0 {
					if _, err := j.Compact(ctx); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.NoError(t, j.Close())
	j, err = OpenFile(path)
	require.NoError(t, err)
	defer j.Close()
	recs, err := j.Records(ctx)
	require.NoError(t, err)
	assert.Len(t, recs, workers*per)
	for _, r := range recs {
		assert.Equal(t, Placed, r.State)
		assert.Equal(t, []string{"call-" + r.Key}, r.CallIDs)
		assert.Equal(t, "reason of "+r.Key, r.Reason)
	}
}
