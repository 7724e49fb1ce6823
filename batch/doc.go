// Package batch runs many call-creating requests so that nobody is phoned
// twice: not when a job list is run again, not when the process died half
// way, not when an answer was lost.
//
// Each Job carries a key of the user's choosing. Before its request leaves,
// the job is recorded in a Journal as claimed, durably; after the answer,
// its outcome. Running the same jobs with the same journal again sends only
// the unsent ones (and the refused ones, when asked: Runner.RetryRefused,
// RetryCauses, RetryKeys); unknown ones are reported, never resent, until
// Resolve settles them — by hand, or from the provider's call events
// (SettleFromEvents).
//
//	j, err := batch.OpenFile("reminders.journal")
//	if err != nil { … }
//	defer j.Close()
//	r := &batch.Runner{TEL4VN: client, Journal: j, Workers: 8, Rate: 20}
//	rep, err := r.Run(ctx, jobs)
//	// rep.Placed, rep.Refused, rep.Unknown, …: they add up to len(jobs).
//
// # From an outcome to a state
//
// A job's state is what an operator acts on without seeing the request.
// The SDK decides what a create's failure came to where it reads the
// answer (autocall.OutcomeOf: its class and cause); one table turns that
// class into the job's state, and the cause is kept:
//
//	outcome of the job's create                        state    cause
//	-------------------------------------------------  -------  ------------------------------
//	a bad row, refused by the SDK before sending       Refused  template, phone, caller,
//	  (autocall.ClassInvalid)                                   invalid
//	answered, at least one callee accepted             Placed   (call ids or session id kept)
//	answered, every callee refused (results.fail       Refused  phone, template or other (as
//	  only)                                                     the SDK sorts each callee),
//	                                                            with the provider's reasons
//	no token could be had (autocall.ClassNotSent,      Unsent   auth or token (either stops
//	  a *TokenError: the token endpoint refused or              the run: every later job
//	  failed, the TokenSource erred)                            would fail the same way)
//	it may have reached the provider                   Unknown  -
//	  (autocall.ClassUnknown: a reset or timeout
//	  after sending, a 5xx in HTTP or in the
//	  envelope (500.0 and data.code too), a 101 or
//	  301/302/303, a garbled success, a success that
//	  accepts no callee and does not refuse each one,
//	  an answer that contradicts itself: an error
//	  status, code or HTTP status, 429 included,
//	  next to accepted call ids or a session id)
//	asked to slow down (autocall.ClassRateLimited:     Unsent   rate (every worker pauses,
//	  HTTP 429, or a rate-limit code under another              then the job goes again)
//	  status)
//	no connection carried it (autocall.ClassNotSent,   Unsent   network
//	  a *TransportError: a failed dial, a reset
//	  before any byte)
//	a definite refusal (autocall.ClassRefused: the     Refused  quota (stops the run), auth
//	  provider's envelope refuses, or any other 4xx)            (stops the run), caller,
//	                                                            phone, template, other
//	anything else (autocall.ClassFailed: a 307/308;    Unknown  -
//	  an error not the SDK's)
//	the run stopped before the request left            Unsent   (not claimed: no new record)
//	an advertising job the Policy defers (outside      Unsent   hours, frequency (with
//	  the hours, its number called within 24 hours)             Record.NotBefore)
//	an advertising job to a Do-Not-Call number         Refused  do_not_call (never sent)
//
// Unsent is the next run's to send; Refused is sent again only when asked
// (by key or cause, once the cause is fixed) or after Resolve moves it to
// Unsent; Unknown is never sent again until Resolve settles it. A claim
// left by a process that died is Unknown. In doubt the table picks the
// state that can never phone a customer twice. Settled jobs cost a run
// nothing: they are passed over before the rate limiter. So do advertising
// jobs deferred until a time still to come: nothing is written for them
// until then.
//
// # Advertising calls: Decree 91/2020/NĐ-CP
//
// Vietnam's Decree 91/2020/NĐ-CP on spam messages, e-mails and calls (in
// force since 1 October 2020; Article 13 for calls) lets an advertiser call
// a number only between 8:00 and 17:00, at most once within 24 hours, and
// never a number on the Do-Not-Call list ("Danh sách không quảng cáo"),
// each unless otherwise agreed with the subscriber. A Job whose Purpose is
// Advertising is held to the Runner's Policy, whose defaults are these
// rules; Transactional jobs (the default: OTP, order and delivery notices,
// debt reminders) are not. Job.Agreed lifts the rules the subscriber
// agreed to. This package is a help to keep the rules, not legal advice.
//
//   - Hours: a job outside the window (Asia/Ho_Chi_Minh, from zone data
//     built into the package) is not sent; it is recorded Unsent with
//     CauseHours and the time the window opens (Record.NotBefore,
//     Report.Deferred). The window is checked under each job's claim, so a
//     run that reaches 17:00 takes no more advertising jobs.
//   - One call per number per 24 hours: the journal keeps a per-phone index
//     of advertising calls (every Journal does), checked and written
//     atomically with the claim, so a number called by any job, in any
//     run, on any host sharing the journal is deferred with CauseFrequency
//     until 24 hours after that call. A claim, a placed or an unknown job
//     counts as a call; an unsent or refused one does not.
//   - Do-Not-Call: Policy.DoNotCall (LoadDoNotCall reads a file; any store
//     can implement DoNotCall) is asked before the claim; a listed number
//     is Refused with CauseDoNotCall and ErrDoNotCall, and never sent.
//
// Runner.Now is the clock of these rules; a test sets it to a sandbox's
// (autocalltest.Server.Now) to cross 17:00 or a day without waiting.
//
// # Runs on several hosts
//
// With a journal shared by several hosts (the Redis journal), a job another
// host has in flight is not unknown. Each run holds a lease in the journal
// (Journal.Lease), renewed every Runner.LeaseTTL/3 and ended when it
// finishes: Report.Elsewhere counts the jobs claimed by a run whose lease
// is live and not settled when this run ended, apart from
// Report.StillUnknown, the jobs left unknown by runs that ended or died (a
// SIGKILLed host's claims, once its lease lapsed, default 15 s).
package batch
