package batch

import (
	"context"
	"errors"
	"slices"
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

// MayHaveCalled is the written rule behind a journal's per-phone index of
// advertising calls: only an Unsent or Refused job placed nothing; any
// other state, one not known included, may have called.
func (s State) MayHaveCalled() bool { return s != Unsent && s != Refused }

// Record is what the journal knows of one job.
type Record struct {
	Key   string    `json:"key"` // first: a line cut short still names its job
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
	// provider's code and the error's text (secrets redacted by the SDK),
	// or the provider's reasons for each callee it refused.
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Cause sorts a Refused or Unsent job's reason into one word
	// (CauseQuota, CauseTemplate, …), so that refused jobs can be sent
	// again by cause (Runner.RetryCauses) once it is fixed.
	Cause string `json:"cause,omitempty"`
	// Claimed is when the job's latest claim was made: events from before
	// it cannot be this request's (SettleFromEvents).
	Claimed time.Time `json:"claimed,omitzero"`
	// Run names the run that claimed the job (Runner.RunID): a claim of
	// another run, made while this one ran, is a live peer's, not one left
	// by a dead process (Report.Elsewhere).
	Run string `json:"run,omitempty"`
	// Purpose is the job's (Job.Purpose): the journal keeps a per-phone
	// index of advertising calls from the records of advertising jobs.
	Purpose Purpose `json:"purpose,omitempty"`
	// NotBefore is when a job the Policy deferred (Unsent, with
	// CauseHours or CauseFrequency) may go.
	NotBefore time.Time `json:"not_before,omitzero"`
	// Interval, on an advertising job's claim, is the Policy's least time
	// between two advertising calls to one number: an AdvertisingJournal's
	// Claim defers the job, atomically with the claim, when another job
	// called one of Phones less than Interval before Time. Not stored.
	Interval time.Duration `json:"-"`
}

// Inherit returns r with what prev, the job's earlier record, knew and r
// does not repeat: its kind, campaign, phones, claim time and run. A
// journal settling a job keeps them, so that an outcome need not restate
// the request.
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
	if r.Claimed.IsZero() {
		r.Claimed = prev.Claimed
	}
	if r.Run == "" {
		r.Run = prev.Run
	}
	if r.Purpose == "" {
		r.Purpose = prev.Purpose
	}
	return r
}

// Retry says which refused jobs a claim may take again: all of them, or
// those refused for one of Causes. Unsent jobs are always claimable.
type Retry struct {
	Refused bool     // every refused job
	Causes  []string // refused jobs whose Cause is one of these
}

// Claimable reports whether a job whose record is cur may be claimed
// (sent): it is unsent, or refused and selected by r. A Journal's Claim
// decides with it, atomically with the claim; the Redis journal's claim
// script says the same in Lua.
func (r Retry) Claimable(cur Record) bool {
	switch cur.State {
	case Unsent:
		return true
	case Refused:
		return r.Refused || slices.Contains(r.Causes, cur.Cause)
	}
	return false
}

// Journal records each job before and after its request, so that a batch
// can be run again safely. Implementations must make Claim atomic: of
// several workers (or processes) claiming one key, exactly one succeeds.
type Journal interface {
	// Claim records key as Claimed, durably, before its request leaves.
	// It succeeds only when the key has no record, or retry.Claimable says
	// its record may go again, decided atomically with the claim; otherwise
	// it returns false and the record that stands in the way (a Claimed one
	// reads as Unknown).
	Claim(ctx context.Context, rec Record, retry Retry) (claimed bool, existing Record, err error)
	// Settle records the outcome of a claimed job.
	Settle(ctx context.Context, rec Record) error
	// Get returns the record of key; ok is false when it has none. A claim
	// left by a process that ended reads as Unknown wherever the journal
	// can tell (FileJournal: every claim found when it was opened).
	Get(ctx context.Context, key string) (rec Record, ok bool, err error)
	// Records returns every job's latest record, read as Get reads it.
	Records(ctx context.Context) ([]Record, error)
	// Close releases the journal.
	Close() error
}

// AdvertisingJournal is a Journal that keeps a per-phone index of
// advertising calls, so that the Policy's one call per number per interval
// holds across runs and hosts: its Claim of an advertising record
// (Record.Purpose) whose Interval is set succeeds only when no other job
// called one of its Phones within Interval before its Time; otherwise it
// writes the job as deferred (Unsent, CauseFrequency, NotBefore) and
// returns that record with false. A claim, a placed or an unknown outcome
// counts as a call; an unsent or refused one does not. FileJournal and the
// Redis journal are AdvertisingJournals; a Runner refuses advertising jobs
// with a journal that is not.
type AdvertisingJournal interface {
	Journal
	// IndexesAdvertising marks the journal as keeping the index.
	IndexesAdvertising()
}

// Errors of journals.
var (
	// ErrLocked: another process has the journal open.
	ErrLocked = errors.New("batch: the journal is open in another process")
	// ErrNotUnknown: Resolve was asked to settle a job whose outcome is
	// known (or a refused job to placed); the error Resolve returns, which
	// matches it, says which moves are allowed.
	ErrNotUnknown = errors.New("batch: the job's outcome is not unknown")
	// ErrNoRecord: the journal has no record of the key.
	ErrNoRecord = errors.New("batch: no such job in the journal")
	// ErrDamaged: a journal line other than the last is not a record; the
	// error says which line and what to do.
	ErrDamaged = errors.New("batch: the journal is damaged")
)

// readState turns a stored state into what a run sees: a claim that is
// not this run's is Unknown.
func readState(s State) State {
	if s == Claimed {
		return Unknown
	}
	return s
}
