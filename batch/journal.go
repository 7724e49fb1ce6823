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
	// ClaimedAt is when the job's latest claim was made: events from before
	// it cannot be this request's (SettleFromEvents).
	ClaimedAt time.Time `json:"claimed,omitzero"`
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
	if r.ClaimedAt.IsZero() {
		r.ClaimedAt = prev.ClaimedAt
	}
	if r.Run == "" {
		r.Run = prev.Run
	}
	if r.Purpose == "" {
		r.Purpose = prev.Purpose
	}
	return r
}

// Resend says which refused jobs a claim may take again: all of them, or
// those refused for one of Causes. Unsent jobs are always claimable.
type Resend struct {
	Refused bool     // every refused job
	Causes  []string // refused jobs whose Cause is one of these
	// Forgotten: a key the journal forgot (its tombstone stands: it was
	// placed before the retention) may be claimed, and sent, again. Only
	// this takes a Forgotten record; Refused and Causes do not.
	Forgotten bool
}

// Claimable reports whether a job whose record is cur may be claimed
// (sent): it is unsent, or refused and selected by r. A Journal's Claim
// decides with it, atomically with the claim; the Redis journal's claim
// script says the same in Lua.
func (r Resend) Claimable(cur Record) bool {
	switch cur.State {
	case Unsent:
		return true
	case Refused:
		if cur.Cause == CauseForgotten {
			return r.Forgotten
		}
		return r.Refused || slices.Contains(r.Causes, cur.Cause)
	}
	return false
}

// ClaimRequest is what a run asks a journal to claim: the record to store
// (Key, Kind, Campaign, Phones, Run, Purpose; Time is the run's clock,
// now), which refused records may be taken again, and for an advertising
// job the Policy's interval. It is not stored as such: Interval never
// reaches a record.
type ClaimRequest struct {
	Record Record
	Resend Resend
	// Interval, with Record.Purpose Advertising and > 0, is the least time
	// between two advertising calls to one number: the claim is checked
	// against the journal's per-phone index. 0: the call is indexed, but
	// nothing holds it back (the subscriber agreed to more calls).
	Interval time.Duration
}

// Journal records each job before and after its request, so that a batch
// can be run again safely. FileJournal, MemJournal and the Redis journal
// implement it; package batch/journaltest checks an implementation against
// the rules below.
//
// # Claims
//
// Claim is atomic: of several workers (or processes, or hosts) claiming
// one key, exactly one succeeds. The claim is durable before Claim returns,
// so before the job's request leaves.
//
// # The per-phone index of advertising calls
//
// Every journal keeps, from the records of advertising jobs (Record.Purpose
// Advertising), which job called which number, and when, so that Decree
// 91's one call per number per interval holds across runs and hosts. An
// entry is added by the claim (a call may leave from then on); Settle and
// SettleIf move it to the outcome's time when State.MayHaveCalled, and
// drop it otherwise (Unsent, Refused: nothing was placed). In doubt, a
// call.
//
// # Retention
//
// Every journal takes a Retention (an option of its constructor:
// WithRetention for OpenFile and NewMemJournal), drops what Retention.Fate
// lets go, keeps a tombstone of each forgotten key, and implements
// Compactor; journaltest's retention cases check it.
//
// # Live and dead claims
//
// A Claimed record is in flight at a live run, or was left by a run that
// died before recording the outcome. A run holds a lease (Lease) while it
// runs; a Claimed record reads as Claimed from Get, Records and Claim's
// existing record only while its run's lease is current, or when it is
// this journal handle's own claim, not yet settled, of a run whose lease
// this handle has not ended. Otherwise it reads as Unknown: its outcome is
// unknown, it is never sent again automatically, and its Run names the
// run that left it. The stored record is not rewritten by reading it.
// (FileJournal: its lock proves one process, so a claim found when the
// file is opened reads as Unknown, and its own claims as Claimed.)
type Journal interface {
	// Claim records req.Record as Claimed, durably, before its request
	// leaves. It stamps State Claimed, Time (req.Record.Time, or now when
	// zero) and ClaimedAt (= Time). It succeeds only when the key has no
	// record or req.Resend.Claimable says its record may go again, decided
	// atomically with the claim; otherwise it returns false and the record
	// in the way, read as Get reads it.
	//
	// A key with no record whose tombstone stands (Retention: its Placed
	// record was dropped) is not claimed unless req.Resend.Forgotten: Claim
	// returns false and Forgotten(key, …), which is not stored.
	//
	// An advertising claim with Interval > 0 is checked against the
	// per-phone index atomically with the claim: when another key called
	// (or may have called) one of Phones less than Interval before Time,
	// the job is written Unsent with CauseFrequency and NotBefore (the
	// earliest time it may go) instead, and that record is returned with
	// claimed false. Nothing is sent for it.
	Claim(ctx context.Context, req ClaimRequest) (claimed bool, existing Record, err error)
	// Settle records the outcome of a claimed job: rec merged with the
	// stored record by rec.Inherit (the outcome need not repeat the
	// request), Time now when zero. It updates the per-phone index.
	Settle(ctx context.Context, rec Record) error
	// SettleIf is Settle as a compare and set: it writes rec (Inherit'ed
	// from the stored record) only while the stored record, read as Get
	// reads it, is still expect (SameRecord: key, state and time); settled
	// reports whether it wrote. A missing record is not expect. The index
	// is updated as Settle updates it.
	SettleIf(ctx context.Context, rec, expect Record) (settled bool, err error)
	// Get returns the record of key; ok is false when it has none.
	Get(ctx context.Context, key string) (rec Record, ok bool, err error)
	// Records returns every job's latest record (one per key), read as
	// Get reads it.
	Records(ctx context.Context) ([]Record, error)
	// Lease keeps run's claims live for ttl from now (a heartbeat): the
	// Runner takes it before its first claim, renews it every ttl/3 while
	// it runs and ends it (ttl <= 0) when it finishes. Once it lapses or
	// ends, run's unsettled claims read as Unknown (above).
	Lease(ctx context.Context, run string, ttl time.Duration) error
	// Close releases the journal.
	Close() error
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
	// ErrLeaseLost stops a run whose lease (Journal.Lease) could not be
	// renewed, or not in time: its claims may already read as a dead run's
	// to its peers, so it sends nothing more (Report.Stopped matches it).
	// The jobs not sent are Unsent: run again once the journal answers.
	ErrLeaseLost = errors.New("batch: the run's lease in the journal was not renewed in time")
	// ErrBadKey: a job's key is empty or not UTF-8 text. A journal that
	// writes JSON could not keep such a key as it is (each bad byte reads
	// back as U+FFFD): once reopened, it would not know the job, and a run
	// would send it again.
	ErrBadKey = errors.New("batch: a job's key must be UTF-8 text, not empty")
)

// readState turns a stored state into what a run sees: a claim that is
// not this run's is Unknown.
func readState(s State) State {
	if s == Claimed {
		return Unknown
	}
	return s
}

// deadClaim is how a Claimed record reads once no live run holds it (its
// run's lease lapsed or ended, or its process died): Unknown, naming the
// run. The stored record is left as it is.
func deadClaim(rec Record) Record {
	if rec.State != Claimed {
		return rec
	}
	rec.State = Unknown
	if rec.Reason == "" {
		rec.Reason = "claimed by a run that ended before it recorded the outcome"
		if rec.Run != "" {
			rec.Reason = "claimed by run " + rec.Run + ", which ended (or stopped renewing its lease) before it recorded the outcome"
		}
	}
	return rec
}
