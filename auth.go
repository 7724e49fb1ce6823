package autocall

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
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

// Token lifetimes the providers document.
const (
	omicallTokenLifetime = 24 * time.Hour
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
	AccessToken string  `json:"access_token"`
	ExpireAt    flexInt `json:"expire_at"`
}

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
	tok := Token{Value: out.AccessToken}
	switch n := int64(out.ExpireAt); {
	case n > unixTimeThreshold:
		tok.Expiry = time.Unix(n, 0)
	case n > 0:
		tok.Expiry = s.c.now().Add(time.Duration(n) * time.Second)
	}
	return tok, nil
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
type tokenCache struct {
	src          TokenSource
	refreshable  bool // false for WithAccessToken: asking again gives the same token
	now          func() time.Time
	fetchTimeout time.Duration
	onToken      func(string)

	group singleflight.Group

	mu        sync.Mutex
	tok       Token
	refreshAt time.Time // early refresh starts here; zero when Expiry is unknown
	staleAt   time.Time // the token is no longer sent after this
	failErr   error     // the last fetch's error, returned until failUntil
	failUntil time.Time
	failWait  time.Duration
}

// Bounds of the pause after a failed fetch, so that a broken token endpoint
// is not hammered by every request.
const (
	minFetchBackoff = time.Second
	maxFetchBackoff = 30 * time.Second
)

// token returns a usable token, fetching it if there is none or it is about
// to expire.
func (tc *tokenCache) token(ctx context.Context) (string, error) {
	now := tc.now()
	tc.mu.Lock()
	cur, valid := tc.tok.Value, tc.validLocked(now)
	early := valid && !tc.refreshAt.IsZero() && !now.Before(tc.refreshAt)
	coolingDown := now.Before(tc.failUntil)
	failErr := tc.failErr
	tc.mu.Unlock()

	switch {
	case valid && (!early || coolingDown):
		return cur, nil
	case !valid && coolingDown:
		return "", failErr
	}

	ch := tc.group.DoChan("token", func() (any, error) { return tc.fetch(ctx) })
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			if valid { // an early refresh failed; the old token still works
				return cur, nil
			}
			return "", res.Err
		}
		return res.Val.(string), nil
	}
}

func (tc *tokenCache) validLocked(now time.Time) bool {
	return tc.tok.Value != "" && (tc.staleAt.IsZero() || now.Before(tc.staleAt))
}

// fetch runs once for all waiters. It is detached from the first caller's
// cancellation so that one impatient caller does not fail the others.
func (tc *tokenCache) fetch(ctx context.Context) (string, error) {
	now := tc.now()
	tc.mu.Lock()
	// A caller that saw no token may arrive just after another fetch ended.
	if tc.validLocked(now) && (tc.refreshAt.IsZero() || now.Before(tc.refreshAt)) {
		v := tc.tok.Value
		tc.mu.Unlock()
		return v, nil
	}
	tc.mu.Unlock()

	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tc.fetchTimeout)
	defer cancel()
	tok, err := tc.src.Token(fctx)
	if err == nil && tok.Value == "" {
		err = fmt.Errorf("%w: the token source returned an empty token", ErrUnexpectedResponse)
	}

	now = tc.now()
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if err != nil {
		tc.failWait = min(max(tc.failWait*2, minFetchBackoff), maxFetchBackoff)
		tc.failErr, tc.failUntil = err, now.Add(tc.failWait)
		return "", err
	}
	tc.onToken(tok.Value)
	tc.tok, tc.failErr, tc.failUntil, tc.failWait = tok, nil, time.Time{}, 0
	tc.refreshAt, tc.staleAt = refreshTimes(now, tok.Expiry)
	return tok.Value, nil
}

// refreshTimes: refresh during the last fifth of the lifetime (at most ten
// minutes before expiry), and stop sending the token shortly before it
// expires so that it does not die in flight.
func refreshTimes(now, expiry time.Time) (refreshAt, staleAt time.Time) {
	if expiry.IsZero() {
		return time.Time{}, time.Time{}
	}
	life := max(expiry.Sub(now), 0)
	return expiry.Add(-min(life/5, 10*time.Minute)), expiry.Add(-min(life/20, 30*time.Second))
}

// invalidate drops tok if it is still the cached one: of many requests
// rejected with the same token, only the first causes a new fetch.
func (tc *tokenCache) invalidate(tok string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.tok.Value == tok {
		tc.tok, tc.refreshAt, tc.staleAt = Token{}, time.Time{}, time.Time{}
	}
}
