package batch

import (
	"context"
	"errors"
	"time"
)

// State is where a job stands in the journal.
type State string

const (
	// Claimed: the job's request may be leaving or have left; no outcome is
	// recorded yet. A job found claimed when a run starts was in flight when
	// its process died: it reads as Unknown.
	Claimed State = "claimed"
	// Placed: the provider accepted the request; the record holds its call
	// ids or session id. Never sent again.
	Placed State = "placed"
	// Refused: the provider (or the SDK, for a bad row) definitely refused
	// the job; nothing was placed. Sent again only with RetryRefused, once
	// the cause is fixed.
	Refused State = "refused"
	// Unsent: the request provably never reached the provider (a failed
	// dial, a 429, a batch stopped before it). Sent by the next run.
	Unsent State = "unsent"
	// Unknown: the request may have reached the provider and no answer
	// came (autocall.ErrOutcomeUnknown), or the job was claimed when its
	// process died. Never sent again automatically: find out, then Resolve.
	Unknown State = "unknown"
)

// Record is what the journal knows of one job.
type Record struct {
	Key   string    `json:"key"`
	State State     `json:"state"`
	Time  time.Time `json:"time"`
	// Kind is the job's operation: otp, tts, phone or extension.
	Kind string `json:"kind,omitempty"`
	// Campaign and Phones, for OTP and TTS jobs, let unknown jobs be
	// settled from the provider's call events (SettleFromEvents).
	Campaign string   `json:"campaign,omitempty"`
	Phones   []string `json:"phones,omitempty"`
	// CallIDs (TEL4VN) or SessionID (OMICall) of a placed job.
	CallIDs   []string `json:"call_ids,omitempty"`
	SessionID string   `json:"session_id,omitempty"`
	// Code and Reason of a refusal, unsent or unknown outcome: the
	// provider's code and the error's text (secrets redacted by the SDK).
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Inherit returns r with what prev, the job's earlier record, knew and r
// does not repeat: its kind, campaign and phones. A journal settling a job
// keeps them, so that an outcome need not restate the request.
func (r Record) Inherit(prev Record) Record {
	if r.Kind == "" {
		r.Kind = prev.Kind
	}
	if r.Campaign == "" {
		r.Campaign = prev.Campaign
	}
	if r.Phones == nil {
		r.Phones = prev.Phones
	}
	return r
}

// Journal records each job before and after its request, so that a batch
// can be run again safely. Implementations must make Claim atomic: of
// several workers (or processes) claiming one key, exactly one succeeds.
type Journal interface {
	// Claim records key as Claimed, durably, before its request leaves.
	// It succeeds only when the key has no record, or its record is Unsent,
	// or Refused and retryRefused is set; otherwise it returns false and
	// the record that stands in the way (a stale Claimed reads as Unknown).
	Claim(ctx context.Context, rec Record, retryRefused bool) (claimed bool, existing Record, err error)
	// Settle records the outcome of a claimed job.
	Settle(ctx context.Context, rec Record) error
	// Get returns the record of key; ok is false when it has none.
	Get(ctx context.Context, key string) (rec Record, ok bool, err error)
	// Records returns every job's latest record.
	Records(ctx context.Context) ([]Record, error)
	// Close releases the journal.
	Close() error
}

// Errors of journals.
var (
	// ErrLocked: another process has the journal open.
	ErrLocked = errors.New("batch: the journal is open in another process")
	// ErrNotUnknown: Resolve was asked to settle a job whose outcome is known.
	ErrNotUnknown = errors.New("batch: the job's outcome is not unknown")
	// ErrNoRecord: the journal has no record of the key.
	ErrNoRecord = errors.New("batch: no such job in the journal")
)

// Resolve settles a job whose outcome was unknown, once you know it: Placed
// if the customer was called (it will never be sent again), Unsent if not
// (the next run sends it). Resolving a job that is not unknown is an error.
func Resolve(ctx context.Context, j Journal, key string, to State) error {
	if to != Placed && to != Unsent {
		return errors.New("batch: a job is resolved to placed or unsent")
	}
	rec, ok, err := j.Get(ctx, key)
	switch {
	case err != nil:
		return err
	case !ok:
		return ErrNoRecord
	case rec.State != Unknown && rec.State != Claimed:
		return ErrNotUnknown
	}
	rec.State, rec.Time, rec.Reason = to, time.Now(), "resolved by hand"
	return j.Settle(ctx, rec)
}

// claimable: a job in state s may be claimed (sent) again: it was never
// sent, or it was refused and the caller asks for refused jobs again. The
// Redis journal's claim script says the same in Lua.
func claimable(s State, retryRefused bool) bool {
	return s == Unsent || (s == Refused && retryRefused)
}

// readState turns a stored state into what a run sees: a claim that
// outlived its process is Unknown.
func readState(s State) State {
	if s == Claimed {
		return Unknown
	}
	return s
}
