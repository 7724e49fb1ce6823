package autocallredis

import (
	"context"
	"fmt"
	"time"

	autocall "github.com/autocallvn/autocall-go"
)

// Expire makes Redis delete the journal d from now, since its records
// would otherwise stay for ever (a 100,000-job batch holds about 24 MB).
// Call it once every host's run of the batch is over, with d as long as
// the batch may still be run again: once the journal is gone, a run under
// the same name sends every job again.
//
// A run under the same name takes the expiry off again (its first Claim
// does, through Check), so a journal cannot vanish under a run; call
// Expire again when it is over. Until then, an eviction policy of the
// volatile-* kinds may delete the expiring journal before d.
func (j *Journal) Expire(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return &autocall.ValidationError{Field: "d", Value: d.String(), Reason: "the journal's lifetime must be positive"}
	}
	if err := j.rdb.PExpire(ctx, j.hash, d).Err(); err != nil {
		return fmt.Errorf("autocallredis: setting the journal's expiry: %w", err)
	}
	for _, k := range []string{j.ads, j.ads + ":sweep"} {
		if err := j.rdb.PExpire(ctx, k, d).Err(); err != nil {
			return fmt.Errorf("autocallredis: setting the expiry of the journal's advertising index: %w", err)
		}
	}
	// The tombstones go with the records they stand for; left behind they
	// would stay for ever, no claim left to sweep them.
	if err := j.rdb.PExpire(ctx, j.tombs, d).Err(); err != nil {
		return fmt.Errorf("autocallredis: setting the expiry of the journal's tombstones: %w", err)
	}
	// The next claim checks again, and takes the expiry off. Under mu, so
	// that a check under way (which may have run before the expiry was
	// set) does not mark the journal checked after this.
	j.checked.mu.Lock()
	j.checked.ok.Store(false)
	j.checked.mu.Unlock()
	return nil
}
