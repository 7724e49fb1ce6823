package autocallriver

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autocallvn/autocall-go/batch"
)

// pipe is one transaction on one pooled connection whose statements are
// sent in batches (pgx.Batch, one round trip each): BEGIN goes with the
// first statements, COMMIT with the last. A claim costs two round trips
// and a settle that completes its River job three, where a statement at
// a time cost five and six: the worker's share of a job's time.
type pipe struct {
	conn *pgxpool.Conn
	b    *pgx.Batch
}

func (j *Journal) begin(ctx context.Context) (*pipe, error) {
	conn, err := j.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	p := &pipe{conn: conn, b: &pgx.Batch{}}
	p.b.Queue("begin")
	return p, nil
}

// flush sends the statements queued so far and runs their callbacks.
func (p *pipe) flush(ctx context.Context) error {
	if p.b.Len() == 0 {
		return nil
	}
	b := p.b
	p.b = &pgx.Batch{}
	return p.conn.SendBatch(ctx, b).Close()
}

func (p *pipe) commit(ctx context.Context) error {
	p.b.Queue("commit")
	return p.flush(ctx)
}

// release ends the transaction if it is still open (an error, or nothing
// to write) and gives the connection back.
func (p *pipe) release() {
	if p.conn.Conn().PgConn().TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = p.conn.Exec(ctx, "rollback")
		cancel()
	}
	p.conn.Release()
}

// tx is the pipe as a pgx.Tx, for River's JobCompleteTx between the
// pipe's batches: its statements run in the pipe's transaction, which the
// pipe alone ends.
func (p *pipe) tx() pgx.Tx { return pipeTx{p.conn.Conn()} }

type pipeTx struct{ c *pgx.Conn }

var errPipeTx = errors.New("autocallriver: the journal's transaction is ended by the journal")

func (t pipeTx) Begin(context.Context) (pgx.Tx, error) { return nil, errPipeTx }
func (t pipeTx) Commit(context.Context) error          { return errPipeTx }
func (t pipeTx) Rollback(context.Context) error        { return errPipeTx }
func (t pipeTx) CopyFrom(ctx context.Context, name pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return t.c.CopyFrom(ctx, name, cols, src)
}
func (t pipeTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.c.SendBatch(ctx, b)
}
func (t pipeTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }
func (t pipeTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.c.Prepare(ctx, name, sql)
}
func (t pipeTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.c.Exec(ctx, sql, args...)
}
func (t pipeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.c.Query(ctx, sql, args...)
}
func (t pipeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.c.QueryRow(ctx, sql, args...)
}
func (t pipeTx) Conn() *pgx.Conn { return t.c }

// The journal's statements, queued on a batch.

// queueLockKey serialises every write of one key, across replicas, until
// the transaction ends.
func queueLockKey(b *pgx.Batch, key string) {
	b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended('autocall:job:' || $1, 0))`, key)
}

// queueLockPhones serialises the index's checks and writes of each phone,
// in one order (no deadlock), after the key's lock.
func queueLockPhones(b *pgx.Batch, phones []string) {
	ps := slices.Clone(phones)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended('autocall:phone:' || p, 0))
		FROM unnest($1::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n`, ps)
}

const getSQL = `SELECT ` + recordColumns + `
	FROM autocall_job j LEFT JOIN autocall_lease l ON l.run = j.run AND j.state = 'claimed'
	WHERE j.key = $1`

// queueGet reads key's record into s (had: there is one).
func queueGet(b *pgx.Batch, key string, s *stored, had *bool) {
	b.Queue(getSQL, key).QueryRow(func(row pgx.Row) error {
		var err error
		*s, err = scanRecord(row)
		*had = err == nil
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
}

// jobColumns are autocall_job's columns a record is written to, in
// recordArgs's order ($1 to $15).
const jobColumns = `key, state, time_ns, claimed_ns, kind, campaign, phones,
	call_ids, session_id, code, reason, cause, run, purpose, not_before_ns`

// recordArgs are rec's values for jobColumns.
func recordArgs(rec batch.Record) []any {
	return []any{rec.Key, string(rec.State), rec.Time.UnixNano(), nsOf(rec.ClaimedAt), rec.Kind, rec.Campaign, rec.Phones,
		rec.CallIDs, rec.SessionID, rec.Code, rec.Reason, rec.Cause, rec.Run, string(rec.Purpose), nsOf(rec.NotBefore)}
}

// queuePut writes rec as the key's record and brings the index up to
// date (the locks are held).
func queuePut(b *pgx.Batch, rec batch.Record) {
	b.Queue(`INSERT INTO autocall_job (`+jobColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (key) DO UPDATE SET state = $2, time_ns = $3, claimed_ns = $4, kind = $5, campaign = $6,
			phones = $7, call_ids = $8, session_id = $9, code = $10, reason = $11, cause = $12, run = $13,
			purpose = $14, not_before_ns = $15`, recordArgs(rec)...)
	if rec.Purpose != batch.Advertising || len(rec.Phones) == 0 {
		return
	}
	// State.MayHaveCalled: the entry moves to this record's time; a job
	// that placed nothing frees its numbers.
	if rec.State.MayHaveCalled() {
		b.Queue(`INSERT INTO autocall_adcall (phone, key, at_ns)
			SELECT p, $2, $3 FROM unnest($1::text[]) AS p
			ON CONFLICT (phone, key) DO UPDATE SET at_ns = excluded.at_ns`, rec.Phones, rec.Key, rec.Time.UnixNano())
	} else {
		b.Queue(`DELETE FROM autocall_adcall WHERE key = $2 AND phone = ANY($1)`, rec.Phones, rec.Key)
	}
}

// queueHolds reads into d the Deferral of an advertising claim: the latest
// call by another job to one of phones less than interval before now.
func queueHolds(b *pgx.Batch, key string, phones []string, now time.Time, interval time.Duration, d **batch.Deferral) {
	b.Queue(`SELECT phone, at_ns + $4 AS until FROM autocall_adcall
		WHERE phone = ANY($1) AND key <> $2 AND at_ns + $4 > $3
		ORDER BY until DESC LIMIT 1`, phones, key, now.UnixNano(), int64(interval)).QueryRow(func(row pgx.Row) error {
		var phone string
		var until int64
		err := row.Scan(&phone, &until)
		if errors.Is(err, pgx.ErrNoRows) {
			*d = nil
			return nil
		}
		if err == nil {
			*d = &batch.Deferral{Cause: batch.CauseFrequency, Phone: phone, NotBefore: time.Unix(0, until)}
		}
		return err
	})
}

// run sends b's statements in tx (SettleTx's transaction, the caller's).
func run(ctx context.Context, tx pgx.Tx, b *pgx.Batch) error {
	return tx.SendBatch(ctx, b).Close()
}
