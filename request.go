package autocall

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-resty/resty/v2"

	"github.com/autocallvn/autocall-go/internal/envelope"
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
	limit   int64    // what is read of the answer; 0: maxResponseBody
	secrets []string // the request's own credentials (callback_apikey), redacted like the Client's
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
				return err
			}
		}
		err := c.send(ctx, r, body, tok, out)
		if try == 1 && !r.noAuth && c.tokens.refreshable && isTokenRejection(err) {
			c.tokens.invalidate(tok)
			continue
		}
		return err
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
}

// attempt sends r once.
func (c *Client) attempt(ctx context.Context, r *request, body []byte, tok string, n int, out any) (v verdict) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var wire wireTracker
	actx = wire.trace(actx)
	if r.creates {
		actx = withCreates(actx)
	}

	limit := r.limit
	if limit <= 0 {
		limit = maxResponseBody
	}
	req := c.rc.R().
		SetContext(actx).
		SetResponseBodyLimit(int(limit)).
		SetHeader("User-Agent", c.userAgent).
		SetHeader("Accept", "application/json")
	if body != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(body)
	}
	if tok != "" {
		// Per request, never on the shared resty client: a client-level
		// header races with requests in flight.
		if r.provider == omicall {
			req.SetHeader("Authorization", "Bearer "+tok)
		} else {
			req.SetHeader("Authorization", tok)
		}
	}
	target := c.baseURL + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}

	start := time.Now()
	resp, herr := req.Execute(r.method, target)
	status := 0
	if resp != nil && resp.RawResponse != nil {
		status = resp.StatusCode()
	}
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

	if herr != nil && !errors.Is(herr, resty.ErrResponseBodyTooLarge) {
		return c.transportFailure(ctx, r, herr, n, status != 0 || wire.mayHaveSent(c.counting, herr))
	}
	return c.answer(r, resp, out, herr != nil, limit)
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
	err := error(&TransportError{Method: r.method, Path: r.path, Attempts: n, Err: &redactedError{msg: c.redact.string(cause.Error(), r.secrets...), err: cause}})
	if reached && r.creates {
		return verdict{err: &OutcomeUnknownError{Method: r.method, Path: r.path, Err: err}}
	}
	return verdict{err: err, retryable: true}
}

// answer turns an HTTP answer into nil (data decoded into out) or an error.
func (c *Client) answer(r *request, resp *resty.Response, out any, tooLarge bool, limit int64) verdict {
	status, raw := resp.StatusCode(), resp.Body()
	var env envelope.Result
	if !tooLarge && utf8.Valid(raw) {
		if r.provider == omicall {
			env = envelope.OMICall(raw)
		} else {
			env = envelope.TEL4VN(raw)
		}
	}
	success := status >= 200 && status < 300 && env.Decoded && env.OK
	var decodeErr error
	if success {
		if decodeErr = decodeData(env.Data, out); decodeErr == nil {
			return verdict{}
		}
	}

	redact := func(s string) string { return c.redact.string(s, r.secrets...) }
	apiErr := &APIError{
		HTTPStatus:     status,
		ProviderStatus: env.StatusCode,
		Code:           ErrorCode(redact(env.Code)),
		Message:        redact(env.Message),
		Method:         r.method,
		Path:           r.path,
		RetryAfter:     parseRetryAfter(resp.Header(), time.Now()),
		// Redacted whole, then cut: a secret across the cut would keep its start.
		Body:       truncate([]byte(redact(string(raw))), maxErrorBody),
		unexpected: !env.Decoded || success,
	}
	switch {
	case decodeErr != nil:
		apiErr.Message = decodeErr.Error()
	case tooLarge:
		apiErr.Message = "body larger than " + strconv.FormatInt(limit, 10) + " bytes"
	case status >= 300 && status < 400:
		apiErr.unexpected = true
		apiErr.Message = "redirect" + redirectTarget(resp.Header()) + " not followed: the SDK follows no redirect"
	case !utf8.Valid(raw):
		apiErr.Message = "body is not valid UTF-8"
	case !env.Decoded:
		apiErr.Message = redact(textMessage(resp))
	}

	unknown := verdict{err: &OutcomeUnknownError{Method: r.method, Path: r.path, Err: apiErr}}
	switch {
	case status == http.StatusTooManyRequests:
		// Only an HTTP 429 proves the request was refused before any work.
		return verdict{err: apiErr, retryable: true, retryAfter: apiErr.RetryAfter}
	case status >= 500:
		if r.creates { // whatever the body says, the work may have been done
			return unknown
		}
		return verdict{err: apiErr, retryable: true, retryAfter: apiErr.RetryAfter}
	case r.creates && status >= 200 && status < 300 && apiErr.unexpected:
		return unknown
	case !r.creates && errors.Is(apiErr, ErrRateLimited):
		// A rate-limit code under another status: resending a read is harmless.
		return verdict{err: apiErr, retryable: true, retryAfter: apiErr.RetryAfter}
	}
	return verdict{err: apiErr}
}

// redirectTarget names the host a redirect points to, never its path or
// query, which may carry a credential.
func redirectTarget(h http.Header) string {
	u, err := url.Parse(h.Get("Location"))
	if err != nil || u.Host == "" {
		return ""
	}
	return " to " + u.Host
}

// decodeData decodes a success's data into out and checks it.
func decodeData(data json.RawMessage, out any) error {
	if out == nil {
		return nil
	}
	if len(data) == 0 {
		return errMissing("data")
	}
	if err := json.Unmarshal(data, out); err != nil {
		return errors.New("the answer's data does not decode: " + err.Error())
	}
	if ch, ok := out.(checker); ok {
		return ch.check()
	}
	return nil
}

// textMessage summarises a body that is not JSON: a short plain-text body
// ("Unauthorized") is kept, an HTML page is named, not quoted.
func textMessage(resp *resty.Response) string {
	raw := strings.TrimSpace(string(resp.Body()))
	ct := resp.Header().Get("Content-Type")
	switch {
	case raw == "":
		return "empty body"
	case strings.Contains(ct, "html") || strings.HasPrefix(raw, "<"):
		return "HTML page instead of JSON"
	case len(raw) <= 200 && utf8.ValidString(raw) && !strings.ContainsAny(raw, "{}"):
		return raw
	}
	return "body is not the documented JSON envelope"
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// redactedError shows a redacted text but keeps the cause for errors.Is/As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
