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
)

// WaitOption configures CDR.Wait.
type WaitOption func(*waitSettings)

type waitSettings struct{ min, max time.Duration }

// WithPollInterval sets the first and the longest wait between two
// look-ups (default 1s growing to 15s).
func WithPollInterval(min, max time.Duration) WaitOption {
	return func(s *waitSettings) { s.min, s.max = min, max }
}

// Wait polls Get until the call has a final status and returns its CDR.
// A call the provider does not know yet (ErrNotFound) or a rate limit
// counts as still pending; other errors are returned. The wait between
// look-ups doubles from the poll interval's minimum to its maximum. When
// ctx ends, Wait returns at once with the last CDR seen (nil if none) and
// an error wrapping ctx.Err().
func (s *CDRService) Wait(ctx context.Context, callID string, opts ...WaitOption) (*CDR, error) {
	ws := waitSettings{min: DefaultPollMin, max: DefaultPollMax}
	for _, o := range opts {
		if o != nil {
			o(&ws)
		}
	}
	if ws.min <= 0 || ws.max < ws.min {
		return nil, invalid("PollInterval", fmt.Sprintf("%v..%v", ws.min, ws.max), "need 0 < min <= max")
	}
	if ctx == nil {
		return nil, errNilContext()
	}
	if _, err := pathSegment("CallID", callID); err != nil {
		return nil, err
	}
	var last *CDR
	delay := ws.min
	for {
		cdr, err := s.Get(ctx, callID)
		switch {
		case err == nil:
			last = cdr
			if cdr.Status.Final() {
				return cdr, nil
			}
		case ctx.Err() != nil:
			return last, fmt.Errorf("autocall: waiting for call %s: %w", callID, ctx.Err())
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrRateLimited):
		default:
			return last, err
		}
		if err := sleep(ctx, delay); err != nil {
			return last, fmt.Errorf("autocall: waiting for call %s: %w", callID, err)
		}
		delay = min(delay*2, ws.max)
	}
}
