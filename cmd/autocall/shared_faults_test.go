package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// startRedis is a redis-server as startRedisJournal starts it, with its
// process, to kill, and its port.
func startRedis(t *testing.T, port int, dir string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not installed: .ci/run installs it")
		}
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
		"--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer rdb.Close()
	require.Eventually(t, func() bool { return rdb.Ping(context.Background()).Err() == nil }, 10*time.Second, 20*time.Millisecond)
	return cmd
}

// The journal lost while a call is in flight: that call may have been
// placed and cannot be recorded, so the run exits 5 and names it, with
// the report of what it did, as any run with an unknown row does; it
// never exits 1 with nothing but the journal's error.
func TestSharedJournalLostMidRun(t *testing.T) {
	port, dir := freePort(t), t.TempDir()
	redis := startRedis(t, port, dir)
	spec := fmt.Sprintf("redis://127.0.0.1:%d/0?journal=lost&dial_timeout=1s", port)
	srv := sandbox(t)
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Delay: 2 * time.Second, Process: true})
	csv := writeFile(t, "pending.csv", "key,phone,code\nl-1,0912300411,1\nl-2,0912300412,2\nl-3,0912300413,3\n")
	done := make(chan result, 1)
	go func() { done <- run(t, tel4vnEnv(srv), otpCSV(csv, "--workers", "1", "--journal", spec)...) }()
	time.Sleep(time.Second) // l-1 is claimed, its request held by the sandbox
	require.NoError(t, redis.Process.Kill())
	_ = redis.Wait()
	r := <-done
	assert.Equal(t, 5, r.code, "a call may have been placed and is not recorded: %s", r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "Outcome unknown for l-1")
	assert.Contains(t, r.stdout, "3 rows: 0 placed, 0 refused, 1 unknown, 2 unsent")
	assert.Len(t, srv.Calls(), 1)

	// --json: the report, with each row as true as can be said.
	redis = startRedis(t, port, dir)
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Delay: 2 * time.Second, Process: true})
	csv2 := writeFile(t, "more.csv", "key,phone,code\nm-1,0912300414,1\nm-2,0912300415,2\n")
	go func() { done <- run(t, tel4vnEnv(srv), otpCSV(csv2, "--json", "--workers", "1", "--journal", spec)...) }()
	time.Sleep(time.Second)
	require.NoError(t, redis.Process.Kill())
	_ = redis.Wait()
	r = <-done
	assert.Equal(t, 5, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `"unknown_keys":["m-1"]`)
	assert.Contains(t, r.stdout, `{"key":"m-1","state":"unknown"`)
	assert.NotContains(t, r.stdout, `{"key":"m-1","state":"unsent"`, "a row that may have been called is never reported unsent")
	assert.Contains(t, r.stdout, `"key":"m-2","line":3,"state":"unsent"`, "its claim failed: nothing was sent, and its progress line says so")
	assert.Contains(t, r.stdout, `{"key":"m-2","state":"unsent"`)
}

// SIGTERM during a batch on a shared journal: the calls in flight finish
// and are recorded, the run's lease ends (no claim of it is left in
// flight), and the next run sends the rest, nobody twice.
func TestSharedJournalBatchTerminated(t *testing.T) {
	for _, c := range sharedJournals {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec(t)
			srv := sandbox(t)
			srv.FailNext("/api/v2/campaigns/1/otp", 100000, autocalltest.Fault{Process: true, Delay: 50 * time.Millisecond})
			csv := writeCSV(t, 100)
			cmd := exec.Command(binary, "otp", "send", "--campaign", "1", "--caller", "02873001234", "--csv", csv, "--rate", "0", "--journal", spec)
			cmd.Env = append(os.Environ(), "AUTOCALL_BASE_URL="+srv.URL, "AUTOCALL_SECRET_KEY="+autocalltest.SecretKey)
			require.NoError(t, cmd.Start())
			for len(srv.Calls()) < 8 {
				time.Sleep(time.Millisecond)
			}
			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			err := cmd.Wait()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, 1, ee.ExitCode())

			show := run(t, nil, "--json", "journal", "show", spec)
			var js struct {
				Counts map[string]int
				InUse  bool `json:"in_use"`
			}
			require.NoError(t, json.Unmarshal([]byte(show.stdout), &js), show.stdout)
			assert.Zero(t, js.Counts["unknown"], "the rows in flight finished and were recorded")
			assert.Zero(t, js.Counts["in_flight"], "the run's lease ended with it")
			assert.False(t, js.InUse)
			assert.Equal(t, len(srv.Calls()), js.Counts["placed"])

			r := run(t, tel4vnEnv(srv), otpCSV(csv, "--journal", spec)...)
			assert.Equal(t, 0, r.code, r.stdout+r.stderr)
			for phone, n := range callsPerPhone(srv) {
				assert.Equal(t, 1, n, phone)
			}
			assert.Len(t, srv.Calls(), 100)
		})
	}
}
