package autocall

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Observer is told what a Client does, for traces and metrics
// (github.com/autocallvn/autocall-go/otel implements it with
// OpenTelemetry). Its methods are called from the goroutines that make
// the requests, so they must be safe for concurrent use and quick.
//
// What it is told carries no secret and no phone number by construction:
// no body, no query, no error text; only the operation, its campaign (the
// Client's secrets redacted), counts, HTTP statuses, durations and the
// Outcome's class and cause. A Client with no Observer builds none of it.
type Observer interface {
	// StartCall is called when an operation (OTP.Send, CDR.Get, …, or
	// Token, the fetch of an access token) starts; the context it returns
	// is the one the operation runs in, its attempts and EndCall included
	// (a tracer puts its span there).
	StartCall(ctx context.Context, op Operation) context.Context
	// EndCall is called once when the operation has ended, with the
	// context StartCall returned.
	EndCall(ctx context.Context, op Operation, end CallEnd)
	// Attempt is called after each HTTP attempt of an operation.
	Attempt(ctx context.Context, op Operation, a Attempt)
	// TokenFetch is called after each fetch of an access token from the
	// Client's TokenSource (the provider's token endpoint, a shared cache,
	// yours); a failure served again from the back-off is not a fetch.
	TokenFetch(ctx context.Context, t TokenFetch)
	// RateLimited is called when the provider asked to slow down (a 429),
	// before the SDK waits or hands the pause to the caller (OnRateLimit).
	RateLimited(ctx context.Context, op Operation, p Pause)
}

// WithObserver makes the Client tell o what it does; nil: nobody (the
// default), at no cost.
func WithObserver(o Observer) Option {
	return func(s *settings) { s.observer = o }
}

// Operation is one SDK operation, as an Observer is told it.
type Operation struct {
	Provider Provider
	// Name is the method's: "OTP.Send", "TTS.Run", "TTS.ImportTemplate",
	// "AutoCall.ExecuteByPhone", "AutoCall.ExecuteByExtension", "CDR.Get",
	// or "Token" (the token endpoint). A small fixed set: fit for a label.
	Name string
	// Method and Route are the HTTP method and the path with its ids left
	// out ("/api/v2/campaigns/{campaign}/otp"): fit for a label.
	Method, Route string
	// Host and Port are the provider's server (OpenTelemetry's
	// server.address and server.port).
	Host string
	Port int
	// Campaign is the campaign id where the operation has one, with the
	// Client's secrets redacted. Any string the caller chose: not a label.
	Campaign string
	// Creates: the operation places calls, so it is never sent twice unless
	// the first attempt provably did not reach the provider.
	Creates bool
}

// CallEnd is how an operation ended. A request the SDK refuses while
// reading its arguments (a malformed phone, a missing field) returns its
// *ValidationError before any operation starts: the Observer is not told
// of it, nothing having been attempted (a batch's Observer counts the job
// refused). One it refuses at the operation's start (ErrWrongProvider) is
// told, ClassInvalid.
type CallEnd struct {
	Start    time.Time
	Duration time.Duration
	Attempts int // HTTP attempts made; 0 when none was (refused before sending, no token)
	Status   int // the last attempt's HTTP status; 0 when no answer came
	// Outcome is OutcomeOf the operation's error: ClassNone for a success.
	Outcome Outcome
}

// Attempt is one HTTP attempt.
type Attempt struct {
	N        int // 1 for the first
	Start    time.Time
	Duration time.Duration
	Status   int     // 0 when no answer came
	Outcome  Outcome // of this attempt: ClassNone when it succeeded
}

// TokenFetch is one fetch of an access token.
type TokenFetch struct {
	Provider   Provider
	Background bool // an early refresh, which callers do not wait for
	Start      time.Time
	Duration   time.Duration
	Outcome    Outcome // ClassNone when a token came
}

// Pause is a provider's request to slow down.
type Pause struct {
	RetryAfter time.Duration // the provider's Retry-After; 0 when it gave none
	// Wait is how long the SDK waits before the next attempt; 0 when it
	// does not send again (OnRateLimit, the last attempt).
	Wait time.Duration
	// Handed: the create's caller was told (OnRateLimit) and paces itself.
	Handed bool
}

// observed runs r under c.observer: StartCall, the request, EndCall.
func (c *Client) observed(ctx context.Context, r *request, out any) error {
	if ctx == nil {
		return c.run(ctx, r, out)
	}
	op := c.operation(r)
	ctx = c.observer.StartCall(ctx, op)
	start := time.Now()
	tr := &callTrace{}
	err := c.run(withCallTrace(ctx, tr), r, out)
	c.observer.EndCall(ctx, op, CallEnd{Start: start, Duration: time.Since(start), Attempts: tr.attempts, Status: tr.status, Outcome: OutcomeOf(err)})
	return err
}

// callTrace carries, through ctx, what EndCall is told of the attempts.
type callTrace struct{ attempts, status int }

type callTraceKey struct{}

func withCallTrace(ctx context.Context, t *callTrace) context.Context {
	return context.WithValue(ctx, callTraceKey{}, t)
}

// observeAttempt tells the observer of attempt n of r.
func (c *Client) observeAttempt(ctx context.Context, r *request, n int, start time.Time, v verdict) {
	// A token request's attempts run in the ctx of the call that waits
	// for the token: they are not the call's.
	if t, ok := ctx.Value(callTraceKey{}).(*callTrace); ok && !r.noAuth {
		t.attempts, t.status = t.attempts+1, v.status
	}
	op := c.operation(r)
	c.observer.Attempt(ctx, op, Attempt{N: n, Start: start, Duration: time.Since(start), Status: v.status, Outcome: OutcomeOf(v.err)})
	if v.limited {
		// As send decides: a create with OnRateLimit hands the pause over.
		p := Pause{RetryAfter: v.retryAfter, Handed: r.creates && r.onRateLimit != nil}
		if !p.Handed && n < c.retry.MaxAttempts {
			p.Wait = c.retry.delay(n, v.retryAfter) // an estimate: send draws its own jitter
		}
		c.observer.RateLimited(ctx, op, p)
	}
}

// operation describes r for the observer.
func (c *Client) operation(r *request) Operation {
	op := Operation{Provider: r.provider, Method: r.method, Host: c.host, Port: c.port, Creates: r.creates}
	p := r.path
	switch {
	case p == "/api/auth" || p == "/api/v1/users/generate_access_token":
		op.Name, op.Route = "Token", p
	case p == "/api/auto_call/execute_by_phone":
		op.Name, op.Route = "AutoCall.ExecuteByPhone", p
	case p == "/api/auto_call/execute_by_extension":
		op.Name, op.Route = "AutoCall.ExecuteByExtension", p
	case strings.HasPrefix(p, "/api/v2/report/"):
		op.Name, op.Route = "CDR.Get", "/api/v2/report/{id}"
	case strings.HasPrefix(p, "/api/v2/campaigns/"):
		seg, rest, _ := strings.Cut(strings.TrimPrefix(p, "/api/v2/campaigns/"), "/")
		switch rest {
		case "otp":
			op.Name = "OTP.Send"
		case "voice":
			op.Name = "TTS.Run"
		case "voice/import":
			op.Name = "TTS.ImportTemplate"
		default:
			op.Name = "other"
		}
		op.Route = "/api/v2/campaigns/{campaign}/" + rest
		if id, err := url.PathUnescape(seg); err == nil {
			op.Campaign = c.redact.string(id, r.secrets...)
		}
	default:
		op.Name, op.Route = "other", "other"
	}
	return op
}

// hostPort splits a base URL's host for server.address and server.port.
func hostPort(base string) (string, int) {
	u, err := url.Parse(base)
	if err != nil {
		return "", 0
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	n, _ := strconv.Atoi(port)
	return u.Hostname(), n
}

// observeFetch tells the observer of a token fetch, its failure classed
// as the requests that wait for it see it (a *TokenError).
func (tc *tokenCache) observeFetch(ctx context.Context, background bool, start time.Time, err error) {
	t := TokenFetch{Provider: tc.provider, Background: background, Start: start, Duration: time.Since(start)}
	if err != nil {
		t.Outcome = tokenError("", "", err).Outcome()
	}
	tc.observer.TokenFetch(ctx, t)
}
