package autocallredis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/autocallvn/autocall-go/batch"
)

// Journal is a batch.Journal in Redis, for workers on several machines
// running one job list: each job is claimed by exactly one of them (an
// atomic claim in a Lua script), with the same states and the same
// at-most-once promise as batch.FileJournal. A worker that dies mid-job
// leaves it claimed: it reads as unknown and is never sent again.
//
// Records live in one Redis hash, "autocall:journal:<name>", a field per
// job holding its latest record as JSON. See the package doc for the Redis
// settings the promise relies on: the first Claim checks them (Check).
//
// It is a batch.AdvertisingJournal: a second hash,
// "{autocall:journal:<name>}:advertising" (in the journal's cluster slot),
// indexes advertising calls by phone, and the claim script checks it, so
// that two hosts cannot both call one number within Decree 91's 24 hours.
type Journal struct {
	rdb     redis.UniversalClient
	hash    string
	ads     string // the per-phone index of advertising calls (advertising.go)
	opts    journalOptions
	checked readiness
}

// NewJournal is the journal name in rdb. It sends nothing: the first Claim
// checks Redis's configuration (Check) and refuses an unsafe one, unless
// an option accepts the risk.
func NewJournal(rdb redis.UniversalClient, name string, opts ...JournalOption) *Journal {
	j := &Journal{rdb: rdb, hash: "autocall:journal:" + name}
	j.ads = adsKey(j.hash)
	for _, o := range opts {
		o(&j.opts)
	}
	return j
}

// claimable is the scripts' batch.Retry.Claimable in Lua: it returns the
// record of KEYS[1]'s field ARGV[1] if it stands in the way. Unsent goes;
// refused goes when ARGV[3] is "1" (every refused job) or its cause is one
// of ARGV[5…].
const claimable = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local rec = cjson.decode(cur)
  local ok = rec['state'] == 'unsent'
  if rec['state'] == 'refused' then
    if ARGV[3] == '1' then
      ok = true
    else
      for i = 5, #ARGV do
        if rec['cause'] == ARGV[i] then ok = true end
      end
    end
  end
  if not ok then
    return cur
  end
end
`

// claimScript claims KEYS[1]'s field ARGV[1] with record ARGV[2], unless
// claimable returns the record in the way. ARGV[4], for an advertising
// job, is its check against the per-phone index KEYS[2] (adCheck, in
// advertising.go); a number another job called within the interval
// returns {"held", phone, until in ms} and claims nothing.
var claimScript = redis.NewScript(claimable + adCheck + `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return false
`)

// Claim implements batch.Journal: the choice of retry is made in the
// claim script, atomically with the claim.
func (j *Journal) Claim(ctx context.Context, rec batch.Record, retry batch.Retry) (bool, batch.Record, error) {
	if err := j.ready(ctx); err != nil {
		return false, batch.Record{}, err
	}
	rec.State = batch.Claimed
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	rec.Claimed = rec.Time
	line, err := json.Marshal(rec)
	if err != nil {
		return false, batch.Record{}, err
	}
	ad, err := adArg(rec)
	if err != nil {
		return false, batch.Record{}, err
	}
	args := []any{rec.Key, line, "0", ad}
	if retry.Refused {
		args[2] = "1"
	}
	for _, c := range retry.Causes {
		args = append(args, c)
	}
	res, err := j.runClaim(ctx, rec.Key, []string{j.hash, j.ads}, args...).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return true, batch.Record{}, nil
	case err != nil:
		return false, batch.Record{}, fmt.Errorf("autocallredis: claiming %s: %w", rec.Key, err)
	}
	if held, ok := res.([]any); ok {
		return j.deferClaim(ctx, rec, held, args)
	}
	cur, _ := res.(string)
	existing, err := inTheWay(rec.Key, cur)
	return false, existing, err
}

// inTheWay decodes cur, the record a claim found in its way. One still
// claimed is in flight elsewhere, or its worker died: it reads as unknown,
// never sent again.
func inTheWay(key, cur string) (batch.Record, error) {
	var existing batch.Record
	if err := json.Unmarshal([]byte(cur), &existing); err != nil {
		return batch.Record{}, fmt.Errorf("autocallredis: the record of %s is damaged: %w", key, err)
	}
	if existing.State == batch.Claimed {
		existing.State = batch.Unknown
	}
	return existing, nil
}

// Settle implements batch.Journal. Only the claimer settles a job, so a
// read then a write is enough to keep what the claim knew.
func (j *Journal) Settle(ctx context.Context, rec batch.Record) error {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	if cur, ok, err := j.Get(ctx, rec.Key); err == nil && ok {
		rec = rec.Inherit(cur)
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if rec.Purpose == batch.Advertising {
		err = j.settleAdvertising(ctx, rec, line)
	} else {
		err = j.rdb.HSet(ctx, j.hash, rec.Key, line).Err()
	}
	if err != nil {
		return fmt.Errorf("autocallredis: recording %s: %w", rec.Key, err)
	}
	return nil
}

// Get implements batch.Journal.
func (j *Journal) Get(ctx context.Context, key string) (batch.Record, bool, error) {
	raw, err := j.rdb.HGet(ctx, j.hash, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return batch.Record{}, false, nil
	}
	if err != nil {
		return batch.Record{}, false, fmt.Errorf("autocallredis: reading %s: %w", key, err)
	}
	var rec batch.Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return batch.Record{}, false, fmt.Errorf("autocallredis: the record of %s is damaged: %w", key, err)
	}
	return rec, true, nil
}

// Records implements batch.Journal, sorted by key.
func (j *Journal) Records(ctx context.Context) ([]batch.Record, error) {
	all, err := j.rdb.HGetAll(ctx, j.hash).Result()
	if err != nil {
		return nil, fmt.Errorf("autocallredis: reading the journal: %w", err)
	}
	out := make([]batch.Record, 0, len(all))
	for k, raw := range all {
		var rec batch.Record
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			return nil, fmt.Errorf("autocallredis: the record of %s is damaged: %w", k, err)
		}
		out = append(out, rec)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	return out, nil
}

// Close implements batch.Journal; the Redis client is the caller's to close.
func (j *Journal) Close() error { return nil }

var _ batch.Journal = (*Journal)(nil)
