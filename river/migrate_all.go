package autocallriver

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// MigrateAll applies River's migrations (rivermigrate, up to the version
// this build of River needs) and the journal's (Migrate): what
// `autocall-worker migrate` does.
func MigrateAll(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("autocallriver: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("autocallriver: River's migrations: %w", err)
	}
	return Migrate(ctx, pool)
}

// CheckMigrated reports whether River's migrations and the journal's are
// all applied: ErrNotMigrated (with what is missing) when not. A worker
// checks it at start.
func CheckMigrated(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("autocallriver: %w", err)
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("autocallriver: checking River's migrations: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("%w: River's tables: %v", ErrNotMigrated, res.Messages)
	}
	return checkMigrated(ctx, pool)
}
