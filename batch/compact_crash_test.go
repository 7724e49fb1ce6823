package batch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The compaction crash test compacts in a child process (this binary,
// started again with compactChildEnv set) that kills itself with SIGKILL
// at one step of the compaction (compactStepEnv).
const (
	compactChildEnv = "AUTOCALL_BATCH_COMPACT_CHILD"
	compactStepEnv  = "AUTOCALL_BATCH_COMPACT_STEP"
)

// compactChild opens the journal and compacts it, dying at step.
func compactChild(path, at string) int {
	compactStep = func(s string) {
		if s == at {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
	j, err := OpenFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	if _, err := j.Compact(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	if err := j.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 5
	}
	return 0
}

// A compaction killed at each of its steps leaves the old journal or the
// new one whole, never neither: every job placed is still never sent
// again (its record, or its tombstone), every unknown one is still
// unknown, and the journal opens and compacts again.
func TestCompactionCrashAtEveryStep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	now := time.Now()
	const n = 400
	for _, at := range []string{"half-written", "written", "synced", "renamed", "dir-synced", "done", "none"} {
		t.Run(at, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jobs.journal")
			j, err := OpenFile(path)
			require.NoError(t, err)
			for i := range n {
				key := fmt.Sprintf("job-%03d", i)
				at := now.Add(-time.Hour)
				if i%2 == 0 {
					at = now.Add(-40 * 24 * time.Hour) // past the 30 days: forgotten
				}
				rec := Record{Key: key, Kind: "otp", Phones: []string{fmt.Sprintf("0900%06d", i)}, Time: at}
				ok, _, err := j.Claim(ctx, ClaimRequest{Record: rec})
				require.True(t, ok)
				require.NoError(t, err)
				state := Placed
				if i%10 == 1 {
					state = Unknown
				}
				require.NoError(t, j.Settle(ctx, Record{Key: key, State: state, Time: at, CallIDs: []string{"c" + key}}))
			}
			require.NoError(t, j.Close())

			err = childCommand(compactChildEnv+"="+path, compactStepEnv+"="+at).Run()
			if at == "none" {
				require.NoError(t, err)
			} else {
				var exit *exec.ExitError
				require.ErrorAs(t, err, &exit)
				require.Equal(t, syscall.SIGKILL, exit.Sys().(syscall.WaitStatus).Signal(), "the child died at %s", at)
			}

			j, err = OpenFile(path)
			require.NoError(t, err, "the journal opens after a crash at %s", at)
			defer j.Close()
			compacted := at == "renamed" || at == "dir-synced" || at == "done" || at == "none"
			for i := range n {
				key := fmt.Sprintf("job-%03d", i)
				rec, ok, err := j.Get(ctx, key)
				require.NoError(t, err)
				forgotten := i%2 == 0 && i%10 != 1
				switch {
				case forgotten && compacted:
					assert.False(t, ok, "%s: the new journal forgot it", key)
				case i%10 == 1:
					require.True(t, ok, key)
					assert.Equal(t, Unknown, rec.State, key)
				default:
					require.True(t, ok, "%s: the old journal, or a record kept", key)
					assert.Equal(t, Placed, rec.State, key)
				}
				// Nobody twice: every key is refused a claim, by its
				// record or by its tombstone.
				claimed, cur, err := j.Claim(ctx, ClaimRequest{Record: Record{Key: key, Kind: "otp", Time: now}})
				require.NoError(t, err)
				require.False(t, claimed, "%s would be sent again after a crash at %s (%+v)", key, at, cur)
			}
			res, err := j.Compact(ctx)
			require.NoError(t, err, "a compaction after the crash")
			// Counts add up: 200 placed 40 days ago (forgotten, now or by
			// the compaction that died), 160 placed an hour ago, 40 unknown.
			assert.Equal(t, n/2, res.Kept, "kept: placed recently, and unknown")
			assert.Equal(t, n/2, res.Tombstones, "one tombstone a forgotten key")
			assert.Equal(t, map[bool]int{false: n / 2, true: 0}[compacted], res.Forgotten)
			_, err = os.Stat(path + ".compact")
			assert.ErrorIs(t, err, os.ErrNotExist, "no stray file is left once a compaction ends")
		})
	}
}
