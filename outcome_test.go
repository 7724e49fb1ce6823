package autocall

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each failure carries the class the SDK decided where it read the answer
// (or found none), and its cause: what a batch and a command read instead
// of rebuilding it from sentinels.
func TestOutcomeOfEachFailure(t *testing.T) {
	answer := func(status int, body string, header ...string) func(http.ResponseWriter, *http.Request, []byte) {
		return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			if body != "" && body[0] == '<' {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				_, _ = w.Write([]byte(body))
				return
			}
			writeJSON(w, status, body)
		}
	}
	cases := []struct {
		name    string
		creates bool
		h       func(http.ResponseWriter, *http.Request, []byte)
		want    Outcome
	}{
		{"create 429", true, answer(429, `{"status_code":429,"message":"rate_limit_exceeded"}`, "Retry-After", "3"),
			Outcome{Class: ClassRateLimited, Cause: CauseRate, RetryAfter: 3 * time.Second}},
		{"create, rate-limit code under 400", true, answer(400, `{"status_code":400,"message":"rate_limit_exceeded"}`, "Retry-After", "7"),
			Outcome{Class: ClassRateLimited, Cause: CauseRate, RetryAfter: 7 * time.Second}},
		{"create, quota", true, answer(400, `{"status_code":400,"message":"limit_service"}`), Outcome{Class: ClassRefused, Cause: CauseQuota}},
		{"create, session text too long", true, answer(400, `{"status_code":400,"message":"limit_word_session"}`), Outcome{Class: ClassRefused, Cause: CauseTemplate}},
		{"create, caller", true, answer(400, `{"status_code":400,"message":"number_call_out_invalid"}`), Outcome{Class: ClassRefused, Cause: CauseCaller}},
		{"create, HTML under 400", true, answer(400, `<html>bad</html>`), Outcome{Class: ClassRefused, Cause: CauseOther}},
		{"create, HTML under 403", true, answer(403, `<html>no</html>`), Outcome{Class: ClassRefused, Cause: CauseAuth}},
		{"create, 500", true, answer(500, `{"status_code":500,"message":"boom"}`), Outcome{Class: ClassUnknown}},
		{"create, 302", true, answer(302, ``, "Location", "/done"), Outcome{Class: ClassUnknown}},
		{"create, 307", true, answer(307, ``, "Location", "/again"), Outcome{Class: ClassFailed, Cause: CauseServer}},
		{"read, template named in data.error", false, answer(404, `{"code":404,"status":false,"data":{"error":"template not found"}}`), Outcome{Class: ClassRefused, Cause: CauseTemplate}},
		{"read, 503", false, answer(503, `<html>busy</html>`), Outcome{Class: ClassFailed, Cause: CauseServer}},
		{"read, HTML under 200", false, answer(200, `<html>ok</html>`), Outcome{Class: ClassFailed, Cause: CauseServer}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t)
			r, p := readReq(), "GET "+readPath
			if tc.creates {
				r, p = createReq(), "POST "+createPath
			}
			f.handle(p, tc.h)
			c := newTestClient(t, f.URL, WithAccessToken(testToken), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
			err := c.do(bg(), r, &testResult{})
			require.Error(t, err)
			assert.Equal(t, tc.want, OutcomeOf(err), "%v", err)
			var apiErr *APIError
			if errors.As(err, &apiErr) && tc.want.Class != ClassUnknown {
				assert.Equal(t, tc.want, apiErr.Outcome(), "the same through errors.As")
			}
		})
	}
}

func TestOutcomeWithoutAnAnswer(t *testing.T) {
	dead := deadURL(t)

	c := newTestClient(t, dead, WithAccessToken(testToken))
	_, err := doRead(c)
	assert.Equal(t, Outcome{Class: ClassNotSent, Cause: CauseNetwork}, OutcomeOf(err), "%v", err)

	c = newTestClient(t, dead, WithSecretKey(testSecretKey))
	_, err = doRead(c)
	assert.Equal(t, Outcome{Class: ClassNotSent, Cause: CauseToken}, OutcomeOf(err), "%v", err)

	f := newFakeAPI(t)
	c = newTestClient(t, f.URL, WithSecretKey("sk-not-the-one"))
	_, err = doRead(c)
	assert.Equal(t, Outcome{Class: ClassNotSent, Cause: CauseAuth}, OutcomeOf(err), "%v", err)

	_, err = c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Phones: []string{"12345"}})
	assert.Equal(t, ClassInvalid, OutcomeOf(err).Class, "%v", err) // a TEL4VN client: the wrong provider
	_, err = c.OTP.Send(bg(), "1", &OTPRequest{Caller: "02873001234", Callees: []string{"12345"}, TemplateName: "otp", Code: "1"})
	assert.Equal(t, Outcome{Class: ClassInvalid, Cause: CausePhone}, OutcomeOf(err), "%v", err)
	_, err = c.TTS.Run(bg(), "1", &TTSRequest{Caller: "02873001234", Callees: []string{"0912000003"}, TemplateName: "t",
		Params: map[string]string{"name": " "}})
	assert.Equal(t, Outcome{Class: ClassInvalid, Cause: CauseTemplate}, OutcomeOf(err), "%v", err)

	assert.Equal(t, Outcome{}, OutcomeOf(nil))
	assert.Equal(t, Outcome{}, OutcomeOf(errors.New("not the SDK's")))
	assert.Equal(t, "rate_limited", ClassRateLimited.String())
}

// deadURL is a loopback address nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

// With OnRateLimit, a create answered 429 is told and returned, not
// resent: the caller paces it. Without, the SDK resends it (a 429 placed
// nothing). Nothing in ctx changes the rule.
func TestOnRateLimitLeavesA429ToTheCaller(t *testing.T) {
	const otpPath = "/api/v2/campaigns/1/otp"
	for _, told := range []bool{true, false} {
		f := newFakeAPI(t)
		var n atomic.Int32
		f.handle("POST "+otpPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			if n.Add(1) == 1 {
				w.Header().Set("Retry-After", "2")
				writeJSON(w, 429, `{"code":429,"status":false,"data":{"error":"rate_limit_exceeded"}}`)
				return
			}
			writeJSON(w, 200, `{"data":{"campaign_id":"1","results":{"success":["1_1_1_5_u_0912000003"],"fail":[]}}}`)
		})
		c := newTestClient(t, f.URL, WithAccessToken(testToken),
			WithRetryPolicy(RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}))
		req := &OTPRequest{Caller: "02873001234", Callees: []string{"0912000003"}, TemplateName: "otp", Code: "4711"}
		var got []time.Duration
		var opts []CreateOption
		if told {
			opts = append(opts, OnRateLimit(func(d time.Duration) { got = append(got, d) }))
		}
		_, err := c.OTP.Send(bg(), "1", req, opts...)
		if told {
			require.ErrorIs(t, err, ErrRateLimited)
			assert.NotErrorIs(t, err, ErrOutcomeUnknown)
			assert.Equal(t, Outcome{Class: ClassRateLimited, Cause: CauseRate, RetryAfter: 2 * time.Second}, OutcomeOf(err))
			assert.Equal(t, int32(1), n.Load(), "the SDK did not resend the create")
			assert.Equal(t, []time.Duration{2 * time.Second}, got)
		} else {
			require.NoError(t, err)
			assert.Equal(t, int32(2), n.Load())
		}
	}
}

// After a token fetch fails, the Client does not ask again during its
// back-off; the error it returns meanwhile says it is that earlier
// failure and when the next try is, and still matches what it matched.
// After RetryAt the source is asked again.
func TestTokenFailureServedFromMemorySaysSo(t *testing.T) {
	f := newFakeAPI(t)
	var down atomic.Bool
	down.Store(true)
	var fetches atomic.Int32
	inner := f.Config.Handler
	f.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/users/generate_access_token" {
			fetches.Add(1)
			if down.Load() {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					_ = conn.Close() // no answer: a network failure
				}
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
	f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, okRead) })
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	var clock atomic.Int64
	clock.Store(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	c.tokens.now = func() time.Time { return time.Unix(0, clock.Load()).UTC() }

	_, err := doRead(c)
	var first *TokenError
	require.ErrorAs(t, err, &first)
	assert.False(t, first.Cached, "the first failure is fresh")
	assert.NotContains(t, err.Error(), "earlier failure")
	require.ErrorIs(t, err, ErrNetwork)
	asked := fetches.Load()

	down.Store(false) // the source is back, but the back-off holds
	clock.Add(int64(300 * time.Millisecond))
	_, err = doRead(c)
	var te *TokenError
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Cached)
	assert.Equal(t, time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC), te.FailedAt)
	assert.Equal(t, time.Date(2025, 3, 1, 9, 0, 1, 0, time.UTC), te.RetryAt, "a second's back-off after the first failure")
	assert.ErrorIs(t, err, ErrNotSent)
	assert.ErrorIs(t, err, ErrNetwork, "still the network failure it was")
	assert.Contains(t, err.Error(), "the token source's earlier failure at 2025-03-01T09:00:00Z, not asked again until 2025-03-01T09:00:01Z")
	assert.Equal(t, Outcome{Class: ClassNotSent, Cause: CauseToken}, OutcomeOf(err))
	assert.Equal(t, asked, fetches.Load(), "not asked during the back-off")

	aerr := c.Authenticate(context.Background())
	require.ErrorAs(t, aerr, &te)
	assert.True(t, te.Cached)
	assert.Contains(t, aerr.Error(), "autocall: no token: ")
	assert.Contains(t, aerr.Error(), "earlier failure")

	clock.Add(int64(time.Second))
	_, err = doRead(c)
	require.NoError(t, err, "asked again after RetryAt")
	assert.Equal(t, asked+1, fetches.Load())
}
