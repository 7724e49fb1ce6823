// Package pgtest starts a real PostgreSQL server for tests: the module's
// own, the command's, and an order service's that uses autocallriver:
// Debian's binaries (/usr/lib/postgresql/N/bin), initdb and pg_ctl in a
// temporary directory, a free loopback port, the unix socket in that
// directory. Postgres refuses to run as root, so when the tests run as
// root it runs as the postgres user, in a directory that user owns.
// No mock of the database anywhere: the tests talk to this server.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoPostgres: no PostgreSQL binaries on this machine.
var ErrNoPostgres = errors.New("pgtest: no PostgreSQL binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)")

// Server is a running PostgreSQL server.
type Server struct {
	Port int
	dir  string // owned by the server's user: data, socket, log
	bin  string
	as   *user.User // nil: run as ourselves
	mu   sync.Mutex
	n    atomic.Int64
}

// binDir finds the newest installed PostgreSQL's bin directory.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", ErrNoPostgres
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	return filepath.Dir(dirs[0]), nil
}

func version(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// Start initialises a cluster in a new temporary directory and starts it.
func Start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		if s.as, err = user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("pgtest: running as root, and Postgres refuses root: no postgres user to run it as: %w", err)
		}
	}
	if s.dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
		return nil, err
	}
	if s.as != nil {
		uid, _ := strconv.Atoi(s.as.Uid)
		gid, _ := strconv.Atoi(s.as.Gid)
		if err := os.Chown(s.dir, uid, gid); err != nil {
			return nil, err
		}
	}
	if out, err := s.run("initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		os.RemoveAll(s.dir)
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if err := s.ctl("start"); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

// run runs one of the server's programs as the server's user.
func (s *Server) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, prog)
	var cmd *exec.Cmd
	if s.as != nil {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.dir
	return cmd.CombinedOutput()
}

// ctl runs pg_ctl start, stop or restart (fast or immediate mode).
func (s *Server) ctl(action string, extra ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// fsync off: the tests' crashes are Postgres's own (restart -m
	// immediate), which lose nothing the kernel holds; the host does not fail.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300 -c shared_buffers=64MB", s.Port, s.dir)
	args := append([]string{action, "-D", s.data(), "-w", "-t", "60", "-l", filepath.Join(s.dir, "log")}, extra...)
	if action != "stop" {
		args = append(args, "-o", opts)
	}
	if out, err := s.run("pg_ctl", args...); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fmt.Errorf("pgtest: pg_ctl %s: %v\n%s\n%s", action, err, out, tail(log, 2000))
	}
	return nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// URL is the connection string of database db.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// NewDB creates an empty database and returns its URL; it is dropped with
// the server.
func (s *Server) NewDB(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d", s.n.Add(1))
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return s.URL(name), nil
}

// DB is NewDB for a test, failing it on error.
func (s *Server) DB(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := s.NewDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// RestartImmediate crashes and restarts the server: pg_ctl restart -m
// immediate, every connection cut, the WAL replayed.
func (s *Server) RestartImmediate() error { return s.ctl("restart", "-m", "immediate") }

// StopFast stops the server (pg_ctl stop -m fast); Resume starts it again.
func (s *Server) StopFast() error { return s.ctl("stop", "-m", "fast") }

// Resume starts a stopped server on the same port.
func (s *Server) Resume() error { return s.ctl("start") }

// Stop stops the server and removes its directory.
func (s *Server) Stop() {
	_ = s.ctl("stop", "-m", "immediate")
	os.RemoveAll(s.dir)
}

// Main is a package's TestMain: it starts one server for the package's
// tests and stops it at the end. Without PostgreSQL binaries the tests
// are skipped with a message, unless CI is set: then they fail.
func Main(m *testing.M, srv **Server) {
	s, err := Start()
	if err != nil {
		if errors.Is(err, ErrNoPostgres) && os.Getenv("CI") == "" {
			fmt.Fprintln(os.Stderr, "SKIP: "+err.Error()+" (with CI set this fails)")
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*srv = s
	code := m.Run()
	s.Stop()
	os.Exit(code)
}
