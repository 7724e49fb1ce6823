package autocallredis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// migrateScript merges the index an older version kept outside
// "autocall:" (KEYS[1]) into its key now (KEYS[2]), keeping each job's
// latest call to each phone, and deletes the old one. Both keys share a
// cluster slot. It returns how many phones it moved.
var migrateScript = redis.NewScript(`
local old = redis.call('HGETALL', KEYS[1])
for i = 1, #old, 2 do
  local calls = cjson.decode(old[i + 1])
  local raw = redis.call('HGET', KEYS[2], old[i])
  if raw then
    for k, at in pairs(cjson.decode(raw)) do
      if not calls[k] or calls[k] < at then calls[k] = at end
    end
  end
  redis.call('HSET', KEYS[2], old[i], cjson.encode(calls))
end
redis.call('DEL', KEYS[1])
return #old / 2
`)

// migrate moves an index left by an older version into the namespace, at
// the first claim (issue #25.2). Stop the workers of the older version
// first: one still running would write the old key again.
//
// A user whose ACL allows only "autocall:*" keys cannot read the old key
// (NOPERM): it could not have written it either, so an index there was
// written by another user; that user's first claim with this version
// moves it.
func (j *Journal) migrate(ctx context.Context) error {
	err := migrateScript.Run(ctx, j.rdb, []string{j.oldAds, j.ads}).Err()
	var reply redis.Error
	if err == nil || (errors.As(err, &reply) && strings.Contains(reply.Error(), "NOPERM")) {
		return nil
	}
	return fmt.Errorf("autocallredis: moving the advertising index from %s to %s: %w", j.oldAds, j.ads, err)
}
