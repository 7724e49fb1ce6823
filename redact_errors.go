package autocall

import "reflect"

// Error reporters (Sentry and the like) walk Unwrap and print every error
// in the chain, so a redacted top line is not enough: each error the SDK
// returns, and each one its chain reaches, reads without a secret.

// error returns err with its whole chain redacted. An error whose text,
// and whose chain's texts, hold no secret is returned as it is, so that
// errors.As finds it; the SDK's own types are copied with their causes
// redacted; any other is replaced by a redactedError that shows the
// redacted text, still matches what the original matched with errors.Is,
// and unwraps to the redacted rest of the chain.
func (r *redactor) error(err error, extra ...string) error {
	if err == nil || r.clean(err, extra) {
		return err
	}
	switch e := err.(type) {
	case *TransportError:
		cp := *e
		cp.Err = r.error(e.Err, extra...)
		return &cp
	case *OutcomeUnknownError:
		cp := *e
		cp.Err = r.error(e.Err, extra...)
		return &cp
	case *APIError:
		cp := *e
		cp.Code = ErrorCode(r.string(string(e.Code), extra...))
		cp.Message = r.string(e.Message, extra...)
		cp.Body = []byte(r.string(string(e.Body), extra...))
		return &cp
	}
	msg := r.string(err.Error(), extra...)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return &redactedError{msg: msg, orig: err, next: r.error(u.Unwrap(), extra...)}
	case interface{ Unwrap() []error }:
		var next []error
		for _, e := range u.Unwrap() {
			next = append(next, r.error(e, extra...))
		}
		return &redactedJoin{redactedError: redactedError{msg: msg, orig: err}, next: next}
	}
	return &redactedError{msg: msg, orig: err}
}

// clean reports whether neither err nor any error in its chain shows a
// secret.
func (r *redactor) clean(err error, extra []string) bool {
	if err == nil {
		return true
	}
	if msg := err.Error(); r.string(msg, extra...) != msg {
		return false
	}
	if e, ok := err.(*APIError); ok && r.string(string(e.Body), extra...) != string(e.Body) {
		return false
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return r.clean(u.Unwrap(), extra)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if !r.clean(e, extra) {
				return false
			}
		}
	}
	return true
}

// redactedError stands for an error whose text held a secret.
type redactedError struct {
	msg  string
	orig error // never handed out: its text holds the secret
	next error // the rest of the chain, redacted
}

func (e *redactedError) Error() string { return e.msg }

// Unwrap returns the rest of the chain, redacted.
func (e *redactedError) Unwrap() error { return e.next }

// Is matches what the original error matched by itself (errors.Is then
// goes on down the redacted chain): a sentinel such as io.EOF, or its own
// Is method.
func (e *redactedError) Is(target error) bool {
	if target == nil {
		return false
	}
	if reflect.TypeOf(target).Comparable() && reflect.TypeOf(e.orig) == reflect.TypeOf(target) && e.orig == target {
		return true
	}
	if m, ok := e.orig.(interface{ Is(error) bool }); ok {
		return m.Is(target)
	}
	return false
}

// redactedJoin stands for an error of many causes (errors.Join).
type redactedJoin struct {
	redactedError
	next []error
}

// Unwrap returns the causes, redacted.
func (e *redactedJoin) Unwrap() []error { return e.next }
