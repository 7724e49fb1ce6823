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
// about a millisecond on a local database. Every replica's creates take
// that row's lock in turn, so the account's creates are serialised on it:
// a few thousand a second at most, far above what a provider allows an
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
	burst := float64(max(l.Burst, 1))
	rate := l.Rate
	if rate <= 0 {
		// No bound: only the pause, read without the row's lock.
		var left float64
		err := l.pool.QueryRow(ctx, pausedSQL, l.account()).Scan(&left)
		if err != nil {
			return 0, false, fmt.Errorf("autocallriver: the account's pause: %w", err)
		}
		if left > 0 {
			return time.Duration(left * float64(time.Second)), true, nil
		}
		return 0, false, nil
	}
	// The bucket refills from the row's last update to now by the
	// database's clock; greatest() keeps the update time moving forward
	// only, so no interval is credited twice when statements that started
	// in one order commit in another.
	var took bool
	var avail, pausedFor float64
	err = l.pool.QueryRow(ctx, `
WITH cur AS (
	SELECT a.name, greatest(a.updated, clock_timestamp()) AS at, a.paused_until,
		CASE WHEN $2 > 0 THEN least($3, a.tokens + $2 * extract(epoch FROM greatest(clock_timestamp() - a.updated, interval '0')))
		ELSE $3 END AS avail
	FROM autocall_account a WHERE a.name = $1 FOR UPDATE
)
UPDATE autocall_account a SET
	tokens = CASE WHEN cur.paused_until <= cur.at AND cur.avail >= 1 THEN cur.avail - 1 ELSE cur.avail END,
	updated = cur.at
FROM cur WHERE a.name = cur.name
RETURNING cur.paused_until <= cur.at AND cur.avail >= 1, cur.avail::float8,
	greatest(extract(epoch FROM cur.paused_until - cur.at), 0)::float8`,
		l.account(), rate, burst).Scan(&took, &avail, &pausedFor)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) { // the account's first create: a full bucket
			_, err = l.pool.Exec(ctx, `INSERT INTO autocall_account (name, tokens) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, l.account(), burst)
			if err == nil {
				return l.Take(ctx)
			}
		}
		return 0, false, fmt.Errorf("autocallriver: the account's rate limit: %w", err)
	}
	switch {
	case took:
		return 0, false, nil
	case pausedFor > 0:
		return time.Duration(pausedFor * float64(time.Second)), true, nil
	}
	return time.Duration((1 - avail) / rate * float64(time.Second)), false, nil
}

// Wait waits until a create may go (a token taken), for at most max; it
// returns the rest of the wait, when longer than max, without taking a
// token (a job engine snoozes the job instead of holding a worker).
func (l *Limiter) Wait(ctx context.Context, maxWait time.Duration) (time.Duration, error) {
	for {
		d, _, err := l.Take(ctx)
		if err != nil || d == 0 {
			return 0, err
		}
		if d > maxWait {
			return d, nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
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
