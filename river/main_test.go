package autocallriver

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autocallvn/autocall-go/river/pgtest"
)

// The tests run against a real PostgreSQL (Debian's package), started for
// the package in a temporary directory by pgtest and stopped at
// the end; each test has a database of its own. No mock database.
var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Main(m, &pg) }

var ctx = context.Background()

// newPool is a pool on a new, migrated database (journal and River).
func newPool(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	url := pg.DB(t)
	pool := poolOn(t, url)
	if err := MigrateAll(ctx, pool); err != nil {
		t.Fatal(err)
	}
	return pool, url
}

func poolOn(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func newJournal(t testing.TB, pool *pgxpool.Pool, opts ...JournalOption) *Journal {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	j, err := NewJournal(c, pool, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}
