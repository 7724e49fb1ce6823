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
	if err == nil {
		return nil
	}
	return r.matcherFor(extra...).error(err)
}

func (m *matcher) error(err error) error {
	if err == nil || m.clean(err) {
		return err
	}
	switch e := err.(type) {
	case *TransportError:
		cp := *e
		cp.Err = m.error(e.Err)
		return &cp
	case *OutcomeUnknownError:
		cp := *e
		cp.Err = m.error(e.Err)
		return &cp
	case *TokenError:
		cp := *e
		cp.Err = m.error(e.Err)
		return &cp
	case *ValidationError:
		cp := *e // keeps its sentinel and its Outcome
		cp.Field, cp.Value, cp.Reason = m.string(e.Field), m.string(e.Value), m.string(e.Reason)
		return &cp
	case *APIError:
		cp := *e
		cp.Code = ErrorCode(m.string(string(e.Code)))
		cp.Message = m.string(e.Message)
		cp.Body = []byte(m.string(string(e.Body)))
		return &cp
	}
	msg := m.string(err.Error())
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return &redactedError{msg: msg, is: matchesOf(err), next: m.error(u.Unwrap())}
	case interface{ Unwrap() []error }:
		var next []error
		for _, e := range u.Unwrap() {
			next = append(next, m.error(e))
		}
		return &redactedJoin{redactedError: redactedError{msg: msg, is: matchesOf(err)}, next: next}
	}
	return &redactedError{msg: msg, is: matchesOf(err)}
}

// clean reports whether neither err nor any error in its chain shows a
// secret.
func (m *matcher) clean(err error) bool {
	if err == nil {
		return true
	}
	if msg := err.Error(); m.string(msg) != msg {
		return false
	}
	if e, ok := err.(*APIError); ok && m.string(string(e.Body)) != string(e.Body) {
		return false
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return m.clean(u.Unwrap())
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if !m.clean(e) {
				return false
			}
		}
	}
	return true
}

// redactedError stands for an error whose text held a secret. It keeps
// no field that holds the original: %#v, or a reporter reading the
// fields by reflection, prints only the redacted text.
type redactedError struct {
	msg  string
	is   func(error) bool // what the original matched by itself
	next error            // the rest of the chain, redacted
}

func (e *redactedError) Error() string { return e.msg }

// Unwrap returns the rest of the chain, redacted.
func (e *redactedError) Unwrap() error { return e.next }

// Is matches what the original error matched by itself (errors.Is then
// goes on down the redacted chain): a sentinel such as io.EOF, or its own
// Is method.
func (e *redactedError) Is(target error) bool { return target != nil && e.is(target) }

// matchesOf returns orig's own matching, as errors.Is does it for one
// link: equality, then orig's Is method. The original stays in the
// closure, out of reach of fmt and of reflection.
func matchesOf(orig error) func(error) bool {
	return func(target error) bool {
		if reflect.TypeOf(target).Comparable() && reflect.TypeOf(orig) == reflect.TypeOf(target) && orig == target {
			return true
		}
		if m, ok := orig.(interface{ Is(error) bool }); ok {
			return m.Is(target)
		}
		return false
	}
}

// redactedJoin stands for an error of many causes (errors.Join).
type redactedJoin struct {
	redactedError
	next []error
}

// Unwrap returns the causes, redacted.
func (e *redactedJoin) Unwrap() []error { return e.next }
