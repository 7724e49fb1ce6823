package autocallredis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/autocallvn/autocall-go/batch"
)

// The per-phone index of advertising calls (batch.AdvertisingJournal) is a
// second hash beside the journal's: a field per phone holding, as JSON,
// the keys of the jobs that called it (or may have) and when, in Unix
// milliseconds. The claim script checks and writes it, so two hosts cannot
// both call one number within the interval; Settle moves a job's entry to
// its outcome's time (placed, unknown) or drops it (unsent, refused).

// adsKey is the index's key: in the journal hash's cluster slot (its hash
// tag is the journal's), so that one script may touch both.
func adsKey(hash string) string {
	tag := hash
	if i := strings.IndexByte(hash, '{'); i >= 0 {
		if k := strings.IndexByte(hash[i+1:], '}'); k > 0 {
			tag = hash[i+1 : i+1+k]
		}
	}
	return "{" + tag + "}:advertising"
}

// adCheck is the claim script's part for advertising jobs: ARGV[4] is
// {"phones": [...], "now": ms, "interval": ms}, or empty for other jobs.
// An interval of 0 (the subscriber agreed to more calls) holds nothing
// back, but the call is indexed.
const adCheck = `
if ARGV[4] ~= '' then
  local ad = cjson.decode(ARGV[4])
  local best, phone = 0, nil
  for _, p in ipairs(ad['phones']) do
    local raw = ad['interval'] > 0 and redis.call('HGET', KEYS[2], p)
    if raw then
      for k, at in pairs(cjson.decode(raw)) do
        local untilms = at + ad['interval']
        if k ~= ARGV[1] and ad['now'] < untilms and untilms > best then
          best, phone = untilms, p
        end
      end
    end
  end
  if phone then
    return {'held', phone, string.format('%d', best)}
  end
  for _, p in ipairs(ad['phones']) do
    local raw = redis.call('HGET', KEYS[2], p)
    local calls = {}
    if raw then calls = cjson.decode(raw) end
    calls[ARGV[1]] = ad['now']
    redis.call('HSET', KEYS[2], p, cjson.encode(calls))
  end
end
`

// adArg is ARGV[4] of the claim script for rec.
func adArg(rec batch.Record) (string, error) {
	if rec.Purpose != batch.Advertising {
		return "", nil
	}
	b, err := json.Marshal(struct {
		Phones   []string `json:"phones"`
		Now      int64    `json:"now"`
		Interval int64    `json:"interval"`
	}{phoneList(rec), rec.Time.UnixMilli(), rec.Interval.Milliseconds()})
	return string(b), err
}

// phoneList is rec's phones for a script: a JSON array, never null.
func phoneList(rec batch.Record) []string {
	if rec.Phones == nil {
		return []string{}
	}
	return rec.Phones
}

// deferScript writes KEYS[1]'s field ARGV[1] as the deferred record
// ARGV[2] if its record is still claimable (ARGV[3], ARGV[5…] as in
// claimScript); otherwise it returns the record in the way.
var deferScript = redis.NewScript(claimable + `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return false
`)

// deferClaim records a claim the index held back as deferred, unless the
// job was claimed since (then it returns that record, as Claim does). The
// deferral is written by a second script, only while the job is still
// claimable, so it never overwrites a peer's claim; nothing is sent for it.
func (j *Journal) deferClaim(ctx context.Context, rec batch.Record, held []any, args []any) (bool, batch.Record, error) {
	var phone, ms string
	if len(held) == 3 {
		phone, _ = held[1].(string)
		ms, _ = held[2].(string)
	}
	until, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return false, batch.Record{}, fmt.Errorf("autocallredis: claiming %s: the script answered %v", rec.Key, held)
	}
	d := &batch.Deferral{Cause: batch.CauseFrequency, Phone: phone, NotBefore: time.UnixMilli(until).In(rec.Time.Location())}
	def := rec
	def.State, def.Cause, def.NotBefore, def.Reason = batch.Unsent, d.Cause, d.NotBefore, d.Error()
	def.Claimed = time.Time{}
	if cur, ok, err := j.Get(ctx, rec.Key); err == nil && ok {
		def = def.Inherit(cur)
	}
	line, err := json.Marshal(def)
	if err != nil {
		return false, batch.Record{}, err
	}
	args = append([]any{rec.Key, line}, args[2:]...)
	cur, err := deferScript.Run(ctx, j.rdb, []string{j.hash}, args...).Text()
	switch {
	case errors.Is(err, redis.Nil):
		return false, def, nil
	case err != nil:
		return false, batch.Record{}, fmt.Errorf("autocallredis: deferring %s: %w", rec.Key, err)
	}
	existing, err := inTheWay(rec.Key, cur)
	return false, existing, err
}

// settleScript writes KEYS[1]'s field ARGV[1] as ARGV[2] and, in the
// index KEYS[2], puts the job's call to each phone of ARGV[3] at ARGV[4]
// ms when ARGV[5] is "1" (placed, unknown), or drops it (unsent, refused).
var settleScript = redis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
for _, p in ipairs(cjson.decode(ARGV[3])) do
  local raw = redis.call('HGET', KEYS[2], p)
  local calls = {}
  if raw then calls = cjson.decode(raw) end
  if ARGV[5] == '1' then
    calls[ARGV[1]] = tonumber(ARGV[4])
  else
    calls[ARGV[1]] = nil
  end
  if next(calls) == nil then
    redis.call('HDEL', KEYS[2], p)
  else
    redis.call('HSET', KEYS[2], p, cjson.encode(calls))
  end
end
return 1
`)

// settleAdvertising records an advertising job's outcome and its calls in
// the index, in one script.
func (j *Journal) settleAdvertising(ctx context.Context, rec batch.Record, line []byte) error {
	p, err := json.Marshal(phoneList(rec))
	if err != nil {
		return err
	}
	called := "0"
	if rec.State.MayHaveCalled() { // a state not known counts as a call
		called = "1"
	}
	return settleScript.Run(ctx, j.rdb, []string{j.hash, j.ads}, rec.Key, line, p, rec.Time.UnixMilli(), called).Err()
}

// IndexesAdvertising implements batch.AdvertisingJournal.
func (j *Journal) IndexesAdvertising() {}

var _ batch.AdvertisingJournal = (*Journal)(nil)
