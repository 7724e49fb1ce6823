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

// CreateOption changes how one call-creating request (OTP.Send, TTS.Run,
// TTS.ImportTemplate, AutoCall.ExecuteByPhone, ExecuteByExtension) is
// sent.
type CreateOption struct {
	onRateLimit func(retryAfter time.Duration)
}

// OnRateLimit makes the create leave a 429 to the caller: fn is called
// with the provider's Retry-After (0 when it gave none), and the 429 is
// returned (ErrRateLimited, ClassRateLimited; nothing was placed) instead
// of being resent after the RetryPolicy's wait. A batch of many workers
// uses it to pause all of them, then sends again when its own pause and
// rules allow (an advertising window may have closed meanwhile). Without
// it, the SDK resends a create answered 429, as it does a read.
func OnRateLimit(fn func(retryAfter time.Duration)) CreateOption {
	return CreateOption{onRateLimit: fn}
}

// onRateLimitOf is the last OnRateLimit among opts: nil when none.
func onRateLimitOf(opts []CreateOption) func(time.Duration) {
	var fn func(time.Duration)
	for _, o := range opts {
		if o.onRateLimit != nil {
			fn = o.onRateLimit
		}
	}
	return fn
}
