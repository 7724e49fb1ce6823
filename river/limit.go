package autocallriver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Limiter is the provider account's rate limit and pause, kept in
// PostgreSQL so that every replica shares them: a token bucket (Rate
// requests a second, bursts of Burst) and the pause a 429 asked for.
//
// What it costs: one UPDATE of one row (autocall_account) per create,
// about a millisecond on a local database: a worker that must wait for a
// token reserves the next one due (within its Wait's max) and sleeps
// until then, instead of asking again. Every replica's creates take that
// row's lock in turn, so the account's creates are serialised on it: a
// few thousand a second at most, far above what a provider allows an
// account. Replicas must agree on Rate and Burst (each passes its own to
// the statement). The clock is the database's, so the hosts' clocks do not
// matter.
type Limiter struct {
	pool *pgxpool.Pool
	// Account names the provider account (one row): replicas sending with
	// one account share one. Default "default".
	Account string
	// Rate is the account's creates per second (0: no bound, only the
	// pause); Burst how many may go at once (default 1). Over any second,
	// at most Rate+Burst creates leave.
	Rate  float64
	Burst int
}

// pausedSQL reads the seconds left of an account's pause (0: none), by
// the database's clock.
const pausedSQL = `SELECT coalesce(max(greatest(extract(epoch FROM paused_until - clock_timestamp()), 0)), 0)::float8
	FROM autocall_account WHERE name = $1`

// NewLimiter returns the limiter of account in pool's database (migrated).
func NewLimiter(pool *pgxpool.Pool, account string, rate float64, burst int) *Limiter {
	return &Limiter{pool: pool, Account: account, Rate: rate, Burst: burst}
}

func (l *Limiter) account() string {
	if l.Account == "" {
		return "default"
	}
	return l.Account
}

// Take takes a token for one create now, and returns 0; or, when the
// account is paused or the bucket empty, takes nothing and returns how
// long to wait before asking again (paused tells which).
func (l *Limiter) Take(ctx context.Context) (wait time.Duration, paused bool, err error) {
	wait, took, paused, err := l.take(ctx, 0)
	if err != nil || took {
		return 0, false, err
	}
	return wait, paused, nil
}

// take takes the next token of the bucket when it is due within maxWait
// (a reservation: took, and wait is how long until it is due), or takes
// nothing and returns how long until one could be had, or the pause's
// rest (paused). Reserving, rather than each waiting worker asking again
// when the bucket should have refilled, writes the account's row once per
// create and serves waiting workers, on every replica, in turn.
func (l *Limiter) take(ctx context.Context, maxWait time.Duration) (wait time.Duration, took, paused bool, err error) {
	burst := float64(max(l.Burst, 1))
	rate := l.Rate
	if rate <= 0 {
		// No bound: only the pause, read without the row's lock.
		var left float64
		err := l.pool.QueryRow(ctx, pausedSQL, l.account()).Scan(&left)
		if err != nil {
			return 0, false, false, fmt.Errorf("autocallriver: the account's pause: %w", err)
		}
		if left > 0 {
			return time.Duration(left * float64(time.Second)), false, true, nil
		}
		return 0, true, false, nil
	}
	// The bucket refills from the row's last update to now by the
	// database's clock; greatest() keeps the update time moving forward
	// only, so no interval is credited twice when statements that started
	// in one order commit in another. Tokens go below zero by the tokens
	// reserved (at most Rate×maxWait): each reservation is due when the
	// bucket has refilled to it, so no create leaves before its token
	// accrued and over any second at most Rate+Burst leave, as before.
	var due, pausedFor float64
	err = l.pool.QueryRow(ctx, `
WITH cur AS (
	SELECT a.name, greatest(a.updated, clock_timestamp()) AS at, a.paused_until,
		least($3, a.tokens + $2 * extract(epoch FROM greatest(clock_timestamp() - a.updated, interval '0'))) AS avail
	FROM autocall_account a WHERE a.name = $1 FOR UPDATE
), d AS (
	SELECT cur.*, cur.paused_until <= cur.at AS open, greatest(1 - cur.avail, 0) / $2 AS due FROM cur
)
UPDATE autocall_account a SET
	tokens = CASE WHEN d.open AND d.due <= $4 THEN d.avail - 1 ELSE d.avail END,
	updated = d.at
FROM d WHERE a.name = d.name
RETURNING d.open AND d.due <= $4, d.due::float8, greatest(extract(epoch FROM d.paused_until - d.at), 0)::float8`,
		l.account(), rate, burst, maxWait.Seconds()).Scan(&took, &due, &pausedFor)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) { // the account's first create: a full bucket
			_, err = l.pool.Exec(ctx, `INSERT INTO autocall_account (name, tokens) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, l.account(), burst)
			if err == nil {
				return l.take(ctx, maxWait)
			}
		}
		return 0, false, false, fmt.Errorf("autocallriver: the account's rate limit: %w", err)
	}
	d := time.Duration(due * float64(time.Second))
	switch {
	case took:
		return d, true, false, nil
	case pausedFor > 0:
		return time.Duration(pausedFor * float64(time.Second)), false, true, nil
	}
	return d, false, false, nil
}

// Wait waits until a create may go (a token taken), for at most max; it
// returns the rest of the wait, when longer than max, without taking a
// token (a job engine snoozes the job instead of holding a worker).
func (l *Limiter) Wait(ctx context.Context, maxWait time.Duration) (time.Duration, error) {
	for {
		d, took, _, err := l.take(ctx, maxWait)
		if err != nil {
			return 0, err
		}
		if !took && d > maxWait {
			return d, nil
		}
		if d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return 0, ctx.Err() // a token reserved is lost: fewer creates, never more
			case <-t.C:
			}
		}
		if took {
			return 0, nil
		}
	}
}

// Pause makes every replica wait d before its next create (the provider's
// Retry-After; a second when it named none). A longer pause already set
// stands.
func (l *Limiter) Pause(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		d = time.Second
	}
	_, err := l.pool.Exec(ctx, `
INSERT INTO autocall_account (name, tokens, paused_until) VALUES ($1, 1, clock_timestamp() + $2 * interval '1 microsecond')
ON CONFLICT (name) DO UPDATE SET paused_until = greatest(autocall_account.paused_until, excluded.paused_until)`,
		l.account(), d.Microseconds())
	if err != nil {
		return fmt.Errorf("autocallriver: pausing the account: %w", err)
	}
	return nil
}

// PausedUntil is when the account's pause ends (by the database's clock,
// read as this host's), zero when it is not paused.
func (l *Limiter) PausedUntil(ctx context.Context) (time.Time, error) {
	var left float64
	err := l.pool.QueryRow(ctx, pausedSQL, l.account()).Scan(&left)
	if err != nil || left <= 0 {
		return time.Time{}, err
	}
	return time.Now().Add(time.Duration(left * float64(time.Second))), nil
}
