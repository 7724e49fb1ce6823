package autocallredis

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/autocallvn/autocall-go/batch"
)

// settleIfScript writes record ARGV[2] to KEYS[1]'s field ARGV[1] only if
// the stored record still has state ARGV[3] and time ARGV[4] (as JSON
// writes them); it returns 1 if it wrote, 0 if not.
var settleIfScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then
  return 0
end
local rec = cjson.decode(cur)
if rec['state'] ~= ARGV[3] or rec['time'] ~= ARGV[4] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// SettleIf implements batch.ConditionalSettler: the comparison and the
// write are one Lua script, so a peer's claim or outcome between
// batch.Resolve's read and its write is never overwritten.
func (j *Journal) SettleIf(ctx context.Context, rec, expect batch.Record) (bool, error) {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	line, err := json.Marshal(rec.Inherit(expect))
	if err != nil {
		return false, err
	}
	at := expect.Time.Format(time.RFC3339Nano) // as time.Time's MarshalJSON writes it
	n, err := settleIfScript.Run(ctx, j.rdb, []string{j.hash}, rec.Key, line, string(expect.State), at).Int()
	if err != nil {
		return false, fmt.Errorf("autocallredis: recording %s: %w", rec.Key, err)
	}
	return n == 1, nil
}

var _ batch.ConditionalSettler = (*Journal)(nil)
