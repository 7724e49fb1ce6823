package autocall

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/autocallvn/autocall-go/internal/envelope"
)

// TokenSource supplies access tokens. The Client caches what it returns,
// asks again shortly before Expiry, and asks again once when a request is
// rejected as unauthorized. Token may be called from any goroutine, but the
// Client never calls it twice at once.
type TokenSource interface {
	Token(ctx context.Context) (Token, error)
}

// TokenSourceFunc adapts a function to TokenSource.
type TokenSourceFunc func(ctx context.Context) (Token, error)

// Token implements TokenSource.
func (f TokenSourceFunc) Token(ctx context.Context) (Token, error) { return f(ctx) }

// Token is an access token and when it stops working.
type Token struct {
	Value  string
	Expiry time.Time // zero: unknown; used until a request is rejected
}

// String hides the value so that a Token printed by mistake leaks nothing.
func (t Token) String() string {
	if t.Value == "" {
		return "Token(none)"
	}
	return fmt.Sprintf("Token(%s, expires %s)", redacted, t.Expiry.Format(time.RFC3339))
}

// Format prints String for every verb, and a Go-syntax form with the
// value hidden for %#v: without it, %#v and %d would print the fields.
func (t Token) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprintf(f, "autocall.Token{Value:%q, Expiry:%#v}", t.shown(), t.Expiry)
		return
	}
	_, _ = io.WriteString(f, t.String())
}

// MarshalJSON hides the value, so that a Token logged as JSON, or put in
// an API answer by mistake, leaks nothing. It cannot be read back: a
// store of tokens marshals Value and Expiry itself.
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Value  string
		Expiry time.Time
	}{t.shown(), t.Expiry})
}

// LogValue hides the value from log/slog, whose JSON handler would
// otherwise print the fields.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("value", t.shown()), slog.Time("expiry", t.Expiry))
}

// shown is what stands for the value in print: nothing for none.
func (t Token) shown() string {
	if t.Value == "" {
		return ""
	}
	return redacted
}

// Token lifetimes the providers document.
const (
	omicallTokenLifetime = 24 * time.Hour
	// defaultTokenLifetime applies when TEL4VN's expire_at is missing or
	// unreadable: the token is used, and refreshed early, as if it lived
	// an hour. A token that dies sooner is refetched on its first 401.
	defaultTokenLifetime = time.Hour
	// expire_at above this is a Unix time (older TEL4VN servers), below it a
	// lifetime in seconds.
	unixTimeThreshold = 1_000_000_000
)

// secretKeySource is TEL4VN's POST /api/v1/users/generate_access_token.
type secretKeySource struct {
	c   *Client
	key string
}

type tel4vnToken struct {
	AccessToken string          `json:"access_token"`
	ExpireAt    json.RawMessage `json:"expire_at"`
	Error       errField        `json:"error"`
}

func (t *tel4vnToken) dataError() bool { return t.Error.set }

func (t *tel4vnToken) check() error {
	if t.AccessToken == "" {
		return errMissing("data.access_token")
	}
	return nil
}

func (s *secretKeySource) Token(ctx context.Context) (Token, error) {
	var out tel4vnToken
	err := s.c.do(ctx, &request{
		method: http.MethodPost, path: "/api/v1/users/generate_access_token",
		provider: tel4vn, noAuth: true,
		body: map[string]string{"secret_key": s.key},
	}, &out)
	if err != nil {
		return Token{}, err
	}
	return Token{Value: out.AccessToken, Expiry: tokenExpiry(out.ExpireAt, s.c.now())}, nil
}

// tokenExpiry reads expire_at in the forms servers write it: a lifetime in
// seconds or a Unix time (a number or a numeric string), a Go duration
// ("3600s"), or a date (RFC 3339, or "2006-01-02 15:04:05" in Vietnam time).
// Anything else keeps the token for defaultTokenLifetime rather than throw
// a working token away; so does a time already past (a server's clock
// behind ours, a wrong date), which would have the token fetched again
// before every request.
func tokenExpiry(raw json.RawMessage, now time.Time) time.Time {
	if t := readExpiry(raw, now); t.After(now) {
		return t
	}
	return now.Add(defaultTokenLifetime)
}

// readExpiry is expire_at as the server wrote it; zero when unreadable.
func readExpiry(raw json.RawMessage, now time.Time) time.Time {
	s, _ := envelope.Text(raw)
	if s == "" {
		return time.Time{}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		switch n := int64(f); {
		case n > unixTimeThreshold && n < 1e11:
			return time.Unix(n, 0)
		case n > 0 && n <= unixTimeThreshold:
			return now.Add(time.Duration(n) * time.Second)
		}
		return time.Time{}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d)
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	if t, err := time.ParseInLocation(cdrTimeLayout, s, vietnam); err == nil {
		return t
	}
	return time.Time{}
}

// apiKeySource is OMICall's GET /api/auth?apiKey=. The answer carries no
// lifetime; the documents give 24 hours.
type apiKeySource struct {
	c   *Client
	key string
}

type omicallToken struct {
	AccessToken string `json:"access_token"`
}

func (t *omicallToken) check() error {
	if t.AccessToken == "" {
		return errMissing("payload.access_token")
	}
	return nil
}

func (s *apiKeySource) Token(ctx context.Context) (Token, error) {
	var out omicallToken
	err := s.c.do(ctx, &request{
		method: http.MethodGet, path: "/api/auth",
		query:    url.Values{"apiKey": {s.key}},
		provider: omicall, noAuth: true,
	}, &out)
	if err != nil {
		return Token{}, err
	}
	return Token{Value: out.AccessToken, Expiry: s.c.now().Add(omicallTokenLifetime)}, nil
}

type staticSource struct{ tok string }

func (s staticSource) Token(context.Context) (Token, error) { return Token{Value: s.tok}, nil }

// tokenCache shares one token among all of a Client's goroutines, in the
// manner of aws-sdk-go-v2's CredentialsCache: one fetch at a time, refresh
// early, waiters give up with their own context.
//
// Two kinds of fetch run: a refresh of a token that still works runs on its
// own, bounded by fetchTimeout, while every caller goes on using the old
// token; a fetch that callers wait for (no usable token) stops as soon as the
// last of them has given up, so that nobody's work outlives its caller.
type tokenCache struct {
	src          TokenSource
	refreshable  bool // false for WithAccessToken: asking again gives the same token
	now          func() time.Time
	fetchTimeout time.Duration
	onToken      func(string)
	onRefreshErr func(error) // a failed early refresh, which no caller sees
	observer     Observer    // the Client's; nil: none
	provider     Provider    // for the observer

	mu        sync.Mutex
	tok       Token
	refreshAt time.Time // early refresh starts here; zero when Expiry is unknown
	staleAt   time.Time // the token is no longer sent after this
	failErr   error     // the last fetch's error, returned until failUntil
	failAt    time.Time // when that fetch failed
	failUntil time.Time
	failWait  time.Duration
	inflight  *tokenFetch
}

// tokenFetch is one fetch and the callers waiting for it.
type tokenFetch struct {
	done       chan struct{} // closed when val and err are set
	val        string
	err        error
	cancel     context.CancelFunc
	waiters    int  // under tokenCache.mu
	background bool // an early refresh: runs to its end whoever waits
	abandoned  bool // every waiter left and the fetch was cancelled
}

// Bounds of the pause after a failed fetch, so that a broken token endpoint
// is not hammered by every request.
const (
	minFetchBackoff = time.Second
	maxFetchBackoff = 30 * time.Second
)

// token returns a usable token, fetching it if there is none. A token about
// to expire is returned at once while a refresh runs on its own.
func (tc *tokenCache) token(ctx context.Context) (string, error) {
	now := tc.now()
	tc.mu.Lock()
	coolingDown := now.Before(tc.failUntil)
	if tc.validLocked(now) {
		cur := tc.tok.Value
		if !tc.refreshAt.IsZero() && !now.Before(tc.refreshAt) && !coolingDown && tc.inflight == nil {
			tc.startLocked(ctx, true)
		}
		tc.mu.Unlock()
		return cur, nil
	}
	if coolingDown && tc.inflight == nil {
		// Said so: the source may be back by now, and a caller that reads
		// only the cause would think it was just asked.
		err := &earlierFailure{err: tc.failErr, at: tc.failAt, retryAt: tc.failUntil}
		tc.mu.Unlock()
		return "", err
	}
	f := tc.inflight
	if f == nil {
		f = tc.startLocked(ctx, false)
	}
	f.waiters++
	tc.mu.Unlock()

	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		tc.mu.Lock()
		f.waiters--
		if f.waiters == 0 && !f.background {
			f.abandoned = true
			f.cancel() // nobody is left to use what it brings
			if tc.inflight == f {
				tc.inflight = nil // a later caller starts afresh
			}
		}
		tc.mu.Unlock()
		return "", ctx.Err()
	}
}

func (tc *tokenCache) validLocked(now time.Time) bool {
	return tc.tok.Value != "" && (tc.staleAt.IsZero() || now.Before(tc.staleAt))
}

// startLocked starts a fetch. It is detached from ctx's cancellation (one
// impatient caller must not fail the others) but keeps its values.
func (tc *tokenCache) startLocked(ctx context.Context, background bool) *tokenFetch {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tc.fetchTimeout)
	f := &tokenFetch{done: make(chan struct{}), cancel: cancel, background: background}
	tc.inflight = f
	go tc.run(fctx, f)
	return f
}

func (tc *tokenCache) run(ctx context.Context, f *tokenFetch) {
	defer f.cancel()
	start := time.Now()
	tok, err := tc.src.Token(ctx)
	if err == nil {
		err = checkToken(tok.Value)
	}

	now := tc.now()
	tc.mu.Lock()
	switch {
	case err == nil:
		tc.onToken(tok.Value)
		tc.tok, tc.failErr, tc.failAt, tc.failUntil, tc.failWait = tok, nil, time.Time{}, time.Time{}, 0
		tc.refreshAt, tc.staleAt = RefreshTimes(now, tok.Expiry)
		f.val = tok.Value
	case f.abandoned:
		// Cancelled because nobody waits: not the endpoint's failure.
	default:
		tc.failWait = min(max(tc.failWait*2, minFetchBackoff), maxFetchBackoff)
		tc.failErr, tc.failAt, tc.failUntil = err, now, now.Add(tc.failWait)
	}
	f.err = err
	if tc.inflight == f {
		tc.inflight = nil
	}
	abandoned := f.abandoned
	tc.mu.Unlock()
	if tc.observer != nil && !abandoned && tc.refreshable { // a static token is not fetched
		tc.observeFetch(ctx, f.background, start, err)
	}
	if err != nil && f.background && tc.onRefreshErr != nil {
		tc.onRefreshErr(err)
	}
	close(f.done)
}

// checkToken refuses a token that cannot travel in a header: a value with
// a control character or a space would make every request fail (or, worse,
// add a header) for the whole of its lifetime.
func checkToken(v string) error {
	if v == "" {
		return fmt.Errorf("%w: the token source returned an empty token", ErrUnexpectedResponse)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: the token has a byte (0x%02x at %d) that is not allowed in an Authorization header", ErrUnexpectedResponse, c, i)
		}
	}
	return nil
}

// RefreshTimes is the SDK's one rule for renewing a token that was fetched
// at fetched and expires at expiry: renew it from refreshAt, in the last
// fifth of its life (at most ten minutes before expiry), and stop sending it
// at staleAt, shortly before it expires, so that it does not die in flight.
// Both are zero when expiry is unknown. A TokenSource that shares one token
// between processes (autocallredis) computes them from the fetch time it
// stores, never from the time of a read: from a read, the last fifth of
// what is left is always ahead, and the token would be renewed only once
// it had expired, on every replica at once.
func RefreshTimes(fetched, expiry time.Time) (refreshAt, staleAt time.Time) {
	if expiry.IsZero() {
		return time.Time{}, time.Time{}
	}
	life := max(expiry.Sub(fetched), 0)
	return expiry.Add(-min(life/5, 10*time.Minute)), expiry.Add(-min(life/20, 30*time.Second))
}

// invalidate drops tok if it is still the cached one: of many requests
// rejected with the same token, only the first causes a new fetch. A
// source that shares tokens between processes is told first, before the
// local copy goes: a goroutine that then finds no token fetches after the
// shared one is gone, and cannot read the rejected token back.
func (tc *tokenCache) invalidate(ctx context.Context, tok string) {
	tc.mu.Lock()
	mine := tc.tok.Value == tok
	tc.mu.Unlock()
	if !mine {
		return
	}
	if inv, ok := tc.src.(TokenInvalidator); ok {
		// Best effort: if it fails, the shared token is refetched when it
		// is rejected again or expires.
		_ = inv.InvalidateToken(ctx, tok)
	}
	tc.mu.Lock()
	if tc.tok.Value == tok {
		tc.tok, tc.refreshAt, tc.staleAt = Token{}, time.Time{}, time.Time{}
	}
	tc.mu.Unlock()
}

// TokenInvalidator is a TokenSource that shares its tokens (between the
// replicas of a service, through Redis, say) and wants to hear when one is
// rejected: the Client calls InvalidateToken with the rejected token before
// asking for a new one. It must forget the token only if it is still the
// one it holds, so that many replicas rejected with one token cause one
// fetch, not one each; concurrent rejections may report one token more
// than once.
type TokenInvalidator interface {
	InvalidateToken(ctx context.Context, token string) error
}

// NewTokenFetcher returns a TokenSource that fetches a new token from the
// provider at every call, with the credential in opts (WithSecretKey or
// WithAPIKey) and the same settings as a Client (timeout, retries, HTTP
// client). It caches nothing: it is what a shared cache, such as the Redis
// one in github.com/autocallvn/autocall-go/redis, calls when the shared
// token is missing or about to expire.
func NewTokenFetcher(baseURL string, opts ...Option) (TokenSource, error) {
	c, err := NewClient(baseURL, opts...)
	if err != nil {
		return nil, err
	}
	switch c.tokens.src.(type) {
	case *secretKeySource, *apiKeySource:
		return c.tokens.src, nil
	}
	return nil, invalid("Credential", "", "NewTokenFetcher needs WithSecretKey or WithAPIKey")
}
