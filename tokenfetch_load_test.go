package autocall

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowHandler is a log handler that takes its time, as one writing to a
// slow disk or a loaded machine does: time spent between attempts, outside
// each attempt's own timeout.
type slowHandler struct{ d time.Duration }

func (h slowHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (h slowHandler) Handle(context.Context, slog.Record) error { time.Sleep(h.d); return nil }
func (h slowHandler) WithAttrs([]slog.Attr) slog.Handler        { return h }
func (h slowHandler) WithGroup(string) slog.Handler             { return h }

// A token fetch whose attempts all time out makes every attempt its
// policy allows, however long the time between them: the fetch's own bound
// once cut the last one off on a loaded machine (TestFaultMatrix's
// 1 byte/s token cell).
func TestTokenFetchKeepsItsLastAttempt(t *testing.T) {
	s := newRawServer(t, func(s *rawServer, c net.Conn, br *bufio.Reader) {
		for s.readRequest(br) {
			<-s.done // never answers
		}
	})
	const timeout = 300 * time.Millisecond
	c := newTestClient(t, s.URL(), WithSecretKey(testSecretKey), WithTimeout(timeout),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}),
		WithLogger(slog.New(slowHandler{d: timeout * 6 / 10})))
	err := c.Authenticate(bg())
	require.ErrorIs(t, err, ErrNetwork)
	deadline := time.Now().Add(10 * time.Second)
	for s.requests.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // the server may read the last one after the client gave up
	}
	assert.EqualValues(t, 3, s.requests.Load(), "token requests that reached the server")
}
