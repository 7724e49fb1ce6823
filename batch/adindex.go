package batch

import "time"

// adIndex is a journal's per-phone index of advertising calls: phone, then
// the key of each job that called it (or may have), then when. A journal
// checks it and adds to it under the lock of its claim, so that two jobs
// cannot both call a number within the interval.
//
// An entry is added at the claim (the call may leave from then on), moved
// to the settle time when the job is Placed or Unknown (the provider had
// the request until then), and removed only when the job is Unsent or
// Refused (nothing was placed): in doubt, a call.
type adIndex map[string]map[string]time.Time

// holds returns the Deferral of a job (key) to phones at now: the latest
// call by another job within interval of now, if any.
func (ix adIndex) holds(key string, phones []string, now time.Time, interval time.Duration) *Deferral {
	var d *Deferral
	for _, p := range phones {
		for k, at := range ix[p] {
			until := at.Add(interval)
			if k == key || !now.Before(until) {
				continue
			}
			if d == nil || until.After(d.NotBefore) {
				d = &Deferral{Cause: CauseFrequency, Phone: p, NotBefore: until}
			}
		}
	}
	return d
}

// put records that the job key called phones at t.
func (ix adIndex) put(key string, phones []string, t time.Time) {
	for _, p := range phones {
		m := ix[p]
		if m == nil {
			m = map[string]time.Time{}
			ix[p] = m
		}
		m[key] = t
	}
}

// drop forgets the job key's calls: it placed none.
func (ix adIndex) drop(key string, phones []string) {
	for _, p := range phones {
		if m := ix[p]; m != nil {
			delete(m, key)
			if len(m) == 0 {
				delete(ix, p)
			}
		}
	}
}

// dropKeys forgets the calls of the jobs of keys (their records were
// dropped).
func (ix adIndex) dropKeys(keys map[string]bool) {
	for p, m := range ix {
		for k := range m {
			if keys[k] {
				delete(m, k)
			}
		}
		if len(m) == 0 {
			delete(ix, p)
		}
	}
}

// record brings the index up to date with rec, a job's latest record.
func (ix adIndex) record(rec Record) {
	if rec.Purpose != Advertising {
		return
	}
	if rec.State.MayHaveCalled() {
		ix.put(rec.Key, rec.Phones, rec.Time)
	} else {
		ix.drop(rec.Key, rec.Phones)
	}
}

// deferral is the record of an advertising job the index holds back: it
// stays unsent until NotBefore.
func (d *Deferral) record(rec Record) Record {
	rec.State, rec.Cause, rec.NotBefore, rec.Reason = Unsent, d.Cause, d.NotBefore, d.Error()
	rec.CallIDs, rec.SessionID, rec.Code = nil, "", ""
	return rec
}
