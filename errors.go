package autocall

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinels for errors.Is. Every error the SDK returns matches at least one
// of them, so callers never need to read error strings: ErrValidation
// (nothing sent), ErrNetwork (no answer), ErrRefused, ErrServer or
// ErrUnexpectedResponse (an answer), ErrOutcomeUnknown (a call may have been
// placed), plus the precise ones below.
var (
	// ErrValidation: the SDK rejected the request before sending; nothing was sent.
	ErrValidation = errors.New("autocall: invalid request")
	// ErrInvalidPhone: a phone number the SDK or the provider rejects.
	ErrInvalidPhone = errors.New("autocall: invalid phone number")
	// ErrUnauthorized: the credential or token was refused (401/403,
	// token_expired, api_key_invalid, auth_invalid, …).
	ErrUnauthorized = errors.New("autocall: unauthorized")
	// ErrNotFound: 404 or resource_not_found.
	ErrNotFound = errors.New("autocall: not found")
	// ErrRateLimited: 429 or rate_limit_exceeded.
	ErrRateLimited = errors.New("autocall: rate limited")
	// ErrLimitService: the plan does not allow this service (limit_service).
	ErrLimitService = errors.New("autocall: service not included in plan")
	// ErrLimitWord: a text-to-speech character limit was reached. OMICall's
	// page says limit_word covers the session's limit or the daily total;
	// both codes (limit_word, limit_word_session) match it.
	ErrLimitWord = errors.New("autocall: text-to-speech limit reached (session or daily)")
	// ErrLimitWordSession: over 300 characters of text in one session
	// (limit_word_session, or the SDK's own count before sending).
	ErrLimitWordSession = errors.New("autocall: text-to-speech session limit exceeded")
	// ErrInvalidCaller: the calling number (hotline, CID, caller) is not one
	// the account may call from (number_call_out_invalid). Unlike
	// ErrInvalidPhone, the customer is not at fault: fix the configuration.
	ErrInvalidCaller = errors.New("autocall: invalid calling number")
	// ErrBalanceNotEnough: the account balance cannot pay for the call.
	ErrBalanceNotEnough = errors.New("autocall: balance is not enough")
	// ErrOutcomeUnknown: a call-creating request may or may not have been
	// carried out. Do not resend blindly: look the call up first.
	ErrOutcomeUnknown = errors.New("autocall: outcome unknown, the call may have been placed")
	// ErrUnexpectedResponse: a body that is not what the API documents
	// (HTML, plain text, truncated JSON, a success without its data, a
	// redirect).
	ErrUnexpectedResponse = errors.New("autocall: unexpected response")
	// ErrRefused: the provider answered, in its own envelope, that it did
	// not do what was asked (any 4xx, or an error inside a 2xx), whether or
	// not the SDK knows its code. Matched with the more precise sentinel,
	// if any (ErrNotFound, ErrLimitWord, …).
	ErrRefused = errors.New("autocall: refused by the provider")
	// ErrServer: the provider answered with a 5xx status, in HTTP or in its
	// envelope's code. For a request that places calls it comes with
	// ErrOutcomeUnknown.
	ErrServer = errors.New("autocall: provider server error")
	// ErrWrongProvider: a method of one provider called on a client of the
	// other (OTP.Send on a WithAPIKey client). Nothing was sent. Also
	// matches ErrValidation.
	ErrWrongProvider = errors.New("autocall: method of another provider")
	// ErrNetwork: no HTTP answer came (refused connection, reset, timeout).
	// Also matches the cause: a *net.OpError, context.DeadlineExceeded.
	ErrNetwork = errors.New("autocall: network failure")
	// ErrNotSent: the request never left the SDK, so nothing reached its
	// endpoint: no token could be had (see TokenError). Sending it again
	// cannot do anything twice. Matched with the cause's own sentinels.
	ErrNotSent = errors.New("autocall: request not sent")
)

// ErrorCode is a provider's error code, as found in an envelope's message,
// payload.error or data.error.
type ErrorCode string

// Codes named by the providers' documents and public code.
const (
	CodeLimitService         ErrorCode = "limit_service"
	CodeLimitWord            ErrorCode = "limit_word"
	CodeLimitWordSession     ErrorCode = "limit_word_session"
	CodeBalanceNotEnough     ErrorCode = "balance_is_not_enough"
	CodeAPIKeyRequired       ErrorCode = "api_key_is_required"
	CodeAPIKeyInvalid        ErrorCode = "api_key_invalid"
	CodeAuthInvalid          ErrorCode = "auth_invalid"
	CodeTenantDisabled       ErrorCode = "tenant_disabled"
	CodeTokenExpired         ErrorCode = "token_expired"
	CodeDataRequired         ErrorCode = "data_is_required"
	CodeRequestBodyRequired  ErrorCode = "request_body_required"
	CodeInvalidPhoneNumber   ErrorCode = "invalid_phone_number"
	CodeResourceNotFound     ErrorCode = "resource_not_found"
	CodePermissionDenied     ErrorCode = "permission_denied"
	CodeRateLimitExceeded    ErrorCode = "rate_limit_exceeded"
	CodeNumberCallOutInvalid ErrorCode = "number_call_out_invalid"
	CodeExtensionInvalid     ErrorCode = "extension_invalid"
	CodeUserBusy             ErrorCode = "user_busy"
	CodeDoNotCall            ErrorCode = "do_not_call"

	// Codes VIHAT's own tooling knows.
	CodeTenantInvalid               ErrorCode = "tenant_invalid"
	CodeIndividualPackageExpired    ErrorCode = "individual_package_expired"
	CodeServicePackageCustomerLimit ErrorCode = "service_package_customer_limit"
	CodeUserNotRegistered           ErrorCode = "user_not_registered"
	CodeSourceContactNotExists      ErrorCode = "source_contact_not_exists"
)

// codeSentinels maps provider codes to the sentinel they match.
var codeSentinels = map[ErrorCode]error{
	CodeLimitService:         ErrLimitService,
	CodeLimitWord:            ErrLimitWord,
	CodeLimitWordSession:     ErrLimitWordSession,
	CodeBalanceNotEnough:     ErrBalanceNotEnough,
	CodeAPIKeyRequired:       ErrUnauthorized,
	CodeAPIKeyInvalid:        ErrUnauthorized,
	CodeAuthInvalid:          ErrUnauthorized,
	CodeTenantDisabled:       ErrUnauthorized,
	CodeTokenExpired:         ErrUnauthorized,
	CodePermissionDenied:     ErrUnauthorized,
	CodeInvalidPhoneNumber:   ErrInvalidPhone,
	CodeNumberCallOutInvalid: ErrInvalidCaller,
	CodeResourceNotFound:     ErrNotFound,
	CodeRateLimitExceeded:    ErrRateLimited,

	CodeTenantInvalid:               ErrUnauthorized, // the account (tenant) is not valid
	CodeUserNotRegistered:           ErrUnauthorized, // the user has no access to the service
	CodeIndividualPackageExpired:    ErrLimitService, // the plan no longer covers the service
	CodeServicePackageCustomerLimit: ErrLimitService, // the plan's customer quota is spent
	CodeSourceContactNotExists:      ErrNotFound,
}

// alsoSentinels: codes that match a second, broader sentinel.
var alsoSentinels = map[ErrorCode]error{
	CodeLimitWordSession: ErrLimitWord,
}

// statusSentinels maps HTTP statuses (and the envelopes' own status codes,
// which follow HTTP) to sentinels.
var statusSentinels = map[int]error{
	401: ErrUnauthorized,
	403: ErrUnauthorized,
	404: ErrNotFound,
	429: ErrRateLimited,
}

// APIError is an answer from a provider that is not a success.
type APIError struct {
	HTTPStatus     int       // the HTTP status of the answer
	ProviderStatus int       // the envelope's own status_code (OMICall) or code (TEL4VN), when present
	Code           ErrorCode // from message, payload.error or data.error
	Message        string
	Method         string
	Path           string // no query string, so no API key
	RetryAfter     time.Duration
	Body           []byte // at most 64 KiB, secrets redacted

	// unexpected: the body was not the provider's envelope (HTML, text,
	// truncated JSON) or a success lacked its data.
	unexpected bool
	// class: what the answer came to, decided where it was read (Outcome).
	class Class
}

func (e *APIError) Error() string {
	return fmt.Sprintf("autocall: %s %s: %s", e.Method, e.Path, e.text())
}

func (e *APIError) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.HTTPStatus)
	if e.ProviderStatus != 0 && e.ProviderStatus != e.HTTPStatus {
		fmt.Fprintf(&b, ", status %d", e.ProviderStatus)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Message != "" && e.Message != string(e.Code) {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.unexpected {
		b.WriteString(" (unexpected response)")
	}
	return b.String()
}

// Is maps provider codes and HTTP statuses to the sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnexpectedResponse:
		return e.unexpected
	case ErrServer:
		return e.HTTPStatus >= 500 || serverCode(e.ProviderStatus)
	case ErrRefused:
		return !e.unexpected && e.HTTPStatus < 500 && !serverCode(e.ProviderStatus)
	}
	if s, ok := codeSentinels[e.Code]; ok && s == target {
		return true
	}
	if s, ok := alsoSentinels[e.Code]; ok && s == target {
		return true
	}
	if s, ok := statusSentinels[e.HTTPStatus]; ok && s == target {
		return true
	}
	if s, ok := statusSentinels[e.ProviderStatus]; ok && s == target {
		return true
	}
	return false
}

// Unexpected reports whether the body was not what the API documents.
func (e *APIError) Unexpected() bool { return e.unexpected }

// ValidationError is a request the SDK refused to send.
type ValidationError struct {
	Field  string // e.g. "Callees[3]", "Speed", "Params.due_date"
	Value  string
	Reason string

	also error // a second sentinel: ErrInvalidPhone, ErrLimitWordSession
}

func (e *ValidationError) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("autocall: invalid %s %q: %s", e.Field, e.Value, e.Reason)
	}
	return fmt.Sprintf("autocall: invalid %s: %s", e.Field, e.Reason)
}

// Is matches ErrValidation, and ErrInvalidPhone or ErrLimitWordSession
// (and so ErrLimitWord) where the problem is a phone number or a text too
// long, ErrWrongProvider for a method of the other provider.
func (e *ValidationError) Is(target error) bool {
	if target == ErrValidation || (e.also != nil && target == e.also) {
		return true
	}
	return e.also == ErrLimitWordSession && target == ErrLimitWord
}

func invalid(field, value, reason string) *ValidationError {
	return &ValidationError{Field: field, Value: value, Reason: reason}
}

// OutcomeUnknownError is returned when a call-creating request may have
// reached the provider but no definite answer came back: a reset after the
// request was written, a timeout, a 5xx (HTTP, or the envelope's code), a
// 301/302/303 or 101, or a garbled success. The call may
// have been placed; it was not resent.
type OutcomeUnknownError struct {
	Method, Path string
	Err          error // the cause: a transport error or an *APIError
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("autocall: %s %s: outcome unknown, %s: %s", e.Method, e.Path, e.mayHave(), detail(e.Err))
}

// mayHave says what may have been done: a template import places no call.
func (e *OutcomeUnknownError) mayHave() string {
	if strings.HasSuffix(e.Path, "/voice/import") {
		return "the template may have been imported"
	}
	return "the call may have been placed"
}

// detail is an error's text without the "autocall: METHOD PATH: " that the
// SDK's own errors start with, so that a wrapper does not say it twice.
func detail(err error) string {
	switch e := err.(type) {
	case *APIError:
		return e.text()
	case *TransportError:
		return e.text()
	case nil:
		return "unknown cause"
	}
	return err.Error()
}

// Is matches ErrOutcomeUnknown.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Unwrap returns the cause.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// TransportError is a request that got no HTTP answer: the connection failed,
// was reset, or timed out. Attempts says how many times it was tried.
type TransportError struct {
	Method, Path string
	Attempts     int
	Err          error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("autocall: %s %s: %s", e.Method, e.Path, e.text())
}

func (e *TransportError) text() string {
	return fmt.Sprintf("%v (after %d attempt(s))", e.Err, e.Attempts)
}

// Unwrap returns the cause, such as a *net.OpError or context.DeadlineExceeded.
// A cause whose text held a secret (net/http quotes a malformed header line
// or Location) is replaced, with each error of its own chain, by one that
// shows the text redacted and still matches what it matched with errors.Is.
func (e *TransportError) Unwrap() error { return e.Err }

// Is matches ErrNetwork.
func (e *TransportError) Is(target error) bool { return target == ErrNetwork }

// TokenError is a request that was not sent because no token could be had:
// the token endpoint refused the credential or failed, the TokenSource
// returned an error, or ctx ended while waiting for the token. Nothing
// reached the request's endpoint. It matches ErrNotSent, and through Err
// the cause's sentinels (ErrUnauthorized for a refused credential).
//
// After a failed fetch the Client does not ask the source again until a
// back-off has passed (1 s, doubling to 30 s): a request meanwhile gets
// that earlier failure, with Cached set, FailedAt and RetryAt saying when
// it happened and when the source will be asked again.
type TokenError struct {
	Method, Path string // the request that was not sent; empty from Client.Authenticate
	Err          error  // why no token could be had
	// Cached: Err is an earlier fetch's failure, returned from memory
	// without asking the source, which is asked again at RetryAt.
	Cached            bool
	FailedAt, RetryAt time.Time
}

func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("autocall: ")
	if e.Method != "" || e.Path != "" {
		b.WriteString(e.Method + " " + e.Path + ": not sent, ")
	}
	fmt.Fprintf(&b, "no token: %v", e.Err)
	if e.Cached {
		b.WriteString(cachedNote(e.FailedAt, e.RetryAt))
	}
	return b.String()
}

// cachedNote says that a token failure is an earlier one, and when the
// source is asked again.
func cachedNote(at, retryAt time.Time) string {
	return fmt.Sprintf(" (the token source's earlier failure at %s, not asked again until %s)",
		at.Format(time.RFC3339Nano), retryAt.Format(time.RFC3339Nano))
}

// earlierFailure is the token cache's failure served from memory during
// its back-off; the Client returns it as a *TokenError with Cached set.
type earlierFailure struct {
	err         error
	at, retryAt time.Time
}

func (e *earlierFailure) Error() string { return e.err.Error() + cachedNote(e.at, e.retryAt) }
func (e *earlierFailure) Unwrap() error { return e.err }

// tokenError is the *TokenError of a request not sent because of err.
func tokenError(method, path string, err error) *TokenError {
	te := &TokenError{Method: method, Path: path, Err: err}
	var ef *earlierFailure
	if errors.As(err, &ef) {
		te.Err, te.Cached, te.FailedAt, te.RetryAt = ef.err, true, ef.at, ef.retryAt
	}
	return te
}

// Is matches ErrNotSent.
func (e *TokenError) Is(target error) bool { return target == ErrNotSent }

// Unwrap returns the cause.
func (e *TokenError) Unwrap() error { return e.Err }
