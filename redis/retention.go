package autocallredis

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/autocallvn/autocall-go/batch"
)

// Retention (batch.Retention): the journal drops the records the rule lets
// go in a bounded sweep (an HSCAN page of the records, never one HGETALL),
// run in the background every sweepEvery claims of a handle, and in full
// by Compact. A dropped Placed record leaves a tombstone in a third hash,
// "…:forgotten" beside the records: the 64-bit batch.KeyHash of its key,
// bucketed by its first 2 bytes (the field, 4 hex digits), each entry 8
// bytes: the hash's other 6, then the record's UTC day since 1970 (2
// bytes, big-endian). A year of 10,000 keys a day is 29 MiB of entries.
// The claim script refuses a key with no record and a standing tombstone
// (batch.Forgotten), unless the claim's Resend.Forgotten.

// WithRetention sets the journal's batch.Retention (the zero Retention:
// the defaults).
func WithRetention(r batch.Retention) JournalOption {
	return func(o *journalOptions) { o.retention = r }
}

// WithClock sets the clock the sweep and the tombstone check judge ages
// by (default time.Now).
func WithClock(now func() time.Time) JournalOption {
	return func(o *journalOptions) { o.now = now }
}

// sweepEvery: a handle sweeps one page of the journal every this many
// claims; sweepPage is the page's HSCAN COUNT.
const (
	sweepEvery = 256
	sweepPage  = 256
)

// sweeper is a handle's background sweep: where its HSCAN of the records
// and of the tombstones stand. Only the sweep that set running reads or
// writes recs and tombs; running's CompareAndSwap and Store order the
// sweeps, so they need no lock of their own.
type sweeper struct {
	claims  atomic.Int64
	running atomic.Bool
	wg      sync.WaitGroup
	recs    uint64
	tombs   uint64
}

// forgottenCheck is the claim script's part for a key with no record:
// ARGV[6], unless empty (Resend.Forgotten), is the key's tombstone bucket
// (4 hex digits), its 6 other hash bytes, and the least day (2 bytes) whose
// tombstones stand; a match returns {"forgotten", day}.
const forgottenCheck = `
if not cur and ARGV[6] ~= '' then
  local v = redis.call('HGET', KEYS[3], string.sub(ARGV[6], 1, 4))
  if v then
    local suffix = string.sub(ARGV[6], 5, 10)
    local minday = string.byte(ARGV[6], 11) * 256 + string.byte(ARGV[6], 12)
    for i = 1, #v, 8 do
      if string.sub(v, i, i + 5) == suffix then
        local day = string.byte(v, i + 6) * 256 + string.byte(v, i + 7)
        if day >= minday then return {'forgotten', day} end
      end
    end
  end
end
`

// tombstone is a key's bucket and entry (6 hash bytes, 2 day bytes).
func tombstone(key string, day uint16) (bucket string, entry []byte) {
	h := batch.KeyHash(key)
	var e [8]byte
	binary.BigEndian.PutUint64(e[:], h<<16)
	binary.BigEndian.PutUint16(e[6:], day)
	return fmt.Sprintf("%04x", h>>48), e[:]
}

// dayOf is t's UTC day since 1970, as a tombstone keeps it.
func dayOf(t time.Time) uint16 {
	return uint16(min(max(t.Unix()/86400, 0), 65535))
}

// minDay is the least day whose tombstones stand at now: a tombstone
// counts from the end of its day (batch.Retention.TombstoneLive).
func (j *Journal) minDay(now time.Time) uint16 {
	keys := j.opts.retention.Keys
	if keys >= 1<<62 {
		return 0
	}
	return dayOf(now.Add(-keys))
}

// tombArg is the claim script's ARGV[6] for key.
func (j *Journal) tombArg(key string, retry batch.Resend) string {
	if retry.Forgotten {
		return ""
	}
	bucket, e := tombstone(key, j.minDay(j.opts.now()))
	return bucket + string(e)
}

// forgotten is the record of a key the claim script found forgotten.
func forgotten(key string, day any) batch.Record {
	d, _ := day.(int64)
	return batch.Forgotten(key, time.Unix((d+1)*86400, 0).UTC())
}

// forgetScript drops from KEYS[1] each record ARGV[i] that still reads
// ARGV[i+1] (unchanged since the sweep read it), leaving the tombstone
// entry ARGV[i+2] in bucket ARGV[i+3] of KEYS[2] when it is not empty (a
// later day wins over an earlier one of the same key). It returns how many
// it forgot and dropped.
var forgetScript = redis.NewScript(`
local forgotten, dropped = 0, 0
for i = 1, #ARGV, 4 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    local e = ARGV[i + 2]
    if e == '' then
      dropped = dropped + 1
    else
      forgotten = forgotten + 1
      local v = redis.call('HGET', KEYS[2], ARGV[i + 3]) or ''
      local suffix, found = string.sub(e, 1, 6), false
      for k = 1, #v, 8 do
        if string.sub(v, k, k + 5) == suffix then
          v = string.sub(v, 1, k - 1) .. e .. string.sub(v, k + 8)
          found = true
          break
        end
      end
      if not found then v = v .. e end
      redis.call('HSET', KEYS[2], ARGV[i + 3], v)
    end
  end
end
return {forgotten, dropped}
`)

// expireScript drops from the buckets ARGV[2…] of KEYS[1] the entries of
// days before ARGV[1]; it returns how many went and how many stay.
var expireScript = redis.NewScript(`
local minday, gone, kept = tonumber(ARGV[1]), 0, 0
for i = 2, #ARGV do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  if v then
    local out = {}
    for k = 1, #v, 8 do
      if string.byte(v, k + 6) * 256 + string.byte(v, k + 7) >= minday then
        out[#out + 1] = string.sub(v, k, k + 7)
      else
        gone = gone + 1
      end
    end
    kept = kept + #out
    if #out == 0 then
      redis.call('HDEL', KEYS[1], ARGV[i])
    else
      redis.call('HSET', KEYS[1], ARGV[i], table.concat(out))
    end
  end
end
return {gone, kept}
`)

// sweepRecords drops what the Retention lets go of one HSCAN page of the
// records from cursor; it returns the next cursor.
func (j *Journal) sweepRecords(ctx context.Context, cursor uint64, c *batch.Compaction) (uint64, error) {
	page, next, err := j.rdb.HScan(ctx, j.hash, cursor, "", sweepPage).Result()
	if err != nil {
		return 0, fmt.Errorf("autocallredis: sweeping the journal: %w", err)
	}
	now := j.opts.now()
	var args []any
	for i := 0; i+1 < len(page); i += 2 {
		key, raw := page[i], page[i+1]
		var rec batch.Record
		if json.Unmarshal([]byte(raw), &rec) != nil {
			c.Kept++ // a damaged record is the operator's to look at
			continue
		}
		switch j.opts.retention.Fate(rec, now) {
		case batch.Keep:
			c.Kept++
		case batch.Drop:
			args = append(args, key, raw, "", "")
		case batch.Forget:
			bucket, e := tombstone(key, dayOf(rec.Time))
			args = append(args, key, raw, string(e), bucket)
		}
	}
	if len(args) > 0 {
		n, err := forgetScript.Run(ctx, j.rdb, []string{j.hash, j.tombs}, args...).Int64Slice()
		if err != nil {
			return 0, fmt.Errorf("autocallredis: dropping expired records: %w", err)
		}
		c.Forgotten += int(n[0])
		c.Dropped += int(n[1])
	}
	return next, nil
}

// sweepTombstones drops the expired tombstones of one HSCAN page of the
// buckets from cursor; it returns the next cursor.
func (j *Journal) sweepTombstones(ctx context.Context, cursor uint64, c *batch.Compaction) (uint64, error) {
	page, next, err := j.rdb.HScan(ctx, j.tombs, cursor, "", sweepPage).Result()
	if err != nil {
		return 0, fmt.Errorf("autocallredis: sweeping the tombstones: %w", err)
	}
	args := []any{int64(j.minDay(j.opts.now()))}
	for i := 0; i < len(page); i += 2 {
		args = append(args, page[i])
	}
	if len(args) == 1 {
		return next, nil
	}
	n, err := expireScript.Run(ctx, j.rdb, []string{j.tombs}, args...).Int64Slice()
	if err != nil {
		return 0, fmt.Errorf("autocallredis: dropping expired tombstones: %w", err)
	}
	c.Expired += int(n[0])
	c.Tombstones += int(n[1])
	return next, nil
}

// Compact implements batch.Compactor: a full sweep of the records, then of
// the tombstones, page by page (HSCAN), each page's drops one script.
// Claims go on meanwhile.
func (j *Journal) Compact(ctx context.Context) (batch.Compaction, error) {
	var c batch.Compaction
	for cursor := uint64(0); ; {
		next, err := j.sweepRecords(ctx, cursor, &c)
		if err != nil {
			return c, err
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	for cursor := uint64(0); ; {
		next, err := j.sweepTombstones(ctx, cursor, &c)
		if err != nil {
			return c, err
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	return c, nil
}

// maybeSweep starts a background sweep of one page of the records and of
// the tombstones every sweepEvery claims, unless one is running.
func (j *Journal) maybeSweep() {
	s := &j.sweeper
	if s.claims.Add(1)%sweepEvery != 0 || !s.running.CompareAndSwap(false, true) {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.running.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var c batch.Compaction
		// An error leaves the cursor: the next sweep tries the page again.
		if next, err := j.sweepRecords(ctx, s.recs, &c); err == nil {
			s.recs = next
		}
		if next, err := j.sweepTombstones(ctx, s.tombs, &c); err == nil {
			s.tombs = next
		}
	}()
}

var _ batch.Compactor = (*Journal)(nil)
