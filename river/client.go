package autocallriver

import (
	"context"
	"fmt"
	"strings"

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
//
// A job holds one of the maxWorkers places from its start (its wait for
// the account's token included) until the provider has answered; its
// outcome's write and River's completion come after, while the next job's
// call is under way. So a process that dies can leave up to maxWorkers +
// Prefetch claims unsettled, each read Unknown: those answered and not yet
// written besides those in their call. River holds up to
// w.Prefetch jobs more (by default as many again), fetched ahead, each
// waiting in the worker for a place: River fills a freed slot only at its
// next fetch, at most once per FetchCooldown and not at all for a slot
// freed while a fetch is under way, which left a 50 ms job's slot idle 8
// ms on average and up to 40 ms (BENCHMARKS.md). A job waiting for a place
// has no claim: if this process dies, River rescues it and it is sent
// once, by whichever worker claims it, but only after River's
// RescueStuckJobsAfter (by default JobTimeout and an hour), as River
// rescues any job it was running. River's Stop works the jobs fetched
// ahead too, each in its turn; StopAndCancel gives them back, unsent.
//
// The places are w's: a Worker given to several NewClient calls shares
// them among their clients, and each call must give the same maxWorkers
// and w.Prefetch (another is an error).
//
// Give pool PoolConns(maxWorkers, w) connections: pgxpool's default (4, or
// the host's CPUs) has each claim wait for a connection.
func NewClient(pool *pgxpool.Pool, w *Worker, maxWorkers int, cfg *river.Config) (*river.Client[pgx.Tx], error) {
	c := river.Config{}
	if cfg != nil {
		c = *cfg
	}
	workers := river.NewWorkers()
	if err := w.Register(workers); err != nil {
		return nil, err
	}
	maxWorkers = max(maxWorkers, 1)
	ahead := w.Ahead(maxWorkers)
	stmt := scrubSQL(c.Schema)
	if w.scrubStmt != "" && w.scrubStmt != stmt {
		return nil, fmt.Errorf("autocallriver: the Worker works another River schema from an earlier NewClient, not %q", c.Schema)
	}
	// Made once, never replaced: a job of an earlier client gives its place
	// back to w.places as it reads it then, and would wait for ever on
	// places that never had it.
	switch {
	case w.places == nil && ahead > 0:
		w.places = make(chan struct{}, maxWorkers)
	case w.places != nil && (ahead == 0 || cap(w.places) != maxWorkers):
		return nil, fmt.Errorf("autocallriver: the Worker has %d places from an earlier NewClient: give each NewClient of one Worker the same maxWorkers and Prefetch", cap(w.places))
	}
	if w.scrubStmt == "" {
		w.scrubStmt = stmt // set once, like places: jobs read it
	}
	c.Workers = workers
	queues := map[string]river.QueueConfig{}
	for k, v := range c.Queues {
		queues[k] = v
	}
	queues[Queue] = river.QueueConfig{MaxWorkers: maxWorkers + ahead}
	c.Queues = queues
	return river.NewClient(riverpgxv5.New(pool), &c)
}

// PoolConns is the connections a pool wants for NewClient(pool, w,
// maxWorkers, …): one for each job River holds (a claim, or an outcome's
// write with River's completion) and four for River's fetches, completer
// and maintenance. River's LISTEN takes one more, out of the pool (pgx's
// Hijack): a process opens up to PoolConns + 1 connections.
func PoolConns(maxWorkers int, w *Worker) int32 {
	maxWorkers = max(maxWorkers, 1)
	return int32(maxWorkers + w.Ahead(maxWorkers) + 4)
}

// PoolConfig parses url (pgxpool's form) into a pool's configuration for
// NewClient(pool, w, maxWorkers, …): PoolConns connections, unless url
// sets pool_max_conns itself, which stands.
func PoolConfig(url string, maxWorkers int, w *Worker) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, PoolConns(maxWorkers, w))
	}
	return cfg, nil
}
