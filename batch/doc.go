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
// One table, in this order, turns the outcome of a job's create into it:
//
//	outcome of the job's create                        state    cause
//	-------------------------------------------------  -------  ------------------------------
//	a bad row, refused by the SDK before sending       Refused  template, phone, caller,
//	  (autocall.ErrValidation)                                  invalid
//	answered, at least one callee accepted             Placed   (call ids or session id kept)
//	answered, every callee refused (results.fail       Refused  phone, template or other,
//	  only)                                                     with the provider's reasons
//	no token could be had (autocall.ErrNotSent: the    Unsent   auth (stops the run), token
//	  token endpoint refused or failed, the
//	  TokenSource erred)
//	it may have reached the provider                   Unknown  -
//	  (autocall.ErrOutcomeUnknown: a reset or timeout
//	  after sending, a 5xx in HTTP or in the
//	  envelope, a 101 or 301/302/303, a garbled
//	  success)
//	asked to slow down (HTTP 429, or a rate-limit      Unsent   rate (every worker pauses,
//	  code under another status:                                then the job goes again)
//	  autocall.ErrRateLimited)
//	no connection carried it (autocall.ErrNetwork,     Unsent   network
//	  not unknown: a failed dial, a reset before
//	  any byte)
//	a definite refusal (autocall.ErrRefused, or        Refused  quota (stops the run), auth
//	  another 4xx answer)                                       (stops the run), caller,
//	                                                            phone, template, rate, other
//	anything else                                      Unknown  -
//	the run stopped before the request left            Unsent   (not claimed: no new record)
//
// Unsent is the next run's to send; Refused is sent again only when asked
// (by key or cause, once the cause is fixed) or after Resolve moves it to
// Unsent; Unknown is never sent again until Resolve settles it. A claim
// left by a process that died is Unknown. In doubt the table picks the
// state that can never phone a customer twice. Settled jobs cost a run
// nothing: they are passed over before the rate limiter.
//
// # Runs on several hosts
//
// With a journal shared by several hosts (the Redis journal), a job another
// host has in flight is not unknown: Report.Elsewhere counts the jobs a
// peer claimed while this run ran (or under the same Runner.RunID) and had
// not settled when it ended, apart from Report.StillUnknown, the jobs left
// unknown by runs that ended.
package batch
