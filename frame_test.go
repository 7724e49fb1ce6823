package autocall

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// captureStdLog sends log.Default to a buffer for the test's life.
func captureStdLog(t *testing.T) *logBuffer {
	var logs logBuffer
	prevOut, prevFlags := log.Writer(), log.Flags()
	log.SetOutput(&logs)
	t.Cleanup(func() { log.SetOutput(prevOut); log.SetFlags(prevFlags) })
	return &logs
}

// An answer with bytes past its end, echoing the token and the callback
// key, must never reach net/http's "Unsolicited response" log line, for
// creates and reads, Content-Length and chunked answers, the excess in
// the answer's segment or sent once the client has its answer.
func TestExcessBytesNeverLogged(t *testing.T) {
	const jsonBody = `{"message":"Token không hợp lệ","code":400,"status":false}`
	frames := map[string]func(w io.Writer){
		"content-length": func(w io.Writer) {
			fmt.Fprintf(w, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(jsonBody), jsonBody)
		},
		"chunked": func(w io.Writer) {
			fmt.Fprintf(w, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"+
				"%x;ext=1\r\n%s\r\n%x\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n", 10, jsonBody[:10], len(jsonBody)-10, jsonBody[10:])
		},
	}
	calls := map[string]func(c *Client) error{
		"OTP.Send": func(c *Client) error {
			_, err := c.OTP.Send(bg(), "7", &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"},
				TemplateName: "otp", Code: "1234", CallbackURL: "https://example.com/cb", CallbackAPIKey: testCallbackKey})
			return err
		},
		"CDR.Get": func(c *Client) error { _, err := c.CDR.Get(bg(), "call-1"); return err },
	}
	for frameName, frame := range frames {
		for _, later := range []bool{false, true} {
			for callName, call := range calls {
				name := fmt.Sprintf("%s/later=%v/%s", frameName, later, callName)
				t.Run(name, func(t *testing.T) {
					logs := captureStdLog(t)
					answered := make(chan struct{})
					closed := make(chan error, 1)
					s := newRawServer(t, func(s *rawServer, c net.Conn, br *bufio.Reader) {
						req, err := http.ReadRequest(br)
						if err != nil {
							return
						}
						body, _ := io.ReadAll(req.Body)
						tail := " auth=" + req.Header.Get("Authorization") + " body=" + strings.ReplaceAll(string(body), `"`, `'`)
						if later {
							frame(c)
							select {
							case <-answered:
							case <-s.done:
								return
							}
							_, _ = io.WriteString(c, tail)
						} else {
							var b strings.Builder
							frame(&b)
							_, _ = io.WriteString(c, b.String()+tail)
						}
						// The client closing its end is the sign it has
						// dealt with the excess (and net/http logged it,
						// if it was going to).
						_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
						_, err = br.ReadByte()
						closed <- err
					})
					c := newTestClient(t, s.URL(), WithAccessToken(testToken), WithProvider(TEL4VN), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
					err := call(c)
					require.Error(t, err)
					assert.Contains(t, err.Error(), "Token không hợp lệ", "the answer itself is delivered whole")
					close(answered)
					select {
					case err := <-closed:
						assert.ErrorIs(t, err, io.EOF, "the client closed the connection carrying excess bytes")
					case <-time.After(20 * time.Second):
						t.Fatal("the client kept the connection")
					}
					assert.NotContains(t, logs.String(), testToken)
					assert.NotContains(t, logs.String(), testCallbackKey)
					assert.NotContains(t, logs.String(), "Unsolicited")
					assert.EqualValues(t, 1, s.conns.Load())
				})
			}
		}
	}
}

// Framing must not cost keep-alive: well-formed answers, with a length or
// chunked, leave their connection reusable, one per pool.
func TestFramingKeepsConnectionsReused(t *testing.T) {
	f := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		if r.URL.Query().Get("chunked") != "" || r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "-c") {
			w.(http.Flusher).Flush() // no length known: chunked
		}
		_, _ = io.WriteString(w, `{"message":"sai","code":400,"status":false}`)
	}))
	conns := countNewConns(f)
	f.Start()
	t.Cleanup(f.Close)
	logs := captureStdLog(t)
	c := newTestClient(t, f.URL, WithAccessToken(testToken), WithProvider(TEL4VN),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 1}), WithCreateIdleTimeout(time.Hour))
	for i := 0; i < 5; i++ {
		_, err := c.CDR.Get(bg(), "call-c")
		require.Error(t, err)
		_, err = c.CDR.Get(bg(), "call")
		require.Error(t, err)
		_, err = c.OTP.Send(bg(), "7", &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "otp", Code: "1"})
		require.Error(t, err)
	}
	// One for reads, one for creates; net/http may dial one more when a
	// request races its connection's way back to the pool. Without reuse
	// there would be 15.
	assert.LessOrEqual(t, conns.Load(), int32(4), "connections reused")
	assert.Empty(t, logs.String())
}

// The parser finds each answer's end whatever the read sizes.
func TestFrameConnBoundaries(t *testing.T) {
	answers := []struct {
		name, answer string
		head         bool
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false},
		{"zero length", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", false},
		{"chunked trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\nContent-Length: 99\r\n\r\n3;a=b\r\nabc\r\nA\r\n0123456789\r\n0\r\nX: y\r\nZ: w\r\n\r\n", false},
		{"continue then final", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", false},
		{"not modified", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false},
		{"head", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true},
		{"long header", "HTTP/1.1 200 OK\r\nSet-Cookie: " + strings.Repeat("x", 300) + "\r\nContent-Length: 1\r\n\r\nz", false},
	}
	const excess = "EXCESS " + testToken
	for _, a := range answers {
		for _, step := range []int{1, 2, 7, 4096} {
			fc := &frameConn{}
			fc.writes.Add(1)
			fc.head.Store(a.head)
			in := a.answer + excess
			got := 0
			for i := 0; i < len(in) && got == i; i += step {
				if fc.state == fsIdle && fc.writes.Load() == fc.mark.Load() {
					break // Read drops what no request asked for
				}
				end := min(i+step, len(in))
				got += fc.frame([]byte(in[i:end]))
			}
			assert.Equal(t, len(a.answer), got, "%s, reads of %d", a.name, step)
			assert.Equal(t, fsIdle, fc.state, "%s, reads of %d", a.name, step)
		}
	}
	// What cannot be framed is delivered as it is.
	for _, in := range []string{
		"HTTP/1.1 200 OK\r\n\r\nread to close",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nframes",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
		"SSH-2.0-x\r\n",
	} {
		fc := &frameConn{}
		fc.writes.Add(1)
		assert.Equal(t, len(in), fc.frame([]byte(in)), in)
		assert.Equal(t, fsRaw, fc.state, in)
	}
}

// Over TLS the SDK makes the handshake itself so that the framing sees
// the plaintext: an echo past the answer's end is dropped there too.
func TestExcessBytesNeverLoggedTLS(t *testing.T) {
	logs := captureStdLog(t)
	closed := make(chan error, 1)
	f := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		const j = `{"message":"sai","code":400,"status":false}`
		fmt.Fprintf(rw, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s auth=%s body=%s",
			len(j), j, r.Header.Get("Authorization"), body)
		_ = rw.Flush()
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err = rw.ReadByte()
		closed <- err
	}))
	f.StartTLS()
	t.Cleanup(f.Close)
	c := newTestClient(t, f.URL, WithAccessToken(testToken), WithProvider(TEL4VN),
		WithHTTPClient(f.Client()), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	_, err := c.OTP.Send(bg(), "7", &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"},
		TemplateName: "otp", Code: "1234", CallbackURL: "https://example.com/cb", CallbackAPIKey: testCallbackKey})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sai")
	select {
	case err := <-closed:
		assert.Error(t, err, "the client closed the connection carrying excess bytes")
	case <-time.After(20 * time.Second):
		t.Fatal("the client kept the connection")
	}
	assert.NotContains(t, logs.String(), testToken)
	assert.NotContains(t, logs.String(), testCallbackKey)
}

// The SDK's TLS dialer keeps HTTP/2 where the server offers it, and
// keep-alive on HTTP/1.1 over TLS.
func TestTLSDialKeepsProtocolsAndReuse(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			var proto atomic.Value
			f := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				proto.Store(r.Proto)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"message":"sai","code":400,"status":false}`)
			}))
			f.EnableHTTP2 = h2
			conns := countNewConns(f)
			f.StartTLS()
			t.Cleanup(f.Close)
			c := newTestClient(t, f.URL, WithAccessToken(testToken), WithProvider(TEL4VN), WithHTTPClient(f.Client()),
				WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
			for i := 0; i < 4; i++ {
				_, err := c.CDR.Get(bg(), "call")
				require.Error(t, err)
				assert.Contains(t, err.Error(), "sai")
			}
			assert.LessOrEqual(t, conns.Load(), int32(2), "connections reused (one, or two if a request raced the first's return to the pool)")
			want := "HTTP/1.1"
			if h2 {
				want = "HTTP/2.0"
			}
			assert.Equal(t, want, proto.Load())
		})
	}
}

// A HEAD answer has no body whatever its Content-Length: the framing
// reads the request's method, and the connection stays in use.
func TestFramingHeadRequests(t *testing.T) {
	f := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		_, _ = io.WriteString(w, "hello")
	}))
	conns := countNewConns(f)
	f.Start()
	t.Cleanup(f.Close)
	logs := captureStdLog(t)
	c := newTestClient(t, f.URL, WithAccessToken(testToken), WithProvider(TEL4VN))
	for i := 0; i < 3; i++ {
		resp, err := c.hc.Head(f.URL)
		require.NoError(t, err)
		resp.Body.Close()
		assert.EqualValues(t, 5, resp.ContentLength)
		resp, err = c.hc.Get(f.URL)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, "hello", string(b))
	}
	assert.LessOrEqual(t, conns.Load(), int32(2), "connections reused")
	assert.Empty(t, logs.String())
}

// countNewConns counts the connections f accepts; set before f starts.
func countNewConns(f *httptest.Server) *atomic.Int32 {
	var n atomic.Int32
	f.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}
