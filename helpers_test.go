package autocall

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Secrets every test uses, so that captured logs and errors can be grepped.
const (
	testSecretKey = "sk-30511f666-f888-411b-a6e0-SECRET"
	testAPIKey    = "ak-9f8e7d6c5b4a-APIKEY"
	testToken     = "tok-1ebe8f88MzA1MTNkZjMt-TOKEN"
)

// fastRetry keeps the tests quick while keeping every retry path.
var fastRetry = RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// logBuffer captures slog output from many goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fakeAPI is a real HTTP server on loopback that counts what it receives.
type fakeAPI struct {
	*httptest.Server
	mux *http.ServeMux

	mu       sync.Mutex
	requests []recorded
	tokens   atomic.Int64 // token requests
}

type recorded struct {
	Method, Path, Query, Auth string
	Body                      []byte
}

func (f *fakeAPI) record(r *http.Request) []byte {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), body})
	return body
}

// count returns how many requests reached path.
func (f *fakeAPI) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.requests {
		if r.Path == path {
			n++
		}
	}
	return n
}

func (f *fakeAPI) last(path string) recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if f.requests[i].Path == path {
			return f.requests[i]
		}
	}
	return recorded{}
}

// handle registers a handler that is recorded before it runs.
func (f *fakeAPI) handle(pattern string, h func(w http.ResponseWriter, r *http.Request, body []byte)) {
	f.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		body := f.record(r)
		h(w, r, body)
	})
}

// newFakeAPI serves both token endpoints with testToken (or a counter-suffixed
// token when fresh is set) and whatever the test registers.
func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{mux: http.NewServeMux()}
	f.handle("POST /api/v1/users/generate_access_token", func(w http.ResponseWriter, r *http.Request, body []byte) {
		n := f.tokens.Add(1)
		var in struct {
			SecretKey string `json:"secret_key"`
		}
		if json.Unmarshal(body, &in) != nil || in.SecretKey != testSecretKey {
			writeJSON(w, 401, `{"messsage":"Unauthorized","code":401,"status":false,"data":{"error":"invalid secret_key"}}`)
			return
		}
		writeJSON(w, 200, `{"data":{"id":"`+testSecretKey+`","access_token":"`+tokenN(n)+`","refresh_token":"","expire_at":15552000,"token_type":"Bearer","scope":"member"}}`)
	})
	f.handle("GET /api/auth", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		n := f.tokens.Add(1)
		if r.URL.Query().Get("apiKey") != testAPIKey {
			writeJSON(w, 200, `{"status_code":-9999,"message":"api_key_invalid","payload":null}`)
			return
		}
		writeJSON(w, 200, `{"status_code":9999,"instance_id":"stg","instance_version":"1.2.164","key_enabled":false,"payload":{"access_token":"`+tokenN(n)+`","token_type":"Bearer","access_type":"normal"}}`)
	})
	f.Server = httptest.NewServer(f.mux)
	t.Cleanup(f.Close)
	return f
}

// tokenN is the n-th token the fake API issues.
func tokenN(n int64) string {
	if n == 1 {
		return testToken
	}
	return testToken + "-" + strings.Repeat("x", int(n))
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// newTestClient builds a client on baseURL with fast retries and a short
// per-attempt timeout; extra options come last and win.
func newTestClient(t *testing.T, baseURL string, opts ...Option) *Client {
	t.Helper()
	all := append([]Option{WithRetryPolicy(fastRetry), WithTimeout(2 * time.Second)}, opts...)
	// A token given by hand needs its provider: TEL4VN unless the test says.
	var s settings
	for _, o := range opts {
		o(&s)
	}
	if s.provider == 0 && s.named == 0 {
		all = append(all, WithProvider(TEL4VN))
	}
	c, err := NewClient(baseURL, all...)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// rawServer is a TCP server on loopback that lets a test misbehave below
// HTTP: reset connections, read a request and never answer.
type rawServer struct {
	ln       net.Listener
	conns    atomic.Int64 // connections accepted
	requests atomic.Int64 // complete HTTP requests read
	wg       sync.WaitGroup
	done     chan struct{}
}

// newRawServer runs serve for each connection; serve gets the connection
// and a reader on it.
func newRawServer(t *testing.T, serve func(s *rawServer, c net.Conn, br *bufio.Reader)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &rawServer{ln: ln, done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				serve(s, c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		close(s.done)
		_ = ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *rawServer) URL() string { return "http://" + s.ln.Addr().String() }

// readRequest reads one whole HTTP request and counts it.
func (s *rawServer) readRequest(br *bufio.Reader) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, req.Body)
	s.requests.Add(1)
	return true
}

// reset closes c with an RST instead of a FIN.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// refusedURL is an address where nothing listens.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr
}

// assertNoSecrets fails if any test secret appears in s.
func assertNoSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range []string{testSecretKey, testAPIKey, testToken} {
		require.NotContains(t, s, sec, "%s leaks a secret", what)
	}
}

func bg() context.Context { return context.Background() }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
