package autocall

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fault matrix: every endpoint against every fault, served by a raw TCP
// server of the test's own (below net/http's server, not autocalltest). Each
// cell asserts how many requests reached the endpoint and which sentinels
// the error matches; a call-creating request is never seen twice unless the
// fault is one that proves the first was refused (429, 401).
//
//	go test -run TestFaultMatrix -matrix-md RELIABILITY.matrix.md .
//
// writes the table that RELIABILITY.md shows.
var matrixMD = flag.String("matrix-md", "", "write the fault matrix as a Markdown table to this file")

// matrixEndpoint is one SDK entry point.
type matrixEndpoint struct {
	name     string
	path     string // the path the fault applies to
	creates  bool
	token    bool // the endpoint is a token fetch
	provider provider
	ok       string // a success answer
	call     func(ctx context.Context, c *Client) error
}

const matrixCampaign = "/api/v2/campaigns/7"

var matrixEndpoints = []matrixEndpoint{
	{name: "ExecuteByPhone", path: "/api/auto_call/execute_by_phone", creates: true, provider: omicall,
		ok: `{"status_code":9999,"payload":{"autocall_id":"a1"}}`,
		call: func(ctx context.Context, c *Client) error {
			_, err := c.AutoCall.ExecuteByPhone(ctx, &PhoneCallRequest{Dialplan: NewDialplan().Text("Xin chào"), Phones: []string{"0987654321"}})
			return err
		}},
	{name: "ExecuteByExtension", path: "/api/auto_call/execute_by_extension", creates: true, provider: omicall,
		ok: `{"status_code":9999,"payload":{"autocall_id":"a1","autocall_uuids":["u1"]}}`,
		call: func(ctx context.Context, c *Client) error {
			_, err := c.AutoCall.ExecuteByExtension(ctx, &ExtensionCallRequest{CID: "02873001234", Extensions: []string{"101"}, Dialplan: NewDialplan().Recording("r1")})
			return err
		}},
	{name: "OTP.Send", path: matrixCampaign + "/otp", creates: true, provider: tel4vn,
		ok: `{"data":{"campaign_id":7,"results":{"success":["1_1_1_7_x_0987654321"],"fail":[]}}}`,
		call: func(ctx context.Context, c *Client) error {
			_, err := c.OTP.Send(ctx, "7", &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "otp", Code: "1234",
				CallbackURL: "https://example.com/cb", CallbackAPIKey: testCallbackKey})
			return err
		}},
	{name: "TTS.ImportTemplate", path: matrixCampaign + "/voice/import", creates: true, provider: tel4vn,
		ok: `{"data":{"name":"t1"}}`,
		call: func(ctx context.Context, c *Client) error {
			return c.TTS.ImportTemplate(ctx, "7", &Template{Name: "t1", Content: "Chào {{name}}"})
		}},
	{name: "TTS.Run", path: matrixCampaign + "/voice", creates: true, provider: tel4vn,
		ok: `{"data":{"campaign_id":7,"results":{"success":["1_1_1_7_x_0987654321"],"fail":[]}}}`,
		call: func(ctx context.Context, c *Client) error {
			_, err := c.TTS.Run(ctx, "7", &TTSRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "t1",
				Params: map[string]string{"name": "Nguyễn Văn A"}})
			return err
		}},
	{name: "CDR.Get", path: "/api/v2/report/c1", provider: tel4vn,
		ok: `{"data":{"id":"c1","status":"ANSWERED"}}`,
		call: func(ctx context.Context, c *Client) error {
			_, err := c.CDR.Get(ctx, "c1")
			return err
		}},
	{name: "token (secret key)", path: "/api/v1/users/generate_access_token", token: true, provider: tel4vn,
		ok:   `{"data":{"access_token":"` + testToken + `","expire_at":3600}}`,
		call: func(ctx context.Context, c *Client) error { return c.Authenticate(ctx) }},
	{name: "token (API key)", path: "/api/auth", token: true, provider: omicall,
		ok:   `{"status_code":9999,"payload":{"access_token":"` + testToken + `"}}`,
		call: func(ctx context.Context, c *Client) error { return c.Authenticate(ctx) }},
}

// testCallbackKey is a request's callback_apikey: a secret too.
const testCallbackKey = "cbk-77aa66bb-CALLBACK"

// rawAnswer writes an HTTP/1.1 answer by hand.
func rawAnswer(c net.Conn, status int, ctype, body string, extra ...string) {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	if ctype != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", ctype)
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	_, _ = io.WriteString(c, b.String())
}

// echo is what a careless server puts in an error: the credential it got.
func echo(r *http.Request, body []byte) string {
	return strings.ReplaceAll(strings.ReplaceAll(r.Header.Get("Authorization")+" "+r.URL.RawQuery+" "+string(body), `"`, `'`), "\n", " ")
}

// errorBody is the provider's own error envelope.
func errorBody(p provider, status int, code, msg string) string {
	if p == omicall {
		return fmt.Sprintf(`{"status_code":%d,"message":%q,"payload":{"error":%q,"message":%q}}`, status, code, code, msg)
	}
	return fmt.Sprintf(`{"messsage":%q,"code":%d,"status":false,"data":{"error":%q}}`, msg, status, code)
}

// matrixFault misbehaves on the n-th request (from 1) to the endpoint's
// path; it returns false to close the connection.
type matrixFault struct {
	name   string
	slow   bool // the fault waits for the client's timeout: a short one
	serve  func(e matrixEndpoint, n int, c net.Conn, r *http.Request, body []byte, other string) bool
	expect func(e matrixEndpoint) cellWant
	only   func(e matrixEndpoint) bool // nil: every endpoint
}

type cellWant struct {
	requests, upTo int     // to the endpoint's path: requests, or up to upTo
	is             []error // every one must match; nil: success
}

func want(n int, is ...error) cellWant { return cellWant{requests: n, upTo: n, is: is} }

// Expectations by kind: a create is sent once whatever happens, a read is
// tried MaxAttempts (3) times when retrying can help.
func once(create, read []error) func(matrixEndpoint) cellWant {
	return func(e matrixEndpoint) cellWant {
		if e.creates {
			return want(1, create...)
		}
		return want(1, read...)
	}
}

func retried(create, read []error) func(matrixEndpoint) cellWant {
	return func(e matrixEndpoint) cellWant {
		if e.creates {
			return want(1, create...)
		}
		w := want(3, read...)
		if e.path == "/api/v2/report/c1" || e.path == "/api/auth" {
			// net/http itself resends a GET that fails on a reused
			// connection before any answer: harmless for a read.
			w.upTo = 6
		}
		return w
	}
}

func errs(e ...error) []error { return e }

var (
	unknownNet   = errs(ErrOutcomeUnknown, ErrNetwork)
	unknownOdd   = errs(ErrOutcomeUnknown, ErrUnexpectedResponse)
	unknownSrv   = errs(ErrOutcomeUnknown, ErrServer)
	netErr       = errs(ErrNetwork)
	oddErr       = errs(ErrUnexpectedResponse)
	srvErr       = errs(ErrServer)
	limitedErr   = errs(ErrRateLimited, ErrRefused)
	unauthorized = errs(ErrUnauthorized, ErrRefused)
)

func serveOK(e matrixEndpoint, c net.Conn) bool {
	rawAnswer(c, 200, "application/json", e.ok)
	return true
}

func hugeBody() string {
	return `{"data":{"pad":"` + strings.Repeat("a", 2<<20) + `"},"status_code":9999,"payload":{"pad":1}}`
}

var matrixFaults = []matrixFault{
	{name: "connection refused", expect: func(matrixEndpoint) cellWant { return want(0, ErrNetwork) }},
	{name: "close after headers", serve: func(_ matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
		return false
	}, expect: retried(unknownNet, netErr)},
	{name: "reset after read", serve: func(_ matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		reset(c)
		return false
	}, expect: retried(unknownNet, netErr)},
	{name: "reset mid-answer", serve: func(e matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(e.ok), e.ok[:len(e.ok)/2])
		time.Sleep(5 * time.Millisecond)
		reset(c)
		return false
	}, expect: retried(unknownNet, netErr)},
	{name: "hang", slow: true, serve: func(_ matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		_, _ = io.Copy(io.Discard, c) // until the client gives up
		return false
	}, expect: retried(unknownNet, netErr)},
	{name: "1 byte/s body", slow: true, serve: func(e matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(e.ok))
		for i := 0; i < len(e.ok); i++ {
			if _, err := c.Write([]byte{e.ok[i]}); err != nil {
				return false
			}
			time.Sleep(time.Second)
		}
		return false
	}, expect: retried(unknownNet, netErr)},
	{name: "HTML 502", serve: func(_ matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>")
		return true
	}, expect: retried(errs(ErrOutcomeUnknown, ErrServer, ErrUnexpectedResponse), errs(ErrServer, ErrUnexpectedResponse))},
	{name: "503 Retry-After", serve: func(e matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 503, "application/json", errorBody(e.provider, 503, "maintenance", "Service Unavailable"), "Retry-After: 1")
		return true
	}, expect: retried(unknownSrv, srvErr)},
	{name: "500, rate-limit code in body", serve: func(_ matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 500, "application/json", `{"status_code":429,"message":"rate_limit_exceeded"}`)
		return true
	}, expect: retried(unknownSrv, srvErr)},
	{name: "429 Retry-After seconds", serve: func(e matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 429, "application/json", errorBody(e.provider, 429, "rate_limit_exceeded", "slow down"), "Retry-After: 1")
		return true
	}, expect: func(matrixEndpoint) cellWant { return want(3, limitedErr...) }},
	{name: "429 Retry-After date", serve: func(e matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 429, "application/json", errorBody(e.provider, 429, "rate_limit_exceeded", "slow down"),
			"Retry-After: "+time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))
		return true
	}, expect: func(matrixEndpoint) cellWant { return want(3, limitedErr...) }},
	{name: "429, no Retry-After", serve: func(_ matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 429, "text/plain", "Too Many Requests")
		return true
	}, expect: func(matrixEndpoint) cellWant { return want(3, ErrRateLimited) }},
	{name: "truncated JSON", serve: func(e matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 200, "application/json", e.ok[:len(e.ok)-3])
		return true
	}, expect: once(unknownOdd, oddErr)},
	{name: "{}", serve: func(_ matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 200, "application/json", "{}")
		return true
	}, expect: once(unknownOdd, oddErr)},
	{name: "empty 200", serve: func(_ matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 200, "application/json", "")
		return true
	}, expect: once(unknownOdd, oddErr)},
	{name: "error envelope in a 200", serve: func(e matrixEndpoint, _ int, c net.Conn, r *http.Request, body []byte, _ string) bool {
		rawAnswer(c, 200, "application/json", errorBody(e.provider, 400, "limit_service", "echo: "+echo(r, body)))
		return true
	}, expect: once(errs(ErrLimitService, ErrRefused), errs(ErrLimitService, ErrRefused))},
	{name: "unknown code, 409", serve: func(e matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 409, "application/json", errorBody(e.provider, 409, "campaign_not_active", "Campaign is not active"))
		return true
	}, expect: once(errs(ErrRefused), errs(ErrRefused))},
	{name: "401 once", serve: func(e matrixEndpoint, n int, c net.Conn, r *http.Request, body []byte, _ string) bool {
		if n == 1 {
			rawAnswer(c, 401, "application/json", errorBody(e.provider, 401, "token_expired", "echo: "+echo(r, body)))
			return true
		}
		return serveOK(e, c)
	}, expect: func(e matrixEndpoint) cellWant {
		if e.token { // the token endpoint's own 401 is the credential's refusal
			return want(1, unauthorized...)
		}
		return want(2)
	}},
	{name: "401 forever", serve: func(e matrixEndpoint, _ int, c net.Conn, r *http.Request, body []byte, _ string) bool {
		rawAnswer(c, 401, "application/json", errorBody(e.provider, 401, "auth_invalid", "echo: "+echo(r, body)))
		return true
	}, expect: func(e matrixEndpoint) cellWant {
		if e.token {
			return want(1, unauthorized...)
		}
		return want(2, unauthorized...) // one refetch of the token, then the refusal
	}},
	{name: "huge body (2 MiB)", serve: func(_ matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 200, "application/json", hugeBody())
		return true
	}, expect: once(unknownOdd, oddErr)},
	{name: "deep nesting", serve: func(_ matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 200, "application/json", `{"status_code":9999,"data":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`,"payload":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`}`)
		return true
	}, expect: once(unknownOdd, oddErr)},
	{name: "not UTF-8", serve: func(e matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 200, "application/json", `{"x":"\xff\xfe",`+e.ok[1:])
		return true
	}, expect: once(unknownOdd, oddErr)},
	{name: "307 to another host", serve: func(_ matrixEndpoint, _ int, c net.Conn, r *http.Request, _ []byte, other string) bool {
		rawAnswer(c, 307, "text/plain", "moved", "Location: "+other+r.URL.RequestURI())
		return true
	}, expect: once(oddErr, oddErr)},
	{name: "307 to the same host", serve: func(_ matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
		rawAnswer(c, 307, "text/plain", "moved", "Location: /elsewhere?apiKey="+testAPIKey)
		return true
	}, expect: once(oddErr, oddErr)},
	{name: "token with CR LF", only: func(e matrixEndpoint) bool { return e.token },
		serve: func(e matrixEndpoint, _ int, c net.Conn, _ *http.Request, _ []byte, _ string) bool {
			rawAnswer(c, 200, "application/json", strings.Replace(e.ok, testToken, `abc\r\nX-Injected: 1`, 1))
			return true
		}, expect: once(oddErr, oddErr)},
}

// matrixServer answers the token endpoints and other paths well and the
// endpoint under test with the fault, counting requests per path.
type matrixServer struct {
	*rawServer
	active atomic.Int64 // connections being served
	mu     sync.Mutex
	counts map[string]int
	bodies []string
}

func newMatrixServer(t *testing.T, e matrixEndpoint, f matrixFault, other string) *matrixServer {
	ms := &matrixServer{counts: map[string]int{}}
	ms.rawServer = newRawServer(t, func(s *rawServer, c net.Conn, br *bufio.Reader) {
		ms.active.Add(1)
		defer ms.active.Add(-1)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			body, _ := io.ReadAll(req.Body)
			ms.mu.Lock()
			ms.counts[req.URL.Path]++
			n := ms.counts[req.URL.Path]
			ms.bodies = append(ms.bodies, string(body))
			ms.mu.Unlock()
			keep := true
			switch {
			case req.URL.Path == e.path:
				keep = f.serve(e, n, c, req, body, other)
			case req.URL.Path == "/api/v1/users/generate_access_token":
				keep = serveOK(matrixEndpoints[6], c)
			case req.URL.Path == "/api/auth":
				keep = serveOK(matrixEndpoints[7], c)
			default:
				rawAnswer(c, 404, "text/plain", "not found")
			}
			if !keep {
				return
			}
		}
	})
	return ms
}

// settle waits until the server has served every connection to its end,
// so that a request the client wrote is counted even when the client gave
// up before the server, slowed down by a loaded machine, had read it.
func (ms *matrixServer) settle(t *testing.T, c *Client) {
	t.Helper()
	c.CloseIdleConnections()
	deadline := time.Now().Add(30 * time.Second)
	for ms.active.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still served", ms.active.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (ms *matrixServer) count(path string) int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.counts[path]
}

type cellResult struct {
	requests int
	sentinel string
}

func TestFaultMatrix(t *testing.T) {
	results := make([][]cellResult, len(matrixFaults))
	for i := range results {
		results[i] = make([]cellResult, len(matrixEndpoints))
	}
	t.Run("cells", func(t *testing.T) {
		for fi, f := range matrixFaults {
			for ei, e := range matrixEndpoints {
				if f.only != nil && !f.only(e) {
					results[fi][ei].sentinel = "—"
					continue
				}
				t.Run(f.name+"/"+e.name, func(t *testing.T) {
					t.Parallel()
					results[fi][ei] = runCell(t, f, e)
				})
			}
		}
	})
	if *matrixMD != "" {
		require.NoError(t, os.WriteFile(*matrixMD, []byte(matrixTable(results)), 0o644))
	}
}

func runCell(t *testing.T, f matrixFault, e matrixEndpoint) cellResult {
	// Another host, for the redirect: it must see nothing.
	otherHost := newRawServer(t, func(s *rawServer, c net.Conn, br *bufio.Reader) {
		if s.readRequest(br) {
			rawAnswer(c, 200, "application/json", e.ok)
		}
	})
	var base string
	var ms *matrixServer
	if f.serve == nil {
		base = refusedURL(t)
	} else {
		ms = newMatrixServer(t, e, f, otherHost.URL())
		base = ms.URL()
	}
	cred := WithSecretKey(testSecretKey)
	if e.provider == omicall {
		cred = WithAPIKey(testAPIKey)
	}
	var logs logBuffer
	timeout := 30 * time.Second // never reached but by the slow faults
	if f.slow {
		// Long enough for the token fetch before the fault on a loaded
		// machine (400 ms was not), short enough for a quick suite.
		timeout = time.Second
	}
	c := newTestClient(t, base, cred, WithTimeout(timeout), WithLogger(logs.logger()))
	err := e.call(bg(), c)

	w := f.expect(e)
	got := 0
	if ms != nil {
		ms.settle(t, c)
		got = ms.count(e.path)
	}
	if w.upTo > w.requests {
		assert.True(t, got >= w.requests && got <= w.upTo, "%d requests reached %s, want %d to %d", got, e.path, w.requests, w.upTo)
	} else {
		assert.Equal(t, w.requests, got, "requests that reached %s", e.path)
	}
	if e.creates && got > 1 {
		assert.True(t, errors.Is(err, ErrRateLimited) || errors.Is(err, ErrUnauthorized) || err == nil,
			"a create was seen %d times after a fault that proves nothing: %v", got, err)
	}
	if w.is == nil {
		require.NoError(t, err)
	} else {
		require.Error(t, err)
		for _, s := range w.is {
			assert.ErrorIs(t, err, s)
		}
	}
	assertTopSentinel(t, err)
	assert.Zero(t, otherHost.requests.Load(), "a redirect was followed to another host")
	if ms != nil {
		assert.Zero(t, ms.count("/elsewhere"), "a redirect was followed")
	}
	// No secret in the error, its APIError.Body, or the log.
	for _, s := range []string{errString(err), apiBody(err), logs.String()} {
		assertNoSecrets(t, "cell output", s)
		assert.NotContains(t, s, testCallbackKey)
	}
	return cellResult{requests: got, sentinel: sentinelNames(err)}
}

// topSentinels: every error matches at least one.
var topSentinels = []error{ErrValidation, ErrNetwork, ErrRefused, ErrServer, ErrUnexpectedResponse, ErrOutcomeUnknown}

func assertTopSentinel(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range topSentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Errorf("%v matches no sentinel", err)
}

var sentinelOrder = []struct {
	name string
	err  error
}{
	{"OutcomeUnknown", ErrOutcomeUnknown}, {"Network", ErrNetwork}, {"Server", ErrServer},
	{"UnexpectedResponse", ErrUnexpectedResponse}, {"RateLimited", ErrRateLimited},
	{"Unauthorized", ErrUnauthorized}, {"LimitService", ErrLimitService}, {"Refused", ErrRefused},
}

func sentinelNames(err error) string {
	if err == nil {
		return "ok"
	}
	var names []string
	for _, s := range sentinelOrder {
		if errors.Is(err, s.err) {
			names = append(names, s.name)
		}
	}
	return strings.Join(names, "+")
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func apiBody(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return string(apiErr.Body)
	}
	return ""
}

func matrixTable(results [][]cellResult) string {
	var b strings.Builder
	b.WriteString("| fault |")
	for _, e := range matrixEndpoints {
		b.WriteString(" " + e.name + " |")
	}
	b.WriteString("\n|---|")
	for range matrixEndpoints {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	dups := 0
	for fi, f := range matrixFaults {
		b.WriteString("| " + f.name + " |")
		for ei, e := range matrixEndpoints {
			r := results[fi][ei]
			if r.sentinel == "—" {
				b.WriteString(" — |")
				continue
			}
			if e.creates && r.requests > 1 && !strings.Contains(r.sentinel, "RateLimited") && !strings.HasPrefix(f.name, "401") {
				dups++
			}
			b.WriteString(" " + strconv.Itoa(r.requests) + " · " + r.sentinel + " |")
		}
		b.WriteString("\n")
	}
	keys := make([]string, 0, len(sentinelOrder))
	for _, s := range sentinelOrder {
		keys = append(keys, s.name)
	}
	sort.Strings(keys)
	fmt.Fprintf(&b, "\nCells: %d faults × %d endpoints. Each cell: requests that reached the endpoint · sentinels matched. "+
		"Duplicated creates (a create seen twice after a fault that proves nothing): %d.\n", len(matrixFaults), len(matrixEndpoints), dups)
	return b.String()
}
