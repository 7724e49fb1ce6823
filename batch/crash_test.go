package batch

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

// The crash test runs its batch in a child process: this binary, started
// again with crashChildEnv set.
const (
	crashChildEnv   = "AUTOCALL_BATCH_CRASH_CHILD"
	crashSandboxEnv = "AUTOCALL_BATCH_CRASH_SANDBOX"
	crashJobs       = 2000
	crashWorkers    = 8
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild(os.Getenv(crashChildEnv), os.Getenv(crashSandboxEnv)))
	}
	if os.Getenv(compactChildEnv) != "" {
		os.Exit(compactChild(os.Getenv(compactChildEnv), os.Getenv(compactStepEnv)))
	}
	goleak.VerifyTestMain(m)
}

// childCommand is this test binary started again, running no test, with
// env added: TestMain sends it to the child named by env.
func childCommand(env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	return cmd
}

// crashChild runs the batch to the end, unless it is killed first.
func crashChild(journal, sandboxURL string) int {
	c, err := autocall.NewClient(sandboxURL, autocall.WithSecretKey(autocalltest.SecretKey))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	j, err := OpenFile(journal)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	defer j.Close()
	rep, err := (&Runner{TEL4VN: c, Journal: j, Workers: crashWorkers}).Run(ctx, otpJobs(crashJobs))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	fmt.Printf("%+v\n", *rep)
	return 0
}

// A batch of 2,000 jobs in a child process killed with SIGKILL at random
// moments, several times, then run to the end: nobody is phoned twice,
// every job ends placed or unknown, and the unknown ones are jobs that were
// in flight at a kill.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	srv := autocalltest.NewServer()
	defer srv.Close()
	srv.FailNext("/api/v2/campaigns/1/otp", 100000, autocalltest.Fault{Process: true, Delay: time.Millisecond})
	path := filepath.Join(t.TempDir(), "crash.journal")
	start := func() *exec.Cmd {
		cmd := childCommand(crashChildEnv+"="+path, crashSandboxEnv+"="+srv.URL)
		require.NoError(t, cmd.Start())
		return cmd
	}

	kills := 0
	for round := 0; round < 5; round++ {
		before := len(srv.Calls())
		cmd := start()
		// Kill once the child is placing calls, at a random moment.
		deadline := time.Now().Add(10 * time.Second)
		for len(srv.Calls()) < before+20 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rand.N(150)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		kills++
		if len(srv.Calls()) >= crashJobs {
			break
		}
	}
	cmd := start()
	require.NoError(t, cmd.Wait(), "the last run finishes")

	j, err := OpenFile(path)
	require.NoError(t, err)
	defer j.Close()
	recs, err := j.Records(ctx)
	require.NoError(t, err)
	require.Len(t, recs, crashJobs)
	byState := counts(recs)
	t.Logf("%d kills; journal: %v; sandbox: %d calls", kills, byState, len(srv.Calls()))

	calls := callsPerPhone(srv)
	for p, n := range calls {
		require.Equal(t, 1, n, "%s phoned %d times", p, n)
	}
	for _, rec := range recs {
		state := readState(rec.State)
		require.Contains(t, []State{Placed, Unknown}, state, "%s ended %s", rec.Key, rec.State)
		p := rec.Phones[0]
		if state == Placed {
			require.Equal(t, 1, calls[p], "%s recorded placed, but the sandbox has no call", rec.Key)
		}
	}
	assert.Equal(t, crashJobs, byState[Placed]+byState[Unknown])
	// Only jobs in flight at a kill are unknown: at most a worker's worth a kill.
	assert.LessOrEqual(t, byState[Unknown], kills*crashWorkers)
	assert.Equal(t, len(calls), byState[Placed]+placedUnknown(recs, calls), "every call belongs to a job placed or unknown")
}

func placedUnknown(recs []Record, calls map[string]int) int {
	n := 0
	for _, r := range recs {
		if readState(r.State) == Unknown && calls[r.Phones[0]] == 1 {
			n++
		}
	}
	return n
}
