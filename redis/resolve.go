package autocallredis

import (
	"context"
	"fmt"
	"time"

	"github.com/autocallvn/autocall-go/batch"
)

// SettleIf implements batch.Journal: the comparison, the write and the
// index's update are one Lua script, so a peer's claim or outcome between
// batch.Resolve's read and its write is never overwritten, and an
// advertising job resolved unsent frees its number at once.
func (j *Journal) SettleIf(ctx context.Context, rec, expect batch.Record) (bool, error) {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	ok, err := j.settle(ctx, rec.Inherit(expect), &expect)
	if err != nil {
		return false, fmt.Errorf("autocallredis: recording %s: %w", rec.Key, err)
	}
	return ok, nil
}
