package autocallredis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/autocallvn/autocall-go/batch"
)

// Lease implements batch.Journal: run's lease is the key
// "<lease prefix><run>" with a TTL of ttl (SET PX), read by the scripts
// and by Get where they read a claim. Ending it (ttl <= 0) deletes it, and
// this handle's unsettled claims of run are no longer its own.
func (j *Journal) Lease(ctx context.Context, run string, ttl time.Duration) error {
	if ttl <= 0 {
		j.mu.Lock()
		for k, r := range j.own {
			if r == run {
				delete(j.own, k)
			}
		}
		j.mu.Unlock()
		if err := j.rdb.Del(ctx, j.lease+run).Err(); err != nil {
			return fmt.Errorf("autocallredis: ending the lease of run %s: %w", run, err)
		}
		return nil
	}
	if err := j.rdb.Set(ctx, j.lease+run, "1", ttl).Err(); err != nil {
		return fmt.Errorf("autocallredis: renewing the lease of run %s: %w", run, err)
	}
	return nil
}

// view is rec as Get reads it: a claim is Claimed while its run's lease is
// live (live) or it is this handle's own; otherwise it was left by a run
// that died, and reads as Unknown.
func (j *Journal) view(rec batch.Record, live bool) batch.Record {
	if rec.State != batch.Claimed || live || j.isOwn(rec.Key) {
		return rec
	}
	rec.State = batch.Unknown
	if rec.Reason == "" {
		rec.Reason = "claimed by run " + rec.Run + ", which ended (or stopped renewing its lease) before it recorded the outcome"
	}
	return rec
}

func (j *Journal) isOwn(key string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	_, ok := j.own[key]
	return ok
}

func (j *Journal) disown(key string) {
	j.mu.Lock()
	delete(j.own, key)
	j.mu.Unlock()
}

// liveRuns reads the leases of the runs of recs' claims: which are live.
func (j *Journal) liveRuns(ctx context.Context, recs []batch.Record) (map[string]bool, error) {
	var runs []string
	seen := map[string]bool{}
	for _, r := range recs {
		if r.State == batch.Claimed && r.Run != "" && !seen[r.Run] {
			seen[r.Run] = true
			runs = append(runs, r.Run)
		}
	}
	live := make(map[string]bool, len(runs))
	if len(runs) == 0 {
		return live, nil
	}
	pipe := j.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(runs))
	for i, r := range runs {
		cmds[i] = pipe.Exists(ctx, j.lease+r)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("autocallredis: reading the runs' leases: %w", err)
	}
	for i, c := range cmds {
		live[runs[i]] = c.Val() == 1
	}
	return live, nil
}

// subKey is the key of the journal's part suffix: under "autocall:", in
// the cluster slot of hash (its hash tag, or hash itself as the tag).
func subKey(hash, suffix string) string {
	if _, ok := hashTag(hash); ok {
		return hash + ":" + suffix
	}
	return "autocall:{" + hash + "}:" + suffix
}

// hashTag is the part of key Redis Cluster hashes, when it has a tag.
func hashTag(key string) (string, bool) {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if k := strings.IndexByte(key[i+1:], '}'); k > 0 {
			return key[i+1 : i+1+k], true
		}
	}
	return "", false
}

// oldAdsKey is where versions before the move kept the index, outside
// "autocall:" (issue #25.2).
func oldAdsKey(hash string) string {
	tag, ok := hashTag(hash)
	if !ok {
		tag = hash
	}
	return "{" + tag + "}:advertising"
}
