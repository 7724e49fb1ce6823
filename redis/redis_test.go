package autocallredis

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// The tests run against a real redis-server (Debian's package, version 7),
// started on a loopback port in a temporary directory and stopped at the
// end; .ci/run installs it when it is missing. No mock Redis.

var ctx = context.Background()

type redisServer struct {
	t    testing.TB
	cmd  *exec.Cmd
	port int
	dir  string
}

// startRedis starts redis-server on port (0: a free one) with dir as its
// directory, configured as the journal's check requires: the durability
// the package doc asks for, and no eviction.
func startRedis(t testing.TB, dir string, port int) *redisServer {
	t.Helper()
	return startRedisWith(t, dir, port)
}

// startRedisWith is startRedis with extra settings (e.g. "--appendonly",
// "no"), which override the safe ones.
func startRedisWith(t testing.TB, dir string, port int, extra ...string) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not installed: .ci/run installs it")
		}
		t.Skip("redis-server is not installed (apt-get install redis-server)")
	}
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
	}
	s := &redisServer{t: t, port: port, dir: dir}
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction",
		"--daemonize", "no", "--protected-mode", "yes", "--logfile", filepath.Join(dir, "redis.log")}, extra...)
	s.cmd = exec.Command(bin, args...)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr()})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(ctx).Err() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Fatalf("redis-server did not start:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(s.stop)
	return s
}

func (s *redisServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// stop ends the server the way an operator would (SIGTERM: AOF flushed).
func (s *redisServer) stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

func (s *redisServer) client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// runOn runs 20 jobs through j against a fresh sandbox, with a client of
// opts (default: the sandbox's secret key): the report, how many calls
// reached the sandbox and the run's error.
func runOn(t *testing.T, j *Journal, opts ...autocall.Option) (*batch.Report, int, error) {
	t.Helper()
	sb := autocalltest.NewServer()
	t.Cleanup(sb.Close)
	if len(opts) == 0 {
		opts = []autocall.Option{autocall.WithSecretKey(autocalltest.SecretKey)}
	}
	c, err := autocall.NewClient(sb.URL, opts...)
	require.NoError(t, err)
	rep, err := (&batch.Runner{TEL4VN: c, Journal: j, Workers: 4}).Run(ctx, jobs(20))
	return rep, len(sb.Calls()), err
}
