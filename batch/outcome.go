package batch

import (
	"errors"
	"fmt"
	"strings"
	"time"

	autocall "github.com/autocallvn/autocall-go"
)

// outcome is the package doc's table: the state and cause of a job whose
// create returned out and err. The order of the cases is the table's.
func outcome(out Record, err error) (State, string) {
	var apiErr *autocall.APIError
	switch {
	case errors.Is(err, autocall.ErrValidation):
		return Refused, causeOf(err) // a bad row: nothing was sent
	case err == nil && out.State == Refused:
		return Refused, out.Cause // every callee refused
	case err == nil:
		return Placed, ""
	case errors.Is(err, autocall.ErrNotSent):
		// No token: the create never left, whatever the token endpoint said.
		if errors.Is(err, autocall.ErrUnauthorized) {
			return Unsent, CauseAuth
		}
		return Unsent, CauseToken
	case errors.Is(err, autocall.ErrOutcomeUnknown):
		return Unknown, ""
	case errors.Is(err, autocall.ErrRateLimited) && (errors.Is(err, autocall.ErrRefused) || isHTTP429(err)):
		// Refused before any work, as a 429 is: the job goes again.
		return Unsent, CauseRate
	case errors.Is(err, autocall.ErrNetwork):
		// Not wrapped in ErrOutcomeUnknown: the SDK proved it never left.
		return Unsent, CauseNetwork
	case errors.Is(err, autocall.ErrRefused):
		return Refused, causeOf(err)
	case errors.As(err, &apiErr) && apiErr.HTTPStatus >= 400 && apiErr.HTTPStatus < 500:
		// A 4xx whose body is not the envelope: the SDK, which wraps all
		// that may have been done in ErrOutcomeUnknown, calls it an answer.
		return Refused, causeOf(err)
	}
	return Unknown, ""
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
		var after time.Duration
		if apiErr != nil {
			after = apiErr.RetryAfter
		}
		st.pause(after)
	case rec.Cause == CauseAuth || (rec.State == Refused && rec.Cause == CauseQuota):
		st.halt(fmt.Errorf("batch: stopped, every later job would be refused too: %w", err))
	case rec.Cause == CauseToken:
		// The token fetch already retried: every later job would wait for
		// it and fail the same way. The rest stay unsent for the next run.
		st.halt(fmt.Errorf("batch: stopped, no token could be had: %w", err))
	}
	return rec
}

func isHTTP429(err error) bool {
	var apiErr *autocall.APIError
	return errors.As(err, &apiErr) && apiErr.HTTPStatus == 429
}

// causeOf sorts a refusal into a cause. limit_word (the daily quota) is a
// quota; limit_word_session concerns one job's text, so its template.
func causeOf(err error) string {
	var ve *autocall.ValidationError
	switch {
	case errors.Is(err, autocall.ErrUnauthorized):
		return CauseAuth
	case errors.Is(err, autocall.ErrLimitWordSession):
		return CauseTemplate
	case errors.Is(err, autocall.ErrLimitService), errors.Is(err, autocall.ErrBalanceNotEnough), errors.Is(err, autocall.ErrLimitWord):
		return CauseQuota
	case errors.Is(err, autocall.ErrRateLimited):
		return CauseRate
	case errors.Is(err, autocall.ErrInvalidCaller):
		return CauseCaller
	case errors.Is(err, autocall.ErrInvalidPhone):
		return CausePhone
	case errors.As(err, &ve):
		if templateField(ve.Field) {
			return CauseTemplate
		}
		return CauseInvalid
	case mentionsTemplate(err.Error()):
		return CauseTemplate
	}
	return CauseOther
}

func templateField(f string) bool {
	return strings.HasPrefix(f, "Params") || strings.HasPrefix(f, "Template")
}

// mentionsTemplate: the provider's words for a template it does not have
// or a key it misses ("Missing TTS Key", "template not found").
func mentionsTemplate(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "template") || strings.Contains(s, "tts key") || strings.Contains(s, "missing key")
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
		phone = phone && r.Err != nil && errors.Is(r.Err, autocall.ErrInvalidPhone)
		template = template || mentionsTemplate(why)
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
