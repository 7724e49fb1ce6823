package autocall

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/autocallvn/autocall-go/internal/envelope"
)

// answer turns an HTTP answer into nil (data decoded into out) or an error.
//
// For a create, an answer that contradicts itself — an error status,
// envelope code or HTTP status (429 included) together with accepted call
// ids or a session id — is ErrOutcomeUnknown: the ids say calls may have
// been placed, so it is neither a refusal nor a rate limit, which would
// let the calls go again. So is a TEL4VN success that accepts no callee
// and does not name each one sent as refused.
func (c *Client) answer(r *request, status int, header http.Header, raw []byte, out any, tooLarge bool, limit int64) verdict {
	validUTF8 := !tooLarge && utf8.Valid(raw) // not UTF-8 is not a success
	fast := status >= 200 && status < 300 && validUTF8 && fastSuccess(r.provider, raw, out)
	var decodeErr error
	if fast {
		if decodeErr = unaccounted(out, r.callees); decodeErr == nil {
			return verdict{}
		}
	}
	var env envelope.Result
	if validUTF8 {
		if r.provider == omicall {
			env = envelope.OMICall(raw)
		} else {
			env = envelope.TEL4VN(raw)
		}
	}
	success := status >= 200 && status < 300 && env.Decoded && env.OK
	if success && !fast {
		if decodeErr = decodeData(env.Data, out); decodeErr == nil {
			if decodeErr = unaccounted(out, r.callees); decodeErr == nil {
				return verdict{}
			}
		}
	}

	// One matcher for the four texts: with a request secret of its own
	// (callback_apikey), matcherFor builds a new one on each call.
	redact := c.redact.matcherFor(r.secrets...).string
	apiErr := &APIError{
		HTTPStatus:     status,
		ProviderStatus: env.StatusCode,
		Code:           ErrorCode(redact(env.Code)),
		Message:        redact(env.Message),
		Method:         r.method,
		Path:           r.path,
		RetryAfter:     parseRetryAfter(header, time.Now()),
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
		apiErr.Message = redact("redirect" + redirectTarget(header) + " not followed: the SDK follows no redirect")
	case !validUTF8:
		apiErr.Message = "body is not valid UTF-8"
	case !env.Decoded:
		apiErr.Message = redact(textMessage(header, raw))
	}

	unknown := verdict{err: &OutcomeUnknownError{Method: r.method, Path: r.path, Err: apiErr}}
	switch {
	case r.creates && !success && env.Decoded && showsWork(r.provider, env.Data):
		// An answer that contradicts itself: an error status, code or HTTP
		// status next to accepted call ids or a session id. It comes first:
		// read as a refusal or a rate limit (429 included), the calls it
		// lists would be placed again.
		return unknown
	case status == http.StatusTooManyRequests:
		// Only an HTTP 429 proves the request was refused before any work.
		apiErr.class = ClassRateLimited
		return verdict{err: apiErr, retryable: true, retryAfter: apiErr.RetryAfter, limited: true}
	case status >= 500 || serverCode(env.StatusCode):
		// A 5xx in the envelope under any HTTP status is a server error too.
		if r.creates { // whatever the body says, the work may have been done
			return unknown
		}
		apiErr.class = ClassFailed
		return verdict{err: apiErr, retryable: true, retryAfter: apiErr.RetryAfter}
	case r.creates && (status < 200 || (status >= 300 && status < 400 && !redirectRepeat(status))):
		// A 101 is no answer to the request, and a 301, 302 or 303 may follow
		// work done (post, then redirect to the result): either may have
		// placed calls.
		apiErr.unexpected = true
		return unknown
	case r.creates && status >= 200 && status < 300 && apiErr.unexpected:
		return unknown
	case errors.Is(apiErr, ErrRateLimited) && (!r.creates || !apiErr.unexpected):
		// A rate-limit code under another status: no work was done.
		// Resending a read is harmless; a create's is reported, never
		// resent, since only a 429 is proof enough.
		apiErr.class = ClassRateLimited
		return verdict{err: apiErr, retryable: !r.creates, retryAfter: apiErr.RetryAfter}
	case apiErr.unexpected && status < 400:
		// Neither a result nor a refusal: a 307 or 308 (the SDK follows
		// no redirect), or a read's garbled answer.
		apiErr.class = ClassFailed
		return verdict{err: apiErr}
	}
	// The provider's refusal in its envelope, or any other 4xx: an answer
	// that did no work, since all that may have done some is unknown above.
	apiErr.class = ClassRefused
	return verdict{err: apiErr}
}

// serverCode: an envelope's own status (TEL4VN's code, OMICall's
// status_code) saying the server failed, which is no refusal.
func serverCode(n int) bool { return n >= 500 && n <= 599 }

// redirectRepeat: a 307 or 308 asks for the same request at another
// address, so the server did not do the work.
func redirectRepeat(status int) bool {
	return status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect
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
func textMessage(header http.Header, body []byte) string {
	raw := strings.TrimSpace(string(body))
	ct := header.Get("Content-Type")
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
