package autocall

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Class is what a failed request came to, decided by the SDK once, where
// it read the answer (or found none). Every error the SDK returns carries
// it: read it with OutcomeOf, or with the Outcome method of the error's
// type (errors.As). A batch maps it to a job's state, a command to its exit
// code, without reading sentinels again.
type Class uint8

const (
	// ClassNone: no error, or an error the SDK did not make.
	ClassNone Class = iota
	// ClassInvalid: the SDK refused to send the request (*ValidationError):
	// nothing was sent; it would be refused again until fixed.
	ClassInvalid
	// ClassNotSent: no answer came, and for a create the request provably
	// never reached the provider (*TransportError, *TokenError): sending
	// it again cannot do anything twice.
	ClassNotSent
	// ClassRateLimited: the provider asked to slow down before doing any
	// work (HTTP 429, or a rate-limit code in its envelope): send again
	// after Outcome.RetryAfter.
	ClassRateLimited
	// ClassRefused: the provider answered that it did not do what was
	// asked (a 4xx, or an error inside a 2xx); Outcome.Cause says why. It
	// would be refused again until the cause is fixed.
	ClassRefused
	// ClassUnknown: a create may have been carried out
	// (*OutcomeUnknownError, ErrOutcomeUnknown): look it up before sending
	// it again.
	ClassUnknown
	// ClassFailed: a request that does no work (a read), or a create
	// redirected with 307/308, got an answer that is neither a result nor
	// a refusal (a 5xx, a body that is not the API's). Nothing was done by
	// it; try again later.
	ClassFailed
)

var classNames = [...]string{"none", "invalid", "not_sent", "rate_limited", "refused", "unknown", "failed"}

func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Cause sorts why a request was not done into one word. Its values are
// the words a batch journal stores (batch.Cause), so they never change.
type Cause string

// Causes, as Outcome.Cause gives them.
const (
	CauseAuth     Cause = "auth"     // the credential or token was refused
	CauseQuota    Cause = "quota"    // the plan, balance or daily quota is spent
	CauseRate     Cause = "rate"     // the provider asked to slow down
	CauseTemplate Cause = "template" // the TTS template or one of its values is missing or wrong
	CausePhone    Cause = "phone"    // the phone number is not one the provider or the SDK takes
	CauseCaller   Cause = "caller"   // the calling number is not one the account may use
	CauseInvalid  Cause = "invalid"  // another bad field of the request
	CauseNetwork  Cause = "network"  // no answer came
	CauseToken    Cause = "token"    // no token could be had
	CauseServer   Cause = "server"   // the provider failed (5xx) or answered what the API does not document
	CauseOther    Cause = "other"
)

// Outcome is the class of a failed request, why, and for a rate limit
// how long the provider asked to wait.
type Outcome struct {
	Class      Class
	Cause      Cause         // empty for ClassNone and ClassUnknown
	RetryAfter time.Duration // ClassRateLimited: the provider's Retry-After, 0 when it gave none
}

// OutcomeOf returns the outcome err carries: that of the first error in
// its chain made by the SDK (the outermost decides: an
// *OutcomeUnknownError wrapping a *TransportError is ClassUnknown). The
// zero Outcome (ClassNone) for nil or an error the SDK did not make.
func OutcomeOf(err error) Outcome {
	var o interface{ Outcome() Outcome }
	if err == nil || !errors.As(err, &o) {
		return Outcome{}
	}
	return o.Outcome()
}

// Outcome is ClassInvalid, with the cause the bad field names: a phone
// number, a template or one of its values, or another field.
func (e *ValidationError) Outcome() Outcome {
	cause := CauseInvalid
	switch {
	case e.also == ErrInvalidPhone:
		cause = CausePhone
	case e.also == ErrLimitWordSession, strings.HasPrefix(e.Field, "Params"), strings.HasPrefix(e.Field, "Template"):
		cause = CauseTemplate
	}
	return Outcome{Class: ClassInvalid, Cause: cause}
}

// Outcome is ClassNotSent: CauseAuth when the token endpoint refused the
// credential, CauseToken otherwise.
func (e *TokenError) Outcome() Outcome {
	if errors.Is(e.Err, ErrUnauthorized) {
		return Outcome{Class: ClassNotSent, Cause: CauseAuth}
	}
	return Outcome{Class: ClassNotSent, Cause: CauseToken}
}

// Outcome is ClassNotSent with CauseNetwork.
func (e *TransportError) Outcome() Outcome { return Outcome{Class: ClassNotSent, Cause: CauseNetwork} }

// Outcome is ClassUnknown.
func (e *OutcomeUnknownError) Outcome() Outcome { return Outcome{Class: ClassUnknown} }

// Outcome is what the answer came to, as the SDK decided when it read it:
// ClassRateLimited, ClassRefused (with its cause) or ClassFailed. An
// APIError the SDK did not make is ClassFailed.
func (e *APIError) Outcome() Outcome {
	switch e.class {
	case ClassRateLimited:
		return Outcome{Class: ClassRateLimited, Cause: CauseRate, RetryAfter: e.RetryAfter}
	case ClassRefused:
		return Outcome{Class: ClassRefused, Cause: e.refusal()}
	}
	return Outcome{Class: ClassFailed, Cause: CauseServer}
}

// Outcome is ClassRefused: CausePhone when the provider says the number is
// malformed, CauseTemplate when it names the template or a key of it.
func (e *CalleeError) Outcome() Outcome {
	switch {
	case templateReason(e.Reason):
		return Outcome{Class: ClassRefused, Cause: CauseTemplate}
	case e.Is(ErrInvalidPhone):
		return Outcome{Class: ClassRefused, Cause: CausePhone}
	}
	return Outcome{Class: ClassRefused, Cause: CauseOther}
}

// refusal sorts a refusal into a cause. limit_word (the daily quota) is a
// quota; limit_word_session concerns one request's text, so its template.
func (e *APIError) refusal() Cause {
	switch {
	case e.Is(ErrUnauthorized):
		return CauseAuth
	case e.Is(ErrLimitWordSession):
		return CauseTemplate
	case e.Is(ErrLimitService), e.Is(ErrBalanceNotEnough), e.Is(ErrLimitWord):
		return CauseQuota
	case e.Is(ErrRateLimited):
		return CauseRate
	case e.Is(ErrInvalidCaller):
		return CauseCaller
	case e.Is(ErrInvalidPhone):
		return CausePhone
	case templateReason(string(e.Code)), templateReason(e.Message):
		return CauseTemplate
	}
	return CauseOther
}

// templateReason: TEL4VN's words for a template it does not have or a key
// it misses ("Template Not Found", "Missing TTS Key"), which it sends as
// text, not as a code.
func templateReason(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "template") || strings.Contains(s, "tts key") || strings.Contains(s, "missing key")
}
