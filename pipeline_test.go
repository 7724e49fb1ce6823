package autocall

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Internal endpoints that exercise the pipeline the way the real ones do.
type testResult struct {
	ID string `json:"id"`
}

func (r *testResult) check() error {
	if r.ID == "" {
		return errMissing("id")
	}
	return nil
}

const (
	readPath   = "/api/v2/test/read"
	createPath = "/api/auto_call/test/create"
)

func readReq() *request {
	return &request{method: http.MethodGet, path: readPath, provider: tel4vn}
}

func createReq() *request {
	return &request{method: http.MethodPost, path: createPath, provider: omicall, creates: true,
		body: map[string]any{"name": "Chiến dịch", "phone_number_list": []string{"0987654321"}}}
}

func doRead(c *Client) (*testResult, error) {
	var out testResult
	err := c.do(bg(), readReq(), &out)
	return &out, err
}

func doCreate(c *Client) (*testResult, error) {
	var out testResult
	err := c.do(bg(), createReq(), &out)
	return &out, err
}

const (
	okRead   = `{"message":"OK","code":200,"status":true,"data":{"id":"r1"}}`
	okCreate = `{"status_code":9999,"payload":{"id":"c1"}}`
)

// countingDialer counts the connections a client opens; failWrites makes
// the first n connections fail their first write, as a reset that arrives
// before the request is written does.
type countingDialer struct {
	dials      atomic.Int64
	failWrites atomic.Int64
}

func (d *countingDialer) client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		d.dials.Add(1)
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if d.failWrites.Add(-1) >= 0 {
			return &resetOnWrite{Conn: c}, nil
		}
		return c, nil
	}
	return &http.Client{Transport: tr}
}

type resetOnWrite struct{ net.Conn }

func (c *resetOnWrite) Write([]byte) (int, error) {
	reset(c.Conn)
	return 0, &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
}

func TestConnectionRefused(t *testing.T) {
	base := refusedURL(t)
	for _, tc := range []struct {
		name string
		do   func(*Client) (*testResult, error)
	}{{"read", doRead}, {"create", doCreate}} {
		t.Run(tc.name, func(t *testing.T) {
			var d countingDialer
			c := newTestClient(t, base, WithAccessToken(testToken), WithHTTPClient(d.client()))
			_, err := tc.do(c)
			require.Error(t, err)
			// Nothing reached the provider, so even a call-creating request
			// is retried and nothing is unknown.
			assert.Equal(t, int64(3), d.dials.Load())
			assert.NotErrorIs(t, err, ErrOutcomeUnknown)
			var te *TransportError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, 3, te.Attempts)
			var op *net.OpError
			require.ErrorAs(t, err, &op)
			assert.Equal(t, "dial", op.Op)
			assert.ErrorIs(t, err, syscall.ECONNREFUSED)
		})
	}
}

func TestResetBeforeRequestWrittenIsResent(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("POST "+createPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, okCreate) })
	var d countingDialer
	d.failWrites.Store(1)
	c := newTestClient(t, f.URL, WithAccessToken(testToken), WithHTTPClient(d.client()))

	res, err := doCreate(c)
	require.NoError(t, err)
	assert.Equal(t, "c1", res.ID)
	assert.Equal(t, int64(2), d.dials.Load(), "the unwritten attempt is resent on a new connection")
	assert.Equal(t, 1, f.count(createPath), "the provider saw the call once")
}

func TestResetOnAccept(t *testing.T) {
	// The server resets every connection before reading anything.
	s := newRawServer(t, func(_ *rawServer, c net.Conn, _ *bufio.Reader) { reset(c) })
	c := newTestClient(t, s.URL(), WithAccessToken(testToken))
	_, err := doRead(c)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, int64(3), s.conns.Load(), "a read is retried")
	assert.Equal(t, int64(0), s.requests.Load())
}

func TestResetAfterRequestWritten(t *testing.T) {
	s := newRawServer(t, func(s *rawServer, c net.Conn, br *bufio.Reader) {
		if s.readRequest(br) {
			reset(c)
		}
	})
	t.Run("create", func(t *testing.T) {
		c := newTestClient(t, s.URL(), WithAccessToken(testToken))
		before := s.requests.Load()
		_, err := doCreate(c)
		require.ErrorIs(t, err, ErrOutcomeUnknown)
		var te *TransportError
		require.ErrorAs(t, err, &te, "the cause is kept")
		assert.Equal(t, int64(1), s.requests.Load()-before, "never sent twice")
		assert.Contains(t, err.Error(), "may have been placed")
	})
	t.Run("read", func(t *testing.T) {
		c := newTestClient(t, s.URL(), WithAccessToken(testToken))
		before := s.requests.Load()
		_, err := doRead(c)
		require.Error(t, err)
		assert.NotErrorIs(t, err, ErrOutcomeUnknown)
		assert.Equal(t, int64(3), s.requests.Load()-before, "reads are retried")
	})
}

func TestServerNeverAnswers(t *testing.T) {
	s := newRawServer(t, func(s *rawServer, c net.Conn, br *bufio.Reader) {
		if s.readRequest(br) {
			<-s.done
		}
	})
	t.Run("create", func(t *testing.T) {
		c := newTestClient(t, s.URL(), WithAccessToken(testToken), WithTimeout(100*time.Millisecond))
		before := s.requests.Load()
		_, err := doCreate(c)
		require.ErrorIs(t, err, ErrOutcomeUnknown)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, int64(1), s.requests.Load()-before)
	})
	t.Run("read", func(t *testing.T) {
		c := newTestClient(t, s.URL(), WithAccessToken(testToken), WithTimeout(100*time.Millisecond))
		before := s.requests.Load()
		_, err := doRead(c)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, int64(3), s.requests.Load()-before)
	})
	t.Run("caller cancels", func(t *testing.T) {
		c := newTestClient(t, s.URL(), WithAccessToken(testToken))
		ctx, cancel := context.WithCancel(bg())
		time.AfterFunc(50*time.Millisecond, cancel)
		before := s.requests.Load()
		err := c.do(ctx, readReq(), &testResult{})
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, int64(1), s.requests.Load()-before, "no retry once the caller has gone")
		err = c.do(ctx, createReq(), &testResult{})
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestHTML502(t *testing.T) {
	f := newFakeAPI(t)
	html := func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
	}
	f.handle("POST "+createPath, html)
	f.handle("GET "+readPath, html)
	c := newTestClient(t, f.URL, WithAccessToken(testToken))

	_, err := doCreate(c)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.ErrorIs(t, err, ErrUnexpectedResponse)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 502, apiErr.HTTPStatus)
	assert.Equal(t, "HTML page instead of JSON", apiErr.Message)
	assert.Equal(t, 1, f.count(createPath))

	_, err = doRead(c)
	require.ErrorIs(t, err, ErrUnexpectedResponse)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, 3, f.count(readPath), "a 5xx read is retried")
}

func TestServerErrorWithJSONBodyIsUnknownForCreates(t *testing.T) {
	f := newFakeAPI(t)
	// A 5xx is unknown whatever its body says, even a refusal code.
	f.handle("POST "+createPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 500, `{"status_code":-9999,"message":"limit_word"}`)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	_, err := doCreate(c)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.ErrorIs(t, err, ErrServer)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, CodeLimitWord, apiErr.Code, "the provider's code is still visible")
	// Not as a sentinel that says nothing was placed: a caller testing it
	// before ErrOutcomeUnknown must not take the call for refused.
	assert.NotErrorIs(t, err, ErrLimitWord)
	assert.NotErrorIs(t, err, ErrRefused)
	assert.Equal(t, ClassUnknown, OutcomeOf(err).Class)
	assert.Equal(t, ClassUnknown, apiErr.Outcome().Class)
	assert.Equal(t, 1, f.count(createPath))
}

// A 429 next to a session id may have placed calls: unknown, and never
// ErrRateLimited, which a caller would resend after its Retry-After.
func TestContradicting429IsNotRateLimited(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("POST "+createPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 429, `{"status_code":429,"message":"rate_limit_exceeded","payload":{"autocall_id":"s-1"}}`)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	_, err := doCreate(c)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	for _, notDone := range []error{ErrRateLimited, ErrRefused, ErrNotSent, ErrValidation} {
		assert.NotErrorIs(t, err, notDone)
	}
	assert.Equal(t, 1, f.count(createPath))
}

func TestReadRetriedAfter5xxThenSucceeds(t *testing.T) {
	f := newFakeAPI(t)
	var n atomic.Int64
	f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if n.Add(1) < 3 {
			writeJSON(w, 503, `{"messsage":"Service Unavailable","code":503,"status":false,"data":{"error":"busy"}}`)
			return
		}
		writeJSON(w, 200, okRead)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	res, err := doRead(c)
	require.NoError(t, err)
	assert.Equal(t, "r1", res.ID)
	assert.Equal(t, 3, f.count(readPath))
}

func TestTruncatedAndGarbledSuccess(t *testing.T) {
	bodies := map[string]string{
		"truncated JSON": `{"status_code":9999,"payload":{"id":"c1"`,
		"empty body":     ``,
		"plain text":     `OK`,
		"id-less":        `{"status_code":9999,"payload":{}}`,
		"null payload":   `{"status_code":9999,"payload":null}`,
		"wrong type":     `{"status_code":9999,"payload":{"id":42}}`,
		"JSON array":     `[{"id":"c1"}]`,
		"other object":   `{"ok":true}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.handle("POST "+createPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, body) })
			c := newTestClient(t, f.URL, WithAccessToken(testToken))
			_, err := doCreate(c)
			require.ErrorIs(t, err, ErrOutcomeUnknown)
			assert.ErrorIs(t, err, ErrUnexpectedResponse)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, 200, apiErr.HTTPStatus)
			assert.Equal(t, 1, f.count(createPath))
		})
	}
	t.Run("read", func(t *testing.T) {
		f := newFakeAPI(t)
		f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			writeJSON(w, 200, `{"data":{"id":"r1"`)
		})
		c := newTestClient(t, f.URL, WithAccessToken(testToken))
		_, err := doRead(c)
		require.ErrorIs(t, err, ErrUnexpectedResponse)
		assert.NotErrorIs(t, err, ErrOutcomeUnknown)
		assert.Equal(t, 1, f.count(readPath))
	})
}

func TestOversizedBody(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("POST "+createPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 200, `{"status_code":9999,"payload":{"id":"`+strings.Repeat("x", 2<<20)+`"}}`)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	_, err := doCreate(c)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.LessOrEqual(t, len(apiErr.Body), 64<<10)
}

func TestErrorEnvelopeIn200(t *testing.T) {
	cases := []struct {
		name, path, body string
		code             ErrorCode
		sentinel         error
	}{
		{"OMICall code in message", createPath, `{"status_code":-9999,"message":"limit_word","payload":null}`, CodeLimitWord, ErrLimitWord},
		{"OMICall code in payload.error", createPath, `{"status_code":-9999,"payload":{"status":"fail","error":"balance_is_not_enough","message":"Số dư không đủ"}}`, CodeBalanceNotEnough, ErrBalanceNotEnough},
		{"OMICall session limit", createPath, `{"status_code":-9999,"message":"limit_word_session"}`, CodeLimitWordSession, ErrLimitWordSession},
		{"OMICall plan", createPath, `{"status_code":-9999,"message":"limit_service"}`, CodeLimitService, ErrLimitService},
		{"TEL4VN messsage", readPath, `{"messsage":"Bad Request","code":400,"status":false,"data":{"error":"resource_not_found"}}`, CodeResourceNotFound, ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.handle(tc.path, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, tc.body) })
			c := newTestClient(t, f.URL, WithAccessToken(testToken))
			var err error
			if tc.path == createPath {
				_, err = doCreate(c)
			} else {
				_, err = doRead(c)
			}
			require.ErrorIs(t, err, tc.sentinel)
			assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a definite refusal placed nothing")
			assert.NotErrorIs(t, err, ErrUnexpectedResponse)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.code, apiErr.Code)
			assert.Equal(t, 1, f.count(tc.path))
		})
	}
}

func TestRetryAfter(t *testing.T) {
	f := newFakeAPI(t)
	var mu sync.Mutex
	var seen []time.Time
	f.handle("POST "+createPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		mu.Lock()
		seen = append(seen, time.Now())
		first := len(seen) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, `{"status_code":429,"message":"rate_limit_exceeded"}`)
			return
		}
		writeJSON(w, 200, okCreate)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 3 * time.Second}))
	res, err := doCreate(c)
	require.NoError(t, err, "a 429 is a refusal before any work: even a create is resent")
	assert.Equal(t, "c1", res.ID)
	require.Len(t, seen, 2)
	assert.GreaterOrEqual(t, seen[1].Sub(seen[0]), 900*time.Millisecond, "Retry-After: 1 was honoured")
}

func TestRetryAfterCappedAndExhausted(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Retry-After", "3600")
		writeJSON(w, 429, `{"messsage":"Too Many Requests","code":429,"status":false,"data":{"error":"rate_limit_exceeded"}}`)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	ctx, cancel := context.WithTimeout(bg(), 10*time.Second)
	defer cancel()
	err := c.do(ctx, readReq(), &testResult{})
	require.ErrorIs(t, err, ErrRateLimited)
	assert.NoError(t, ctx.Err(), "an hour's Retry-After is capped at MaxDelay")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, time.Hour, apiErr.RetryAfter)
	assert.Equal(t, 3, f.count(readPath))
}

func TestBackoffWaitEndsWithContext(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 503, `{"code":503,"status":false,"data":{"error":"down"}}`)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 5, BaseDelay: time.Minute, MaxDelay: time.Minute}))
	ctx, cancel := context.WithTimeout(bg(), 100*time.Millisecond)
	defer cancel()
	err := c.do(ctx, readReq(), &testResult{})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var apiErr *APIError
	assert.ErrorAs(t, err, &apiErr, "the last answer is kept")
	assert.Equal(t, 1, f.count(readPath))
}

func TestAuthorizationHeaderPerProvider(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("POST "+createPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, okCreate) })
	f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, okRead) })
	c := newTestClient(t, f.URL, WithAccessToken(testToken), WithUserAgent("shop/1.0"))
	_, err := doCreate(c)
	require.NoError(t, err)
	_, err = doRead(c)
	require.NoError(t, err)
	assert.Equal(t, "Bearer "+testToken, f.last(createPath).Auth, "OMICall wants Bearer")
	assert.Equal(t, testToken, f.last(readPath).Auth, "TEL4VN wants the raw token")
	assert.JSONEq(t, `{"name":"Chiến dịch","phone_number_list":["0987654321"]}`, string(f.last(createPath).Body))
}

func TestRedirectNotFollowed(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("POST "+createPath, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		http.Redirect(w, r, "/api/auto_call/elsewhere", http.StatusTemporaryRedirect)
	})
	f.handle("/api/auto_call/elsewhere", func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, okCreate) })
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	_, err := doCreate(c)
	require.Error(t, err)
	assert.Equal(t, 0, f.count("/api/auto_call/elsewhere"), "a 307 would have sent the POST twice")
}

func TestRetryDelay(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for i := 0; i < 200; i++ {
		d1 := p.delay(1, 0)
		assert.True(t, d1 >= 50*time.Millisecond && d1 <= 100*time.Millisecond, "%v", d1)
		d3 := p.delay(3, 0)
		assert.True(t, d3 >= 200*time.Millisecond && d3 <= 400*time.Millisecond, "%v", d3)
		d10 := p.delay(10, 0)
		assert.True(t, d10 >= 500*time.Millisecond && d10 <= time.Second, "%v", d10)
		assert.Equal(t, time.Second, p.delay(1, time.Hour), "Retry-After capped at MaxDelay")
		assert.Equal(t, 700*time.Millisecond, p.delay(1, 700*time.Millisecond), "Retry-After wins when longer")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	h := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	assert.Equal(t, 7*time.Second, parseRetryAfter(h("7"), now))
	assert.Equal(t, 90*time.Second, parseRetryAfter(h("Sun, 22 Nov 2026 10:01:30 GMT"), now))
	assert.Equal(t, time.Duration(0), parseRetryAfter(h("Sun, 22 Nov 2026 09:00:00 GMT"), now), "a date in the past")
	assert.Equal(t, time.Duration(0), parseRetryAfter(h("-3"), now))
	assert.Equal(t, time.Duration(0), parseRetryAfter(h("soon"), now))
	assert.Equal(t, time.Duration(0), parseRetryAfter(http.Header{}, now))
}

func TestManyGoroutinesShareOneClient(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, okRead) })
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := doRead(c); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Equal(t, 50, f.count(readPath))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A RoundTripper the SDK cannot see into gives no proof that a request was
// not sent, except a failed dial.
func TestForeignTransportGivesNoProof(t *testing.T) {
	var calls atomic.Int64
	lost := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return nil, io.ErrUnexpectedEOF // as if the answer was lost after sending
	})
	c := newTestClient(t, "http://127.0.0.1:1", WithAccessToken(testToken), WithHTTPClient(&http.Client{Transport: lost}))
	_, err := doCreate(c)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, int64(1), calls.Load(), "not resent")

	calls.Store(0)
	refused := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	})
	c = newTestClient(t, "http://127.0.0.1:1", WithAccessToken(testToken), WithHTTPClient(&http.Client{Transport: refused}))
	_, err = doCreate(c)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, int64(3), calls.Load(), "a failed dial proves nothing was sent")
}
