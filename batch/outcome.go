package batch

import (
	"errors"
	"fmt"
	"strings"

	autocall "github.com/autocallvn/autocall-go"
)

// states is the package doc's table: the state of a job whose create
// failed, by the class the SDK gave the failure where it read the answer.
var states = map[autocall.Class]State{
	autocall.ClassInvalid:     Refused, // a bad row: nothing was sent
	autocall.ClassNotSent:     Unsent,  // no token, or no connection carried it
	autocall.ClassRateLimited: Unsent,  // refused before any work: it goes again
	autocall.ClassRefused:     Refused,
	autocall.ClassUnknown:     Unknown,
	// A create fails so only when redirected with 307/308: said to do no
	// work, yet in doubt Unknown, which can never phone twice.
	autocall.ClassFailed: Unknown,
}

// outcome is the state and cause of a job whose create returned out and
// err. An error the SDK did not make is Unknown: in doubt.
func outcome(out Record, err error) (State, string) {
	switch {
	case err == nil && out.State == Refused:
		return Refused, out.Cause // every callee refused
	case err == nil:
		return Placed, ""
	}
	o := autocall.OutcomeOf(err)
	state, ok := states[o.Class]
	if !ok || state == Unknown {
		return Unknown, ""
	}
	return state, causeFromSDK(o.Cause)
}

// classify turns a send's result into the record the journal keeps, and
// pauses or stops the run when the outcome says every job would meet it.
func (st *runState) classify(rec Record, out Record, err error) Record {
	rec.Time = st.r.now()
	var apiErr *autocall.APIError
	if errors.As(err, &apiErr) {
		rec.Code = string(apiErr.Code)
	}
	rec.State, rec.Cause = outcome(out, err)
	switch {
	case rec.State == Placed:
		rec.CallIDs, rec.SessionID = out.CallIDs, out.SessionID
	case err == nil:
		rec.Reason = out.Reason
	default:
		rec.Reason = err.Error()
	}
	switch {
	case rec.Cause == CauseRate && rec.State == Unsent:
		st.pause(autocall.OutcomeOf(err).RetryAfter)
	case rec.Cause == CauseAuth || (rec.State == Refused && rec.Cause == CauseQuota):
		st.halt(fmt.Errorf("batch: stopped, every later job would be refused too: %w", err))
	case rec.Cause == CauseToken:
		// The token fetch already retried: every later job would wait for
		// it and fail the same way. The rest stay unsent for the next run.
		st.halt(fmt.Errorf("batch: stopped, no token could be had: %w", err))
	}
	return rec
}

// causeOf is the cause of a job refused before it was sent (a bad row).
func causeOf(err error) string {
	if o := autocall.OutcomeOf(err); o.Class != autocall.ClassNone {
		return causeFromSDK(o.Cause)
	}
	return CauseOther
}

// refusedCallees is the record of an answer that placed nothing: every
// callee refused, with the provider's (and the SDK's) reasons.
func refusedCallees(rejected []autocall.Rejection) Record {
	rec := Record{State: Refused, Cause: CauseOther}
	reasons := make([]string, 0, len(rejected))
	phone, template := len(rejected) > 0, false
	for _, r := range rejected {
		why := r.Reason
		if why == "" && r.Err != nil {
			why = r.Err.Error()
		}
		reasons = append(reasons, r.Phone+": "+why)
		// The SDK sorts each callee's refusal (autocall.CalleeError,
		// or its own *ValidationError); the job takes the template's
		// cause if any callee names it, the phone's if every one does.
		cause := autocall.OutcomeOf(r.Err).Cause
		phone = phone && cause == autocall.CausePhone
		template = template || cause == autocall.CauseTemplate
	}
	switch {
	case template:
		rec.Cause = CauseTemplate
	case phone:
		rec.Cause = CausePhone
	}
	rec.Reason = "every callee refused: " + strings.Join(reasons, "; ")
	if len(rejected) == 0 {
		rec.Reason = "the provider accepted no callee and gave no reason"
	}
	return rec
}

// calleesRefused is Progress.LastErr for an answer that accepted no callee:
// no SDK error, yet a refusal. It matches autocall.ErrRefused.
type calleesRefused struct{ reason string }

func (e *calleesRefused) Error() string { return "batch: " + e.reason }

func (e *calleesRefused) Is(target error) bool { return target == autocall.ErrRefused }
