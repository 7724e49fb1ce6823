package autocallredis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/autocallvn/autocall-go/batch"
)

// SettleIf implements batch.Journal: the comparison, the write and the
// index's update are one Lua script, so a peer's claim or outcome between
// batch.Resolve's read and its write is never overwritten, and an
// advertising job resolved unsent frees its number at once.
//
// rec is merged (Inherit) with the stored record, not with expect, which
// need hold only the key, state and time: the script writes only while the
// record it was merged with is still the one stored.
func (j *Journal) SettleIf(ctx context.Context, rec, expect batch.Record) (bool, error) {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	for {
		raw, err := j.rdb.HGet(ctx, j.hash, rec.Key).Result()
		if errors.Is(err, redis.Nil) {
			return false, nil // a missing record is not expect
		}
		if err != nil {
			return false, fmt.Errorf("autocallredis: recording %s: %w", rec.Key, err)
		}
		cur, err := decode(rec.Key, []byte(raw))
		if err != nil {
			return false, err
		}
		want := expect
		if cur.Time.Equal(want.Time) {
			// The script compares the time as stored, a string; SameRecord
			// compares instants, in whatever zone expect's is.
			want.Time = cur.Time
		}
		ok, err := j.settle(ctx, rec.Inherit(cur), &want, raw)
		if errors.Is(err, errMerged) {
			continue // written again since the read, still as expected
		}
		if err != nil {
			return false, fmt.Errorf("autocallredis: recording %s: %w", rec.Key, err)
		}
		return ok, nil
	}
}
