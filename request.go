package autocall

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"time"
)

// Body limits: what is read of an answer, and what an APIError keeps of it.
// A request that places calls to n callees may read answerLimit(n): its
// answer lists a call id per callee, and the answer to a request that
// placed calls must never be lost to a size limit.
const (
	maxResponseBody = 1 << 20
	maxErrorBody    = 64 << 10
	perCalleeAnswer = 1 << 10 // a call id or a refusal is under 100 bytes
)

func answerLimit(callees int) int64 { return maxResponseBody + int64(callees)*perCalleeAnswer }

// The providers' wire differences: OMICall's envelope is status_code /
// payload and its header "Authorization: Bearer <token>"; TEL4VN's is
// data / status / code and "Authorization: <token>".
type provider = Provider

const (
	omicall = OMICall
	tel4vn  = TEL4VN
)

// request is one API operation.
type request struct {
	method   string
	path     string // escaped
	query    url.Values
	body     any
	provider provider
	noAuth   bool // the token endpoints themselves
	// creates: the request places calls, so it is resent only when the
	// previous attempt provably never reached the provider.
	creates bool
	callees int      // callees sent by a TEL4VN create, which its answer must account for
	limit   int64    // what is read of the answer; 0: maxResponseBody
	secrets []string // the request's own credentials (callback_apikey), redacted like the Client's
	// onRateLimit (OnRateLimit, creates only): a 429 is told to it and
	// returned, not resent.
	onRateLimit func(time.Duration)
}

// checker is implemented by results that can tell a real success from a
// 2xx that lacks what it must carry (an id-less auto-call answer).
type checker interface{ check() error }

type missingError struct{ field string }

func (e *missingError) Error() string { return "the answer has no " + e.field }

func errMissing(field string) error { return &missingError{field} }

// do sends r, decodes the envelope's data into out (when not nil) and
// returns nil or a typed error. A request rejected as unauthorized is sent
// once more with a freshly fetched token.
func (c *Client) do(ctx context.Context, r *request, out any) error {
	if ctx == nil {
		return errNilContext()
	}
	var body []byte
	if r.body != nil {
		var err error
		// Marshalled once: a []byte body is re-sent whole on every attempt.
		if body, err = json.Marshal(r.body); err != nil {
			return invalid("Body", "", err.Error())
		}
	}
	for try := 1; ; try++ {
		var tok string
		if !r.noAuth {
			var err error
			if tok, err = c.tokens.token(ctx); err != nil {
				// Typed, so that a batch can tell a create that never left.
				te := tokenError(r.method, r.path, err)
				te.Err = c.redact.error(te.Err, r.secrets...)
				return te
			}
		}
		err := c.send(ctx, r, body, tok, out)
		if try == 1 && !r.noAuth && c.tokens.refreshable && isTokenRejection(err) {
			c.tokens.invalidate(ctx, tok)
			continue
		}
		// Whatever the error and its chain hold: a token source's error,
		// a cause net/http quoted a header in.
		return c.redact.error(err, r.secrets...)
	}
}

// isTokenRejection: the answer says the token, not the request, is bad.
func isTokenRejection(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || errors.Is(err, ErrOutcomeUnknown) {
		return false
	}
	switch apiErr.Code {
	case CodeTokenExpired, CodeAuthInvalid, CodeAPIKeyInvalid:
		return true
	}
	return apiErr.HTTPStatus == http.StatusUnauthorized || apiErr.ProviderStatus == http.StatusUnauthorized
}

// send makes up to MaxAttempts attempts, waiting between them.
func (c *Client) send(ctx context.Context, r *request, body []byte, tok string, out any) error {
	for attempt := 1; ; attempt++ {
		v := c.attempt(ctx, r, body, tok, attempt, out)
		if v.limited && r.creates && r.onRateLimit != nil {
			// The caller who asked to be told paces its creates itself (a
			// batch waits for its shared pause and checks its rules again).
			r.onRateLimit(v.retryAfter)
			return v.err
		}
		if v.err == nil || !v.retryable || attempt >= c.retry.MaxAttempts || ctx.Err() != nil {
			return v.err
		}
		if werr := sleep(ctx, c.retry.delay(attempt, v.retryAfter)); werr != nil {
			return errors.Join(v.err, werr)
		}
	}
}

// verdict is what one attempt came to. retryable says whether sending the
// request again is both useful and safe: for a call-creating request, only
// when the attempt provably did not reach the provider, or was answered 429.
type verdict struct {
	err        error
	retryable  bool
	retryAfter time.Duration
	limited    bool // the answer was an HTTP 429
}

// attempt sends r once.
func (c *Client) attempt(ctx context.Context, r *request, body []byte, tok string, n int, out any) (v verdict) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	wire := newWireTracker(ctx)
	actx = httptrace.WithClientTrace(actx, wire.ct)
	limit := r.limit
	if limit <= 0 {
		limit = maxResponseBody
	}
	// The body is read here, sized by Content-Length and bounded by limit;
	// resty would copy it three times. User-Agent and Accept are set once
	// on the resty client.
	rc := c.rc
	if r.noAuth {
		rc = c.rcClose
	}
	req := rc.R().SetContext(actx).SetDoNotParseResponse(true)
	// Header values are shared, read-only slices (resty shares its client
	// headers' the same way; it and net/http copy, never write into them):
	// two allocations a request fewer.
	if body != nil {
		req.Header["Content-Type"] = jsonContentType
		req.SetBody(body)
	}
	if tok != "" {
		// Per request, never on the shared resty client: a client-level
		// header races with requests in flight.
		req.Header["Authorization"] = c.authorization(r.provider, tok)
	}
	target := c.baseURL + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}

	start := time.Now()
	resp, herr := req.Execute(r.method, target)
	var (
		status   int
		header   http.Header
		raw      []byte
		tooLarge bool
	)
	if resp != nil && resp.RawResponse != nil {
		status, header = resp.StatusCode(), resp.Header()
		if herr == nil {
			raw, tooLarge, herr = readBody(resp.RawResponse, limit)
		}
		_ = resp.RawResponse.Body.Close()
	}
	if c.logger.Enabled(ctx, slog.LevelDebug) {
		defer func() {
			attrs := []slog.Attr{
				slog.String("method", r.method), slog.String("path", r.path),
				slog.Int("status", status), slog.Int("attempt", n),
				slog.Duration("duration", time.Since(start)),
			}
			if v.err != nil {
				attrs = append(attrs, slog.String("error", c.redact.string(v.err.Error(), r.secrets...)))
			}
			c.logger.LogAttrs(ctx, slog.LevelDebug, "autocall request", attrs...)
		}()
	}

	if herr != nil {
		return c.transportFailure(ctx, r, herr, n, status != 0 || wire.mayHaveSent(c.counting, herr))
	}
	wire.release() // only after a whole answer: no hook of this attempt can still fire
	return c.answer(r, status, header, raw, out, tooLarge, limit)
}

var jsonContentType = []string{"application/json"}

// authHeader is the Authorization value of one token, built once.
type authHeader struct {
	p   provider
	tok string
	val []string
}

// authorization returns tok's Authorization header value, "Bearer <token>"
// for OMICall, the token itself for TEL4VN; the last one is kept, since a
// token serves many requests.
func (c *Client) authorization(p provider, tok string) []string {
	if h := c.auth.Load(); h != nil && h.tok == tok && h.p == p {
		return h.val
	}
	v := tok
	if p == omicall {
		v = "Bearer " + tok
	}
	h := &authHeader{p: p, tok: tok, val: []string{v}}
	c.auth.Store(h)
	return h.val
}

// ownSecrets is a request's own secrets (callback_apikey), nil when none.
func ownSecrets(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// readBody reads an answer's body, at most limit bytes, with one buffer
// sized by Content-Length when the server gives it.
func readBody(resp *http.Response, limit int64) (body []byte, tooLarge bool, err error) {
	n := resp.ContentLength
	if n > limit {
		return nil, true, nil
	}
	size := int64(512)
	if n >= 0 {
		size = n + 1 // room for the read that reports EOF
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) { // a chunked answer of unknown length: double
			buf = slices.Grow(buf, cap(buf))
		}
		m, rerr := resp.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if int64(len(buf)) > limit {
			return nil, true, nil
		}
		if rerr == io.EOF {
			return buf, false, nil
		}
		if rerr != nil {
			return nil, false, rerr
		}
	}
}

// transportFailure classifies an attempt that got no complete answer.
func (c *Client) transportFailure(ctx context.Context, r *request, cause error, n int, reached bool) verdict {
	var ue *url.Error
	if errors.As(cause, &ue) {
		cause = ue.Err // its text holds the full URL, query and API key included
	}
	if ctx.Err() != nil {
		cause = ctx.Err() // the caller gave up, not the network
	}
	err := error(&TransportError{Method: r.method, Path: r.path, Attempts: n, Err: c.redact.error(cause, r.secrets...)})
	if reached && r.creates {
		return verdict{err: &OutcomeUnknownError{Method: r.method, Path: r.path, Err: err}}
	}
	return verdict{err: err, retryable: true}
}
