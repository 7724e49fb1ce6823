package autocallredis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/autocallvn/autocall-go/batch"
)

// The per-phone index of advertising calls is a second hash beside the
// journal's: a field per phone holding, as JSON, the keys of the jobs that
// called it (or may have) and when, in Unix milliseconds. The claim script
// checks and writes it, so two hosts cannot both call one number within
// the interval; Settle and SettleIf move a job's entry to its outcome's
// time (placed, unknown) or drop it (unsent, refused).
//
// Entries are dropped once they can hold nothing back: the claim script
// drops those of the phones it touches, and of a few more phones each
// time (a bounded HSCAN from a cursor kept beside the index), that are
// older than keepMs: the claim's interval, and at least Decree 91's 24
// hours, so that a run with a shorter interval does not forget a call a
// run with the decree's would still count.

// adCheck is the claim script's part for advertising jobs: ARGV[4] is
// {"phones": [...], "now": ms, "interval": ms, "keep": ms}, or empty for
// other jobs. An interval of 0 (the subscriber agreed to more calls)
// holds nothing back, but the call is indexed.
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
  local function prune(calls)
    for k, at in pairs(calls) do
      if at + ad['keep'] <= ad['now'] then calls[k] = nil end
    end
    return calls
  end
  for _, p in ipairs(ad['phones']) do
    local raw = redis.call('HGET', KEYS[2], p)
    local calls = {}
    if raw then calls = prune(cjson.decode(raw)) end
    calls[ARGV[1]] = ad['now']
    redis.call('HSET', KEYS[2], p, cjson.encode(calls))
  end
  local cursorKey = KEYS[2] .. ':sweep'
  local cursor = redis.call('GET', cursorKey) or '0'
  local page = redis.call('HSCAN', KEYS[2], cursor, 'COUNT', 8)
  for i = 1, #page[2], 2 do
    local calls = prune(cjson.decode(page[2][i + 1]))
    if next(calls) == nil then
      redis.call('HDEL', KEYS[2], page[2][i])
    else
      redis.call('HSET', KEYS[2], page[2][i], cjson.encode(calls))
    end
  end
  if page[1] == '0' then
    redis.call('DEL', cursorKey)
  else
    redis.call('SET', cursorKey, page[1])
  end
end
`

// adArg is ARGV[4] of the claim script for rec.
func adArg(rec batch.Record, interval time.Duration) (string, error) {
	if rec.Purpose != batch.Advertising {
		return "", nil
	}
	b, err := json.Marshal(struct {
		Phones   []string `json:"phones"`
		Now      int64    `json:"now"`
		Interval int64    `json:"interval"`
		Keep     int64    `json:"keep"`
	}{phoneList(rec), rec.Time.UnixMilli(), interval.Milliseconds(), max(interval, batch.DefaultInterval).Milliseconds()})
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
	def.ClaimedAt = time.Time{}
	if raw, err := j.rdb.HGet(ctx, j.hash, rec.Key).Bytes(); err == nil {
		if cur, err := decode(rec.Key, raw); err == nil {
			def = def.Inherit(cur)
		}
	}
	line, err := json.Marshal(def)
	if err != nil {
		return false, batch.Record{}, err
	}
	args = append([]any{rec.Key, line}, args[2:]...)
	out, err := deferScript.Run(ctx, j.rdb, []string{j.hash, j.ads, j.tombs}, args...).Slice()
	switch {
	case errors.Is(err, redis.Nil):
		return false, def, nil
	case err != nil:
		return false, batch.Record{}, fmt.Errorf("autocallredis: deferring %s: %w", rec.Key, err)
	}
	if len(out) == 2 && out[0] == "forgotten" {
		return false, forgotten(rec.Key, out[1]), nil
	}
	return j.inTheWay(rec.Key, out)
}

// settleScript writes KEYS[1]'s field ARGV[1] as ARGV[2] and, for an
// advertising job (ARGV[3] its phones, else empty), in the index KEYS[2],
// puts its call to each phone at ARGV[4] ms when ARGV[5] is "1" (placed,
// unknown), or drops it (unsent, refused).
//
// With ARGV[6] "1" it is SettleIf: it writes only while the stored record,
// read as Get reads it, has state ARGV[7] and time ARGV[8] (as JSON writes
// it); a claim reads Claimed while this handle owns it (ARGV[9] "1") or its
// run's lease (key ARGV[10] .. run) is live, Unknown otherwise. ARGV[2]
// was merged (Inherit) with the stored record ARGV[11]: one stored since
// returns 2, for the caller to merge again. It returns 1 if it wrote, 0
// if not.
var settleScript = redis.NewScript(`
if ARGV[6] == '1' then
  local cur = redis.call('HGET', KEYS[1], ARGV[1])
  if not cur then
    return 0
  end
  local rec = cjson.decode(cur)
  local state = rec['state']
  if state == 'claimed' and ARGV[9] ~= '1' and not (type(rec['run']) == 'string' and redis.call('EXISTS', ARGV[10] .. rec['run']) == 1) then
    state = 'unknown'
  end
  if state ~= ARGV[7] or rec['time'] ~= ARGV[8] then
    return 0
  end
  if cur ~= ARGV[11] then
    return 2
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '' then
  return 1
end
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

// settle writes rec (already Inherit'ed) and its calls in the index, in
// one script; with expect, only while the stored record is still expect
// and still stored, the record rec inherited from (errMerged if not).
func (j *Journal) settle(ctx context.Context, rec batch.Record, expect *batch.Record, stored string) (bool, error) {
	line, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	phones := ""
	if rec.Purpose == batch.Advertising {
		p, err := json.Marshal(phoneList(rec))
		if err != nil {
			return false, err
		}
		phones = string(p)
		if err := j.migrate(ctx); err != nil {
			return false, err
		}
	}
	called := "0"
	if rec.State.MayHaveCalled() { // a state not known counts as a call
		called = "1"
	}
	args := []any{rec.Key, line, phones, rec.Time.UnixMilli(), called, "0", "", "", "0", j.lease, stored}
	if expect != nil {
		args[5], args[6] = "1", string(expect.State)
		args[7] = expect.Time.Format(time.RFC3339Nano) // as time.Time's MarshalJSON writes it
		if j.isOwn(rec.Key) {
			args[8] = "1"
		}
	}
	n, err := settleScript.Run(ctx, j.rdb, []string{j.hash, j.ads}, args...).Int()
	if err != nil {
		return false, err
	}
	if n == 2 {
		return false, errMerged
	}
	if n == 1 {
		j.disown(rec.Key)
	}
	return n == 1, nil
}

// errMerged: SettleIf's record was stored again (still as expected) since
// the outcome was merged with it; SettleIf merges again.
var errMerged = errors.New("autocallredis: the record changed since it was read")
