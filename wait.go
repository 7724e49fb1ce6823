package autocall

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Default bounds of CDR.Wait's polling.
const (
	DefaultPollMin = time.Second
	DefaultPollMax = 15 * time.Second
	// DefaultNotFoundGrace is how long Wait takes "not found" to mean "not
	// reported yet": TEL4VN writes a report a little after the call starts.
	// A call id still unknown after it is a wrong id, and Wait says so.
	DefaultNotFoundGrace = 3 * time.Minute
)

// WaitOption configures CDR.Wait.
type WaitOption func(*waitSettings)

type waitSettings struct{ min, max, grace time.Duration }

// WithPollInterval sets the first and the longest wait between two
// look-ups (default 1s growing to 15s).
func WithPollInterval(min, max time.Duration) WaitOption {
	return func(s *waitSettings) { s.min, s.max = min, max }
}

// WithNotFoundGrace sets how long a call id the provider does not know is
// taken as not reported yet (default DefaultNotFoundGrace). After it, Wait
// returns the not-found error.
func WithNotFoundGrace(d time.Duration) WaitOption {
	return func(s *waitSettings) { s.grace = d }
}

// Wait polls Get until the call has a final status and returns its CDR.
// A call the provider does not know yet (ErrNotFound) counts as pending for
// the not-found grace period (WithNotFoundGrace), then is returned; a rate
// limit or a provider or network failure of a look-up counts as pending;
// other errors are returned. The wait between look-ups doubles from the poll
// interval's minimum to its maximum. When ctx ends, Wait returns at once
// with the last CDR seen (nil if none) and an error that matches both
// ctx.Err() and the last look-up's error, if any, so that the reason is
// never hidden behind "context deadline exceeded".
func (s *CDRService) Wait(ctx context.Context, callID CallID, opts ...WaitOption) (*CDR, error) {
	ws := waitSettings{min: DefaultPollMin, max: DefaultPollMax, grace: DefaultNotFoundGrace}
	for _, o := range opts {
		if o != nil {
			o(&ws)
		}
	}
	if ws.min <= 0 || ws.max < ws.min {
		return nil, invalid("PollInterval", fmt.Sprintf("%v..%v", ws.min, ws.max), "need 0 < min <= max")
	}
	if ws.grace < 0 {
		return nil, invalid("NotFoundGrace", ws.grace.String(), "negative")
	}
	if ctx == nil {
		return nil, errNilContext()
	}
	if _, err := pathSegment("CallID", string(callID)); err != nil {
		return nil, err
	}
	var (
		last     *CDR
		lastErr  error
		notFound time.Time // when the first of an unbroken run of not-founds came
	)
	gaveUp := func(cause error) error {
		if lastErr == nil {
			return fmt.Errorf("autocall: waiting for call %s: %w", callID, cause)
		}
		return fmt.Errorf("autocall: waiting for call %s: %w (last look-up: %w)", callID, cause, lastErr)
	}
	delay := ws.min
	for {
		cdr, err := s.Get(ctx, callID)
		switch {
		case err == nil:
			last, lastErr, notFound = cdr, nil, time.Time{}
			if cdr.Status.Final() {
				return cdr, nil
			}
		case ctx.Err() != nil:
			return last, gaveUp(ctx.Err())
		case errors.Is(err, ErrNotFound):
			lastErr = err
			if notFound.IsZero() {
				notFound = time.Now()
			}
			if time.Since(notFound) >= ws.grace {
				return last, fmt.Errorf("autocall: call %s still unknown to the provider after %v: %w", callID, ws.grace, err)
			}
		case errors.Is(err, ErrRateLimited), errors.Is(err, ErrServer), errors.Is(err, ErrNetwork):
			lastErr = err
		default:
			return last, err
		}
		if err := sleep(ctx, delay); err != nil {
			return last, gaveUp(err)
		}
		delay = min(delay*2, ws.max)
	}
}
