package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocallriver "github.com/autocallvn/autocall-go/river"
	"github.com/autocallvn/autocall-go/river/pgtest"
)

// sharedJournals are the journals several processes share, each started
// for a test, as a --journal spec.
var sharedJournals = []struct {
	name string
	spec func(t *testing.T) string
}{
	{"redis", startRedisJournal},
	{"postgres", startPostgresJournal},
}

// A cron CSV and an order service share one truth: the command's
// --journal takes the Redis journal and the PostgreSQL journal (the River
// worker's), and a second run through either phones nobody.
func TestSharedJournals(t *testing.T) {
	for _, c := range sharedJournals {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec(t)
			srv := sandbox(t)
			csv := writeFile(t, "pending.csv", "key,phone,code\ns-1,0912300281,1111\ns-2,0912300282,2222\ns-3,12345,3333\n")
			r := run(t, tel4vnEnv(srv), otpCSV(csv, "--journal", spec)...)
			assert.Equal(t, 6, r.code, "a bad phone is refused, the others placed: %s", r.stdout+r.stderr)
			assert.NoFileExists(t, csv+".journal", "the shared journal, not a file")

			r = run(t, tel4vnEnv(srv), otpCSV(csv, "--journal", spec)...)
			assert.Equal(t, 0, r.code, r.stdout+r.stderr)
			assert.Contains(t, r.stdout, "from earlier runs 2 placed, 1 refused")
			assert.Equal(t, map[string][]string{"0912300281": {"1111"}, "0912300282": {"2222"}}, codesSent(t, srv), "nobody twice")

			r = run(t, nil, "--json", "journal", "show", spec)
			require.Equal(t, 0, r.code, r.stdout+r.stderr)
			assert.Contains(t, r.stdout, `"jobs":3`)
			assert.Contains(t, r.stdout, `"placed":2`)

			r = run(t, nil, "journal", "resolve", spec, "s-3", "unsent")
			require.Equal(t, 0, r.code, r.stdout+r.stderr)
			r = run(t, nil, "--json", "journal", "show", spec)
			assert.Contains(t, r.stdout, `"unsent":1`)
		})
	}
}

// A password in a journal's URL is a secret: never printed.
func TestSharedJournalPasswordNeverPrinted(t *testing.T) {
	const password = "pg-SECRET-pw-4711"
	spec := "postgres://autocall:" + password + "@127.0.0.1:1/none?connect_timeout=1"
	csv := writeFile(t, "pending.csv", "key,phone,code\np-1,0912300291,1\n")
	srv := sandbox(t)
	r := run(t, tel4vnEnv(srv), otpCSV(csv, "--journal", spec)...)
	assert.NotEqual(t, 0, r.code)
	assert.NotContains(t, r.stdout+r.stderr, password)
	assert.Contains(t, r.stderr, "127.0.0.1", "the error names where it went")
	assert.Empty(t, srv.Calls(), "no journal, no call")

	r = run(t, nil, "journal", "show", "redis://:"+password+"@127.0.0.1:1/0?journal=x&dial_timeout=1s")
	assert.NotEqual(t, 0, r.code)
	assert.NotContains(t, r.stdout+r.stderr, password)
}

// listen --journal settles an unknown OTP job from the provider's event.
func TestListenSettlesASharedJournal(t *testing.T) {
	spec := startRedisJournal(t)
	// The call is placed, its answer lost: unknown.
	callID, url, errs := listenToAnUnknownCall(t, spec, "0912300301")
	require.Equal(t, 200, postEvent(t, url, callID, "0912300301"))

	lines := make(chan string, 1)
	go func() {
		line, _ := errs.ReadString('\n')
		lines <- line
	}()
	select {
	case settled := <-lines:
		assert.Equal(t, "settled u-1: placed (call "+callID+")\n", settled)
	case <-time.After(10 * time.Second):
		t.Fatal("listen settled nothing from the event")
	}
	r := run(t, nil, "--json", "journal", "show", spec)
	assert.Contains(t, r.stdout, `"placed":1`)
	assert.Contains(t, r.stdout, callID)
}

// startRedisJournal starts a redis-server configured as the journal's check
// requires and names a journal in it.
func startRedisJournal(t *testing.T) string {
	t.Helper()
	port := freePort(t)
	startRedis(t, port, t.TempDir())
	return fmt.Sprintf("redis://127.0.0.1:%d/0?journal=%s", port, strings.ReplaceAll(t.Name(), "/", "-"))
}

// pgTestServers are stopped by TestMain.
var pgTestServers []*pgtest.Server

var pgServer struct {
	srv *pgtest.Server
	err error
}

// startPostgresJournal is a new database on a PostgreSQL the tests start, with
// River's and the journal's tables (autocall-worker migrate).
func startPostgresJournal(t *testing.T) string {
	t.Helper()
	if pgServer.srv == nil && pgServer.err == nil {
		pgServer.srv, pgServer.err = pgtest.Start()
		if pgServer.err == nil {
			pgTestServers = append(pgTestServers, pgServer.srv)
		}
	}
	if errors.Is(pgServer.err, pgtest.ErrNoPostgres) && os.Getenv("CI") == "" {
		t.Skip(pgServer.err)
	}
	require.NoError(t, pgServer.err)
	url := pgServer.srv.DB(t)
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	defer pool.Close()
	require.NoError(t, autocallriver.MigrateAll(context.Background(), pool))
	return url
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
