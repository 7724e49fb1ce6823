package autocall

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy says how often and how patiently reads are retried, and how
// long a call-creating request waits before it is resent after a 429 or a
// connection that was never made. Zero fields take the defaults.
type RetryPolicy struct {
	MaxAttempts int           // 1 = no retries; default 3
	BaseDelay   time.Duration // default 250ms, exponential with jitter
	MaxDelay    time.Duration // default 5s; also caps a server's Retry-After
}

// DefaultRetryPolicy returns the policy a Client uses unless told
// otherwise: 3 attempts, 250ms growing to at most 5s. A function, not a
// variable, so that no assignment anywhere changes every client.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, BaseDelay: 250 * time.Millisecond, MaxDelay: 5 * time.Second}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = d.BaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = d.MaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	return p
}

// delay is the wait before attempt n+1 (n ≥ 1): BaseDelay·2^(n-1) with
// "equal jitter" (half fixed, half random) so that many clients failing
// together do not come back together; a server's Retry-After wins when
// longer. Both are capped at MaxDelay.
func (p RetryPolicy) delay(n int, retryAfter time.Duration) time.Duration {
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	d = d/2 + rand.N(d/2+1)
	if retryAfter > d {
		d = retryAfter
	}
	return min(d, p.MaxDelay)
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(min(secs, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type rateLimitKey struct{}

// WithRateLimitNotice returns a ctx whose requests call fn each time the
// provider answers HTTP 429, with its Retry-After (0 when it gave none).
// A batch of many workers uses it to pause all of them, not only the one
// that was told to slow down. A read is then retried as usual; a
// call-creating request is not resent by the SDK: it returns the 429
// (ErrRateLimited; nothing was placed), and the caller sends it again when
// its own pause and rules allow (a batch's advertising window may have
// closed meanwhile).
func WithRateLimitNotice(ctx context.Context, fn func(retryAfter time.Duration)) context.Context {
	return context.WithValue(ctx, rateLimitKey{}, fn)
}

// noticeRateLimit tells ctx's notice, if any, of a 429; it reports whether
// there was one.
func noticeRateLimit(ctx context.Context, d time.Duration) bool {
	fn, ok := ctx.Value(rateLimitKey{}).(func(time.Duration))
	if ok && fn != nil {
		fn(d)
	}
	return ok && fn != nil
}
