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
//	outcome of the create                                  state     cause
//	-----------------------------------------------------  --------  ---------------------------
//	a bad row, refused by the SDK before sending           Refused   template, phone, caller, invalid
//	  (autocall.ErrValidation)
//	answered, at least one callee accepted                 Placed    (call ids or session id kept)
//	answered, every callee refused (results.fail only)     Refused   phone, template or other,
//	                                                                 with the provider's reasons
//	no token could be had (autocall.ErrNotSent: the token  Unsent    auth (stops the run), token
//	  endpoint refused or failed, the TokenSource erred)
//	may have reached the provider (autocall.ErrOutcomeUnknown:  Unknown   —
//	  a reset or timeout after sending, a 5xx in HTTP or
//	  in the envelope, a 101 or 301/302/303, a garbled
//	  success)
//	asked to slow down (HTTP 429, or a rate-limit code     Unsent    rate (every worker pauses,
//	  under another status: autocall.ErrRateLimited)                 then the job goes again)
//	no connection carried it (autocall.ErrNetwork, not     Unsent    network
//	  unknown: a failed dial, a reset before any byte)
//	a definite refusal (autocall.ErrRefused, or another    Refused   quota (stops the run), auth
//	  4xx answer)                                                    (stops the run), caller, phone,
//	                                                                 template, rate, other
//	anything else                                          Unknown   —
//	the run stopped before the job's request left          Unsent    (not claimed: no record)
//
// Unsent is the next run's to send; Refused is sent again only when asked
// (by key or cause, once the cause is fixed) or after Resolve moves it to
// Unsent; Unknown is never sent again until Resolve settles it. A claim
// left by a process that died is Unknown. In doubt the table picks the
// state that can never phone a customer twice.
package batch
