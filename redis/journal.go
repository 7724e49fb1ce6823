package autocallredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/autocallvn/autocall-go/batch"
)

// Journal is a batch.Journal in Redis, for workers on several machines
// running one job list: each job is claimed by exactly one of them (an
// atomic claim in a Lua script), with the same states and the same
// at-most-once promise as batch.FileJournal. A worker that dies mid-job
// leaves it claimed: once its run's lease lapses, it reads as unknown and
// is never sent again.
//
// Every key is under "autocall:" (an ACL user limited to ~autocall:*
// can open it), all in one cluster slot, so that one script may touch
// them:
//
//   - "autocall:journal:<name>": the records, a hash, a field per job
//     holding its latest record as JSON;
//   - "autocall:{autocall:journal:<name>}:advertising": the per-phone index
//     of advertising calls (advertising.go), checked by the claim script so
//     that two hosts cannot both call one number within Decree 91's 24
//     hours;
//   - "autocall:{autocall:journal:<name>}:lease:<run>": a run's lease
//     (Lease), a key with a TTL.
//
// (When the name holds a hash tag, "{…}", the other keys are the records'
// key with ":advertising" and ":lease:<run>" appended.) The index of an
// older version, "{autocall:journal:<name>}:advertising", outside the
// namespace, is merged into the new one by the first claim. See the package
// doc for the Redis settings the promise relies on: the first Claim checks
// them (Check).
type Journal struct {
	rdb     redis.UniversalClient
	hash    string
	ads     string // the per-phone index of advertising calls (advertising.go)
	lease   string // the prefix of the runs' lease keys (lease.go)
	oldAds  string // the index's key before it moved under "autocall:"
	tombs   string // the tombstones of forgotten keys (retention.go)
	sweeper sweeper
	opts    journalOptions
	checked readiness
	moved   atomic.Bool // the old index was merged into ads (migrate.go)

	mu  sync.Mutex
	own map[string]string // this handle's unsettled claims: key → run
}

// NewJournal is the journal name in rdb. It sends nothing: the first Claim
// checks Redis's configuration (Check) and refuses an unsafe one, unless
// an option accepts the risk.
func NewJournal(rdb redis.UniversalClient, name string, opts ...JournalOption) *Journal {
	j := &Journal{rdb: rdb, hash: "autocall:journal:" + name, own: map[string]string{}}
	j.ads, j.lease, j.oldAds = subKey(j.hash, "advertising"), subKey(j.hash, "lease:"), oldAdsKey(j.hash)
	j.tombs = subKey(j.hash, "forgotten")
	j.opts.now = time.Now
	for _, o := range opts {
		o(&j.opts)
	}
	j.opts.retention = j.opts.retention.Norm()
	return j
}

// claimable is the scripts' batch.Resend.Claimable in Lua: it returns the
// record of KEYS[1]'s field ARGV[1] if it stands in the way, with whether
// it is a claim of a run whose lease (key ARGV[5] .. run) is live. Unsent
// goes; refused goes when ARGV[3] is "1" (every refused job) or its cause
// is one of ARGV[7…]. ARGV[6] is the claim's tombstone check
// (forgottenCheck, retention.go). A record that is ARGV[2] byte for byte (a
// claim carries a random nonce) was written by this very call, run again by
// the client after its reply was lost: it is claimed, and returns false.
const claimable = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local rec = cjson.decode(cur)
  local ok = rec['state'] == 'unsent'
  if rec['state'] == 'refused' then
    if ARGV[3] == '1' then
      ok = true
    else
      for i = 7, #ARGV do
        if rec['cause'] == ARGV[i] then ok = true end
      end
    end
  end
  if not ok and cur == ARGV[2] then
    return false
  end
  if not ok then
    local live = 0
    if rec['state'] == 'claimed' and type(rec['run']) == 'string' and redis.call('EXISTS', ARGV[5] .. rec['run']) == 1 then
      live = 1
    end
    return {'cur', cur, live}
  end
end
` + forgottenCheck

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
func (j *Journal) Claim(ctx context.Context, req batch.ClaimRequest) (bool, batch.Record, error) {
	if err := j.ready(ctx); err != nil {
		return false, batch.Record{}, err
	}
	rec := req.Record
	rec.State = batch.Claimed
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	rec.ClaimedAt = rec.Time
	line, err := json.Marshal(rec)
	if err != nil {
		return false, batch.Record{}, err
	}
	line, err = withNonce(line)
	if err != nil {
		return false, batch.Record{}, err
	}
	ad, err := adArg(rec, req.Interval)
	if err != nil {
		return false, batch.Record{}, err
	}
	args := []any{rec.Key, line, "0", ad, j.lease, j.tombArg(rec.Key, req.Resend)}
	if req.Resend.Refused {
		args[2] = "1"
	}
	for _, c := range req.Resend.Causes {
		args = append(args, c)
	}
	// Own before the script runs: a Get racing the claim must not read
	// this handle's claim as a dead run's. Undone if nothing was claimed.
	j.mu.Lock()
	prev, had := j.own[rec.Key]
	j.own[rec.Key] = rec.Run
	j.mu.Unlock()
	res, err := j.runClaim(ctx, rec.Key, []string{j.hash, j.ads, j.tombs}, args...).Result()
	if errors.Is(err, redis.Nil) {
		j.maybeSweep()
		return true, batch.Record{}, nil
	}
	j.mu.Lock()
	if had {
		j.own[rec.Key] = prev
	} else {
		delete(j.own, rec.Key)
	}
	j.mu.Unlock()
	if err != nil {
		return false, batch.Record{}, fmt.Errorf("autocallredis: claiming %s: %w", rec.Key, err)
	}
	out, _ := res.([]any)
	if len(out) == 2 && out[0] == "forgotten" {
		return false, forgotten(rec.Key, out[1]), nil
	}
	j.maybeSweep()
	if len(out) == 3 && out[0] == "held" {
		return j.deferClaim(ctx, rec, out, args)
	}
	return j.inTheWay(rec.Key, out)
}

// inTheWay decodes a script's {"cur", record, live}: the record a claim
// found in its way, read as Get reads it.
func (j *Journal) inTheWay(key string, out []any) (bool, batch.Record, error) {
	if len(out) != 3 || out[0] != "cur" {
		return false, batch.Record{}, fmt.Errorf("autocallredis: claiming %s: the script answered %v", key, out)
	}
	cur, _ := out[1].(string)
	live, _ := out[2].(int64)
	existing, err := decode(key, []byte(cur))
	if err != nil {
		return false, batch.Record{}, err
	}
	return false, j.view(existing, live == 1), nil
}

// withNonce adds a random "claim" field to a claim's JSON line (records
// read ignore it; the outcome's record drops it): the claim script tells a
// retry of this claim from another claim of the same job by it.
func withNonce(line []byte) ([]byte, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return append(append(line[:len(line)-1:len(line)-1], `,"claim":"`+hex.EncodeToString(b[:])+`"`...), '}'), nil
}

func decode(key string, raw []byte) (batch.Record, error) {
	var rec batch.Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return batch.Record{}, fmt.Errorf("autocallredis: the record of %s is damaged: %w", key, err)
	}
	return rec, nil
}

// Settle implements batch.Journal. Only the claimer settles a job, so a
// read then a write is enough to keep what the claim knew.
func (j *Journal) Settle(ctx context.Context, rec batch.Record) error {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	raw, err := j.rdb.HGet(ctx, j.hash, rec.Key).Bytes()
	switch {
	case err == nil:
		if cur, err := decode(rec.Key, raw); err == nil {
			rec = rec.Inherit(cur)
		}
	case !errors.Is(err, redis.Nil):
		return fmt.Errorf("autocallredis: recording %s: %w", rec.Key, err)
	}
	if _, err := j.settle(ctx, rec, nil, ""); err != nil {
		return fmt.Errorf("autocallredis: recording %s: %w", rec.Key, err)
	}
	return nil
}

// Get implements batch.Journal. The record is read before its run's
// lease: a lease found live was live when the claim was read, and one found
// lapsed makes the claim read Unknown, which never sends it again.
func (j *Journal) Get(ctx context.Context, key string) (batch.Record, bool, error) {
	raw, err := j.rdb.HGet(ctx, j.hash, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return batch.Record{}, false, nil
	}
	if err != nil {
		return batch.Record{}, false, fmt.Errorf("autocallredis: reading %s: %w", key, err)
	}
	rec, err := decode(key, raw)
	if err != nil {
		return batch.Record{}, false, err
	}
	live, err := j.liveRuns(ctx, []batch.Record{rec})
	if err != nil {
		return batch.Record{}, false, err
	}
	return j.view(rec, live[rec.Run]), true, nil
}

// Records implements batch.Journal, sorted by key; read as Get reads.
func (j *Journal) Records(ctx context.Context) ([]batch.Record, error) {
	all, err := j.rdb.HGetAll(ctx, j.hash).Result()
	if err != nil {
		return nil, fmt.Errorf("autocallredis: reading the journal: %w", err)
	}
	out := make([]batch.Record, 0, len(all))
	for k, raw := range all {
		rec, err := decode(k, []byte(raw))
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	live, err := j.liveRuns(ctx, out)
	if err != nil {
		return nil, err
	}
	for i, rec := range out {
		out[i] = j.view(rec, live[rec.Run])
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	return out, nil
}

// Close implements batch.Journal; the Redis client is the caller's to
// close. It waits for a background sweep under way.
func (j *Journal) Close() error {
	j.sweeper.wg.Wait()
	return nil
}

var _ batch.Journal = (*Journal)(nil)
