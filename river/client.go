package autocallriver

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// InsertTx inserts a call job in the caller's transaction tx: rolled back,
// there is no job; committed, there is one per key (args' InsertOpts), even
// when two transactions insert the same key (the second finds the first's:
// JobInsertResult.UniqueSkippedAsDuplicate).
func InsertTx(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, args river.JobArgs) (*rivertype.JobInsertResult, error) {
	return client.InsertTx(ctx, tx, args, nil)
}

// NewClient returns a River client on pool that works the call jobs of
// Queue with w, maxWorkers at a time (cfg, when not nil, is the rest of
// River's configuration; its Queues and Workers are set here). An
// insert-only client (a web process) needs no worker: river.NewClient with
// an empty Config.
func NewClient(pool *pgxpool.Pool, w *Worker, maxWorkers int, cfg *river.Config) (*river.Client[pgx.Tx], error) {
	c := river.Config{}
	if cfg != nil {
		c = *cfg
	}
	workers := river.NewWorkers()
	if err := w.Register(workers); err != nil {
		return nil, err
	}
	c.Workers = workers
	queues := map[string]river.QueueConfig{}
	for k, v := range c.Queues {
		queues[k] = v
	}
	queues[Queue] = river.QueueConfig{MaxWorkers: max(maxWorkers, 1)}
	c.Queues = queues
	return river.NewClient(riverpgxv5.New(pool), &c)
}
