package autocallredis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/autocallvn/autocall-go/batch"
)

// replicasSupported: WAIT counts the writes of its own connection, so
// MinReplicas needs a client that can lend one (see primaryConn).
func (j *Journal) replicasSupported() error {
	if j.opts.minReplicas == 0 {
		return nil
	}
	switch j.rdb.(type) {
	case *redis.Client, *redis.ClusterClient:
		return nil
	}
	return fmt.Errorf("autocallredis: MinReplicas needs a *redis.Client or *redis.ClusterClient, not %T", j.rdb)
}

// primaryConn is one connection to the primary that holds the journal.
func (j *Journal) primaryConn(ctx context.Context) (*redis.Conn, error) {
	switch rdb := j.rdb.(type) {
	case *redis.Client:
		return rdb.Conn(), nil
	case *redis.ClusterClient:
		c, err := rdb.MasterForKey(ctx, j.hash)
		if err != nil {
			return nil, err
		}
		return c.Conn(), nil
	}
	return nil, j.replicasSupported()
}

// runClaim runs the claim script; with MinReplicas, on one connection
// followed by WAIT. A claim the replicas did not acknowledge in time is
// recorded back as unsent, since its request has not left, and fails with
// ErrNotReplicated: a failover now could forget it.
func (j *Journal) runClaim(ctx context.Context, key string, keys []string, args ...any) *redis.Cmd {
	if j.opts.minReplicas == 0 {
		return claimScript.Run(ctx, j.rdb, keys, args...)
	}
	conn, err := j.primaryConn(ctx)
	if err != nil {
		cmd := redis.NewCmd(ctx)
		cmd.SetErr(err)
		return cmd
	}
	defer conn.Close()
	cmd := claimScript.Run(ctx, conn, keys, args...)
	if !errors.Is(cmd.Err(), redis.Nil) {
		return cmd // not claimed (nothing written), or failed
	}
	n, timeout := j.opts.minReplicas, j.opts.replicaTimeout
	acked, err := conn.Wait(ctx, n, timeout).Result()
	if err == nil && acked >= int64(n) {
		return cmd
	}
	why := fmt.Errorf("%w: %d of %d replicas acknowledged the claim of %s within %v", ErrNotReplicated, acked, n, key, timeout)
	if err != nil {
		why = fmt.Errorf("%w: waiting for %d replicas to acknowledge the claim of %s: %w", ErrNotReplicated, n, key, err)
	}
	back := batch.Record{Key: key, State: batch.Unsent, Time: time.Now(), Reason: why.Error()}
	if serr := j.Settle(context.WithoutCancel(ctx), back); serr != nil {
		why = fmt.Errorf("%w (and recording it back as unsent failed, so it reads as unknown: %v)", why, serr)
	}
	failed := redis.NewCmd(ctx)
	failed.SetErr(why)
	return failed
}
