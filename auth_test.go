package autocall

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestColdStartFetchesOneToken(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  Option
	}{{"secret key", WithSecretKey(testSecretKey)}, {"API key", WithAPIKey(testAPIKey)}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t)
			// The token answer is slow, so every goroutine arrives while the
			// first fetch is in flight.
			f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, okRead) })
			// A generous per-attempt timeout: on a loaded machine a 2 s attempt
			// can time out and a read is (rightly) retried, which says nothing
			// about the token.
			c := newTestClient(t, f.URL, tc.opt, WithTimeout(30*time.Second))
			const n = 1000
			start := make(chan struct{})
			var wg sync.WaitGroup
			var failed atomic.Int64
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if _, err := doRead(c); err != nil {
						failed.Add(1)
					}
				}()
			}
			close(start)
			wg.Wait()
			assert.Zero(t, failed.Load())
			assert.Equal(t, int64(1), f.tokens.Load(), "exactly one token request")
			// Every read arrived; net/http may replay a GET that failed on a
			// reused connection, so at least n.
			assert.GreaterOrEqual(t, f.count(readPath), n)
		})
	}
}

func TestTokenWaiterGivesUpWithItsContext(t *testing.T) {
	release := make(chan struct{})
	var calls, cancelled atomic.Int64
	ts := TokenSourceFunc(func(ctx context.Context) (Token, error) {
		calls.Add(1)
		select {
		case <-release:
			return Token{Value: "late"}, nil
		case <-ctx.Done():
			cancelled.Add(1)
			return Token{}, ctx.Err()
		}
	})
	f := newFakeAPI(t)
	f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, okRead) })
	c := newTestClient(t, f.URL, WithTokenSource(ts))

	// Two waiters: the impatient one leaves, the fetch goes on for the other.
	patient := make(chan error, 1)
	go func() { patient <- c.do(bg(), readReq(), &testResult{}) }()
	require.Eventually(t, func() bool { return calls.Load() == 1 }, time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(bg(), 50*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err := c.do(ctx, readReq(), &testResult{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(begin), time.Second, "returned at once when its ctx ended")
	assert.Zero(t, cancelled.Load(), "one impatient caller does not cancel the others' fetch")

	close(release)
	require.NoError(t, <-patient)
	assert.Equal(t, int64(1), calls.Load())
	assert.Equal(t, "late", f.last(readPath).Auth)
}

// A fetch that every waiter has left stops at once (issue: it went on
// retrying for its whole timeout, and goleak caught it now and then).
func TestTokenFetchStopsWhenLastWaiterLeaves(t *testing.T) {
	var calls atomic.Int64
	stopped := make(chan struct{})
	ts := TokenSourceFunc(func(ctx context.Context) (Token, error) {
		if calls.Add(1) == 1 {
			<-ctx.Done()
			close(stopped)
			return Token{}, ctx.Err()
		}
		return Token{Value: "second"}, nil
	})
	c := newTestClient(t, "http://127.0.0.1:1", WithTokenSource(ts))
	ctx, cancel := context.WithCancel(bg())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := c.tokens.token(ctx)
	require.ErrorIs(t, err, context.Canceled)
	select {
	case <-stopped:
	case <-time.After(time.Second):
		t.Fatal("the fetch went on after its last waiter left")
	}
	// The abandoned fetch is no failure of the endpoint: the next caller
	// fetches at once instead of getting a cached error.
	tok, err := c.tokens.token(bg())
	require.NoError(t, err)
	assert.Equal(t, "second", tok)
}

// While the cached token is valid, a hanging token endpoint delays nobody
// (issue: every caller in the refresh window waited on the refresh).
func TestEarlyRefreshDoesNotBlockCallers(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	hang := make(chan struct{})
	var calls atomic.Int64
	var logs logBuffer
	c := newTestClient(t, "http://127.0.0.1:1", WithTokenSource(TokenSourceFunc(func(ctx context.Context) (Token, error) {
		if calls.Add(1) == 1 {
			return Token{Value: "t1", Expiry: clock().Add(time.Hour)}, nil
		}
		select {
		case <-hang:
		case <-ctx.Done():
		}
		return Token{}, errors.New("token endpoint hangs")
	})), WithLogger(logs.logger()))
	c.tokens.now = clock
	_, err := c.tokens.token(bg())
	require.NoError(t, err)

	mu.Lock()
	now = now.Add(55 * time.Minute) // in the refresh window, 5 minutes left
	mu.Unlock()
	for i := 0; i < 50; i++ {
		ctx, cancel := context.WithTimeout(bg(), 100*time.Millisecond)
		tok, err := c.tokens.token(ctx)
		cancel()
		require.NoError(t, err)
		assert.Equal(t, "t1", tok)
	}
	require.Eventually(t, func() bool { return calls.Load() == 2 }, time.Second, time.Millisecond)
	c.tokens.mu.Lock()
	f := c.tokens.inflight
	c.tokens.mu.Unlock()
	require.NotNil(t, f)
	close(hang)
	<-f.done
	assert.Contains(t, logs.String(), "token refresh failed", "a failed early refresh is logged")
	// Backed off: the next callers neither wait nor start another refresh.
	tok, err := c.tokens.token(bg())
	require.NoError(t, err)
	assert.Equal(t, "t1", tok)
	assert.Equal(t, int64(2), calls.Load(), "one refresh, whatever the number of callers")
}

// A token that cannot travel in a header is a bad answer and is never cached.
func TestTokenWithHeaderBreakingBytes(t *testing.T) {
	for _, bad := range []string{`abc\r\nX-Injected: 1`, `abc def`, `abc\u0000`, `tok\u00e9`} {
		t.Run(bad, func(t *testing.T) {
			f := newFakeAPI(t)
			var hits atomic.Int64
			f.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/v1/users/generate_access_token" {
					if hits.Add(1) > 3 {
						writeJSON(w, 200, `{"data":{"access_token":"good","expire_at":3600}}`)
						return
					}
					writeJSON(w, 200, `{"data":{"access_token":"`+bad+`","expire_at":3600}}`)
					return
				}
				writeJSON(w, 200, okRead)
			})
			c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
			err := c.do(bg(), readReq(), &testResult{})
			require.ErrorIs(t, err, ErrUnexpectedResponse)
			assert.Contains(t, err.Error(), "not allowed in an Authorization header")
			c.tokens.mu.Lock()
			assert.Empty(t, c.tokens.tok.Value, "never cached")
			c.tokens.failUntil = time.Time{}
			c.tokens.mu.Unlock()
		})
	}
	_, err := NewClient("http://x", WithAccessToken("a\r\nb"))
	assert.ErrorIs(t, err, ErrValidation)
}

func TestTokenEndpointDown(t *testing.T) {
	var tokenHits atomic.Int64
	down := newFakeAPI(t)
	down.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		down.record(r)
		if r.URL.Path == "/api/v1/users/generate_access_token" {
			tokenHits.Add(1)
			writeJSON(w, 503, `{"messsage":"Service Unavailable","code":503,"status":false,"data":{"error":"maintenance"}}`)
			return
		}
		writeJSON(w, 200, okRead)
	})
	c := newTestClient(t, down.URL, WithSecretKey(testSecretKey))

	const n = 100
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.do(bg(), readReq(), &testResult{})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr, "every waiter gets the fetch's error")
		assert.Equal(t, 503, apiErr.HTTPStatus)
		assert.Equal(t, "/api/v1/users/generate_access_token", apiErr.Path)
	}
	assert.Equal(t, int64(3), tokenHits.Load(), "one fetch, with its own retries")
	assert.Equal(t, 0, down.count(readPath))

	// Straight after, no new fetch: the failure is remembered briefly.
	err := c.do(bg(), readReq(), &testResult{})
	require.Error(t, err)
	assert.Equal(t, int64(3), tokenHits.Load(), "not retried in a tight loop")
}

func TestTokenFetchBackoffGrows(t *testing.T) {
	var calls atomic.Int64
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tc := &tokenCache{
		src: TokenSourceFunc(func(context.Context) (Token, error) {
			calls.Add(1)
			return Token{}, errors.New("down")
		}),
		refreshable: true, fetchTimeout: time.Second, onToken: func(string) {},
		now: func() time.Time { return now },
	}
	_, err := tc.token(bg())
	require.Error(t, err)
	_, _ = tc.token(bg())
	assert.Equal(t, int64(1), calls.Load(), "within the first pause")
	now = now.Add(1100 * time.Millisecond)
	_, _ = tc.token(bg())
	assert.Equal(t, int64(2), calls.Load())
	now = now.Add(1100 * time.Millisecond)
	_, _ = tc.token(bg())
	assert.Equal(t, int64(2), calls.Load(), "the pause has doubled to 2s")
	now = now.Add(time.Second)
	_, _ = tc.token(bg())
	assert.Equal(t, int64(3), calls.Load())
}

func TestEmptyTokenIsAnError(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1", WithTokenSource(TokenSourceFunc(func(context.Context) (Token, error) {
		return Token{}, nil
	})))
	err := c.do(bg(), readReq(), &testResult{})
	assert.ErrorIs(t, err, ErrUnexpectedResponse)
}

func TestEarlyRefresh(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var calls atomic.Int64
	var fail atomic.Bool
	tc := &tokenCache{
		src: TokenSourceFunc(func(context.Context) (Token, error) {
			n := calls.Add(1)
			if fail.Load() {
				return Token{}, errors.New("refresh failed")
			}
			return Token{Value: fmt.Sprintf("t%d", n), Expiry: now.Add(time.Hour)}, nil
		}),
		refreshable: true, fetchTimeout: time.Second, onToken: func(string) {},
		now: func() time.Time { return now },
	}
	tok, err := tc.token(bg())
	require.NoError(t, err)
	assert.Equal(t, "t1", tok)

	now = now.Add(49 * time.Minute) // before the last ten minutes
	tok, _ = tc.token(bg())
	assert.Equal(t, "t1", tok)
	assert.Equal(t, int64(1), calls.Load())

	now = now.Add(2 * time.Minute) // 9 minutes left: refreshed well before expiry
	tok, _ = tc.token(bg())
	assert.Equal(t, "t1", tok, "the old token serves while the refresh runs")
	waitRefresh(tc)
	tok, _ = tc.token(bg())
	assert.Equal(t, "t2", tok)
	assert.Equal(t, int64(2), calls.Load())

	// A failed early refresh keeps the still-valid token, and is not
	// retried on every call.
	now = now.Add(55 * time.Minute)
	fail.Store(true)
	tok, err = tc.token(bg())
	require.NoError(t, err)
	assert.Equal(t, "t2", tok)
	waitRefresh(tc)
	tok, _ = tc.token(bg())
	assert.Equal(t, "t2", tok)
	assert.Equal(t, int64(3), calls.Load())

	// Past expiry the old token is never sent.
	now = now.Add(10 * time.Minute)
	_, err = tc.token(bg())
	require.ErrorContains(t, err, "refresh failed")
}

// waitRefresh waits for a background refresh, if one runs.
func waitRefresh(tc *tokenCache) {
	tc.mu.Lock()
	f := tc.inflight
	tc.mu.Unlock()
	if f != nil {
		<-f.done
	}
}

func TestRefreshTimes(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	refresh, stale := RefreshTimes(now, now.Add(24*time.Hour))
	assert.Equal(t, now.Add(24*time.Hour-10*time.Minute), refresh)
	assert.Equal(t, now.Add(24*time.Hour-30*time.Second), stale)
	refresh, stale = RefreshTimes(now, now.Add(100*time.Second))
	assert.Equal(t, now.Add(80*time.Second), refresh)
	assert.Equal(t, now.Add(95*time.Second), stale)
	refresh, stale = RefreshTimes(now, time.Time{})
	assert.True(t, refresh.IsZero() && stale.IsZero())
}

func TestSecretKeyTokenExpiry(t *testing.T) {
	for _, tc := range []struct {
		expireAt string
		want     func(now time.Time) time.Time
	}{
		{`15552000`, func(now time.Time) time.Time { return now.Add(180 * 24 * time.Hour) }},
		{`"3600"`, func(now time.Time) time.Time { return now.Add(time.Hour) }},
		{`1893456000`, func(time.Time) time.Time { return time.Unix(1893456000, 0) }},
		{`"3600s"`, func(now time.Time) time.Time { return now.Add(time.Hour) }},
		{`"2026-11-23T00:00:00Z"`, func(time.Time) time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }},
		{`"2026-11-23 07:00:00"`, func(time.Time) time.Time { return time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) }},
		{`"1893456000"`, func(time.Time) time.Time { return time.Unix(1893456000, 0) }},
		// Unreadable or absent: the token is kept, for the default lifetime.
		{`null`, func(now time.Time) time.Time { return now.Add(defaultTokenLifetime) }},
		{`"tomorrow"`, func(now time.Time) time.Time { return now.Add(defaultTokenLifetime) }},
		{`{"s":1}`, func(now time.Time) time.Time { return now.Add(defaultTokenLifetime) }},
		{`-5`, func(now time.Time) time.Time { return now.Add(defaultTokenLifetime) }},
		// Already past for a token just issued (a server's clock, or a
		// buggy date): kept too, not fetched again before every request.
		{`1700000000`, func(now time.Time) time.Time { return now.Add(defaultTokenLifetime) }},
		{`"2020-01-01T00:00:00Z"`, func(now time.Time) time.Time { return now.Add(defaultTokenLifetime) }},
		{`"2026-11-22 07:00:00"`, func(now time.Time) time.Time { return now.Add(defaultTokenLifetime) }},
	} {
		t.Run(tc.expireAt, func(t *testing.T) {
			f := newFakeAPI(t)
			f.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, `{"data":{"access_token":"abc","expire_at":`+tc.expireAt+`}}`)
			})
			c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
			now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
			c.now = func() time.Time { return now }
			tok, err := c.tokens.src.Token(bg())
			require.NoError(t, err)
			assert.Equal(t, "abc", tok.Value)
			assert.True(t, tc.want(now).Equal(tok.Expiry), "got %v", tok.Expiry)
		})
	}
}

func TestAPIKeyTokenLives24Hours(t *testing.T) {
	f := newFakeAPI(t)
	c := newTestClient(t, f.URL, WithAPIKey(testAPIKey))
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	tok, err := c.tokens.src.Token(bg())
	require.NoError(t, err)
	assert.Equal(t, testToken, tok.Value)
	assert.Equal(t, now.Add(24*time.Hour), tok.Expiry)
	assert.Equal(t, "apiKey="+testAPIKey, f.last("/api/auth").Query)
	assert.NotContains(t, tok.String(), testToken, "a printed Token hides its value")
}

func TestWrongCredentialIsUnauthorized(t *testing.T) {
	f := newFakeAPI(t)
	for _, opt := range []Option{WithSecretKey("wrong-secret"), WithAPIKey("wrong-key")} {
		c := newTestClient(t, f.URL, opt)
		err := c.do(bg(), readReq(), &testResult{})
		require.ErrorIs(t, err, ErrUnauthorized)
		assert.NotContains(t, err.Error(), "wrong-")
	}
	assert.Equal(t, 0, f.count(readPath))
}

// rejectingAPI answers 401 (in the given form) to any token but the good one.
func rejectingAPI(t *testing.T, path string, good func() string, reject func(w http.ResponseWriter)) *fakeAPI {
	f := newFakeAPI(t)
	f.handle(path, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if auth != good() {
			reject(w)
			return
		}
		if strings.HasPrefix(path, "POST") {
			writeJSON(w, 200, okCreate)
		} else {
			writeJSON(w, 200, okRead)
		}
	})
	return f
}

func TestUnauthorizedRefetchesTokenOnce(t *testing.T) {
	rejections := map[string]func(w http.ResponseWriter){
		"plain-text 401": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(401)
			_, _ = w.Write([]byte("Unauthorized"))
		},
		"token_expired in 200": func(w http.ResponseWriter) {
			writeJSON(w, 200, `{"status_code":-9999,"message":"token_expired"}`)
		},
		"status_code 401 in 200": func(w http.ResponseWriter) { writeJSON(w, 200, `{"status_code":401,"payload":null}`) },
		"auth_invalid": func(w http.ResponseWriter) {
			writeJSON(w, 400, `{"status_code":-9999,"payload":{"error":"auth_invalid"}}`)
		},
		"api_key_invalid": func(w http.ResponseWriter) {
			writeJSON(w, 401, `{"status_code":-9999,"payload":{"status":"fail","error":"api_key_invalid","message":"Invalid"}}`)
		},
	}
	for name, reject := range rejections {
		t.Run(name+"/recovers", func(t *testing.T) {
			// The first token is stale on the server; the second works.
			f := rejectingAPI(t, "POST "+createPath, func() string { return tokenN(2) }, reject)
			c := newTestClient(t, f.URL, WithAPIKey(testAPIKey))
			res, err := doCreate(c)
			require.NoError(t, err)
			assert.Equal(t, "c1", res.ID)
			assert.Equal(t, int64(2), f.tokens.Load())
			assert.Equal(t, 2, f.count(createPath), "a refusal placed nothing, so one resend is safe")
		})
		t.Run(name+"/gives up", func(t *testing.T) {
			f := rejectingAPI(t, "POST "+createPath, func() string { return "never" }, reject)
			c := newTestClient(t, f.URL, WithAPIKey(testAPIKey))
			_, err := doCreate(c)
			require.ErrorIs(t, err, ErrUnauthorized)
			assert.NotErrorIs(t, err, ErrOutcomeUnknown)
			assert.Equal(t, int64(2), f.tokens.Load())
			assert.Equal(t, 2, f.count(createPath))
		})
	}
}

func TestManyRejectionsOfOneTokenCauseOneRefetch(t *testing.T) {
	f := rejectingAPI(t, "GET "+readPath, func() string { return tokenN(2) }, func(w http.ResponseWriter) {
		writeJSON(w, 401, `{"messsage":"Unauthorized","code":401,"status":false,"data":{"error":"token_expired"}}`)
	})
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	_, err := c.tokens.token(bg()) // warm: every goroutine starts with token 1
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := doRead(c)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(2), f.tokens.Load())
}

func TestStaticTokenRejectedIsNotResent(t *testing.T) {
	f := rejectingAPI(t, "GET "+readPath, func() string { return "other" }, func(w http.ResponseWriter) {
		w.WriteHeader(401)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	_, err := doRead(c)
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, 1, f.count(readPath), "asking again would give the same token")
}

func TestForbiddenDoesNotRefetch(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 403, `{"messsage":"Forbidden","code":403,"status":false,"data":{"error":"permission_denied"}}`)
	})
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	_, err := doRead(c)
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Equal(t, int64(1), f.tokens.Load(), "the token is fine; the permission is missing")
	assert.Equal(t, 1, f.count(readPath))
}

// sharedSource records what the Client tells a shared token source.
type sharedSource struct {
	mu          sync.Mutex
	n           int
	invalidated []string
}

func (s *sharedSource) Token(context.Context) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return Token{Value: fmt.Sprintf("shared-%d", s.n), Expiry: time.Now().Add(time.Hour)}, nil
}

func (s *sharedSource) InvalidateToken(_ context.Context, tok string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, tok)
	return nil
}

// A source that shares tokens hears of a rejected one once per Client,
// with the token that was rejected.
func TestTokenInvalidatorIsTold(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("GET "+readPath, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		if r.Header.Get("Authorization") == "shared-1" {
			writeJSON(w, 401, `{"messsage":"Unauthorized","code":401,"status":false,"data":{"error":"token_expired"}}`)
			return
		}
		writeJSON(w, 200, okRead)
	})
	src := &sharedSource{}
	c := newTestClient(t, f.URL, WithTokenSource(src))
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := doRead(c)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	require.NotEmpty(t, src.invalidated)
	for _, tok := range src.invalidated {
		assert.Equal(t, "shared-1", tok, "only the rejected token is reported")
	}
	assert.Equal(t, 2, src.n, "one refetch")

	_, err := NewTokenFetcher(f.URL, WithTokenSource(src), WithProvider(TEL4VN))
	assert.ErrorIs(t, err, ErrValidation)
	fetch, err := NewTokenFetcher(f.URL, WithSecretKey(testSecretKey))
	require.NoError(t, err)
	tok, err := fetch.Token(bg())
	require.NoError(t, err)
	assert.Equal(t, testToken, tok.Value)
}

// A token whose expire_at is already past when it arrives was fetched
// again before every request: two requests for each, and a token
// endpoint hammered at the rate of the creates.
func TestPastExpiryIsNotFetchedPerRequest(t *testing.T) {
	f := newFakeAPI(t)
	var fetches atomic.Int64
	past := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	f.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/users/generate_access_token" {
			fetches.Add(1)
			writeJSON(w, 200, `{"data":{"access_token":"abc","expire_at":`+past+`}}`)
			return
		}
		writeJSON(w, 200, `{"data":{"results":{"success":["a_1"]}}}`)
	})
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	for range 5 {
		_, err := c.OTP.Send(bg(), "1", &OTPRequest{Caller: "02873001234", Callees: []string{"0912000003"}, TemplateName: "otp", Code: "1234"})
		require.NoError(t, err)
	}
	assert.Equal(t, int64(1), fetches.Load())
}
