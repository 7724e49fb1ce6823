package autocallriver

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/autocalltest"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testLogger() *slog.Logger {
	if os.Getenv("RIVER_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return quietLogger()
}

// Worker.Logger gets a warning for a job refused, with its key, state and
// cause, and nothing secret: not the OTP code, not the account's key.
func TestLoggerWarnsOfARefusedJobWithoutSecrets(t *testing.T) {
	srv := autocalltest.NewServer()
	t.Cleanup(srv.Close)
	pool, _ := newPool(t)
	var buf safeBuffer
	w := &Worker{Journal: newJournal(t, pool), TEL4VN: fastClient(t, srv.URL),
		Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	bad := otpArgs(2)
	bad.Callees, bad.Code = []string{"12345"}, "9137"
	startWorking(t, pool, w, 1, quickConfig(), bad)
	waitSettled(t, pool, 1, 20*time.Second)
	out := buf.String()
	for _, want := range []string{"job refused", "key=order-2", "cause=phone"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
	for _, secret := range []string{"9137", autocalltest.SecretKey} {
		if strings.Contains(out, secret) {
			t.Errorf("log %q holds a secret", out)
		}
	}
}

// safeBuffer is a bytes.Buffer for a logger written from River's goroutines.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
