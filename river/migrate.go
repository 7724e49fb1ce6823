package autocallriver

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SchemaVersion is the version of the journal's tables this package needs.
const SchemaVersion = 2

// ErrNotMigrated: the database lacks the journal's tables (or River's), or
// holds an older version of them: run `autocall-worker migrate` (or
// Migrate and River's rivermigrate) first.
var ErrNotMigrated = errors.New("autocallriver: the database is not migrated: run `autocall-worker migrate`")

// migrations are the journal's tables, each step applied once, in order.
// Every table is prefixed autocall_, in the schema of the connection's
// search_path (River's own tables are river_*). Times of records are
// nanoseconds since 1970 (bigint), so that a record reads back exactly as
// it was written (SameRecord compares times); leases and the account's
// pause and bucket use the database's clock, shared by every replica.
var migrations = []string{
	1: `
CREATE TABLE autocall_job (
	key           text PRIMARY KEY,
	seq           bigserial NOT NULL,
	state         text NOT NULL,
	time_ns       bigint NOT NULL,
	claimed_ns    bigint,
	kind          text NOT NULL DEFAULT '',
	campaign      text NOT NULL DEFAULT '',
	phones        text[],
	call_ids      text[],
	session_id    text NOT NULL DEFAULT '',
	code          text NOT NULL DEFAULT '',
	reason        text NOT NULL DEFAULT '',
	cause         text NOT NULL DEFAULT '',
	run           text NOT NULL DEFAULT '',
	purpose       text NOT NULL DEFAULT '',
	not_before_ns bigint
);
CREATE INDEX autocall_job_seq ON autocall_job (seq);
CREATE INDEX autocall_job_open ON autocall_job (state) WHERE state IN ('claimed', 'unknown');
-- SettleFromEvents finds the jobs an event may be a call of by phone or call id.
CREATE INDEX autocall_job_phones ON autocall_job USING gin (phones);
CREATE INDEX autocall_job_call_ids ON autocall_job USING gin (call_ids);
-- The per-phone index of advertising calls: phone, the job that called it
-- (or may have), and when.
CREATE TABLE autocall_adcall (
	phone text NOT NULL,
	key   text NOT NULL,
	at_ns bigint NOT NULL,
	PRIMARY KEY (phone, key)
);
-- A run's (a worker process's) lease on its claims.
CREATE TABLE autocall_lease (
	run     text PRIMARY KEY,
	expires timestamptz NOT NULL
);
-- The provider account's pause (a 429's Retry-After) and token bucket,
-- shared by every replica.
CREATE TABLE autocall_account (
	name         text PRIMARY KEY,
	tokens       double precision NOT NULL DEFAULT 0,
	updated      timestamptz NOT NULL DEFAULT clock_timestamp(),
	paused_until timestamptz NOT NULL DEFAULT 'epoch'
);`,
	2: migrationRetention, // retention.go
}

// Migrate creates or upgrades the journal's tables. It is safe to run from
// several processes at once (an advisory lock serialises them) and again
// (it does only what is missing). River's own tables are migrated by
// River's rivermigrate (MigrateAll does both).
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7215725391)`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS autocall_schema (version int NOT NULL)`); err != nil {
			return err
		}
		v, err := version(ctx, tx)
		if err != nil {
			return err
		}
		for step := v + 1; step < len(migrations); step++ {
			if _, err := tx.Exec(ctx, migrations[step]); err != nil {
				return fmt.Errorf("autocallriver: migration %d: %w", step, err)
			}
		}
		if v < SchemaVersion {
			if _, err := tx.Exec(ctx, `DELETE FROM autocall_schema`); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO autocall_schema (version) VALUES ($1)`, SchemaVersion)
		}
		return err
	})
}

func version(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var v int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM autocall_schema`).Scan(&v)
	return v, err
}

// checkMigrated: the journal's tables are at SchemaVersion.
func checkMigrated(ctx context.Context, pool *pgxpool.Pool) error {
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('autocall_schema') IS NOT NULL`).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return ErrNotMigrated
	}
	v, err := version(ctx, pool)
	switch {
	case err != nil:
		return err
	case v < SchemaVersion:
		return fmt.Errorf("%w (the journal's tables are at version %d, this build needs %d)", ErrNotMigrated, v, SchemaVersion)
	case v > SchemaVersion:
		return fmt.Errorf("autocallriver: the journal's tables are at version %d, newer than this build's %d: upgrade the worker", v, SchemaVersion)
	}
	return nil
}
