package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/river/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Main(m, &pg) }

var ctx = context.Background()

// bin builds the command once for the tests: worker processes are this
// module's binary, not goroutines.
var bin = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "autocall-worker-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "autocall-worker")
	out, err := exec.Command("go", "build", "-o", path, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{out: string(out), err: err}
	}
	return path, nil
})

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// worker is a running worker process.
type worker struct {
	cmd *exec.Cmd
	out *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startWorker(t *testing.T, dbURL string, srv *autocalltest.Server, args ...string) *worker {
	t.Helper()
	return startWorkerEnv(t, dbURL, srv, nil, args...)
}

// startWorkerEnv is startWorker with env (NAME=value) added to the
// process's environment.
func startWorkerEnv(t *testing.T, dbURL string, srv *autocalltest.Server, env []string, args ...string) *worker {
	t.Helper()
	path, err := bin()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, append([]string{"run"}, args...)...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "AUTOCALL_BASE_URL="+srv.URL,
		"AUTOCALL_SECRET_KEY="+autocalltest.SecretKey, "AUTOCALL_API_KEY="+autocalltest.APIKey)
	cmd.Env = append(cmd.Env, env...)
	w := &worker{cmd: cmd, out: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = w.out, w.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("worker %d's output (tail):\n%s", cmd.Process.Pid, tail(w.out.String(), 3000))
		}
	})
	return w
}

func (w *worker) kill() {
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	_ = w.cmd.Wait()
}

func (w *worker) term(t *testing.T) {
	t.Helper()
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	w.exited(t)
}

// exited waits for the worker, signalled, to exit cleanly.
func (w *worker) exited(t *testing.T) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- w.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("worker exited after SIGTERM: %v\n%s", err, tail(w.out.String(), 2000))
		}
	case <-time.After(60 * time.Second):
		t.Fatal("worker did not stop after SIGTERM")
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func migrate(t *testing.T, dbURL string) {
	t.Helper()
	path, err := bin()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "migrate")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "migrated") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
}

// migratedDB is a fresh database migrated by the built binary, and a pool
// on it closed when the test ends.
func migratedDB(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	dbURL := pg.DB(t)
	migrate(t, dbURL)
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return dbURL, pool
}
