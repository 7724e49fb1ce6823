package autocallriver

import (
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// The account's row is written once per create, not once per worker per
// wake-up: under a backlog, replicas' workers waiting for the bucket take
// their turn (a reservation) instead of all waking at once, each
// updating the row, one winning. Counted by a trigger on the row.
func TestRateLimitWritesTheRowOncePerCreate(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	if _, err := pool.Exec(ctx, `CREATE TABLE test_account_writes (n bigint NOT NULL);
		INSERT INTO test_account_writes VALUES (0);
		CREATE FUNCTION test_count_account_write() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN UPDATE test_account_writes SET n = n + 1; RETURN NEW; END $$;
		CREATE TRIGGER test_count AFTER UPDATE ON autocall_account FOR EACH ROW EXECUTE FUNCTION test_count_account_write();`); err != nil {
		t.Fatal(err)
	}
	rs := threeReplicas(t, url, srv, replicaOpts{rate: 20, workers: 8})
	const n = 100
	for i := 0; i < n; i++ {
		insertOrder(t, rs[i%3].client, pool, otpArgs(i), true)
	}
	waitSettled(t, pool, n, 40*time.Second)
	var writes int
	if err := pool.QueryRow(ctx, `SELECT n FROM test_account_writes`).Scan(&writes); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d writes of the account's row for %d creates", writes, len(srv.Calls()))
	if writes > n+n/10 {
		t.Fatalf("%d writes of the account's row for %d creates", writes, n)
	}
}
