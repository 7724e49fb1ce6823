package autocall

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var keepAliveTries = flag.Int("keepalive-tries", 100, "tries per arm of TestCreateAtKeepAliveClose")

// keepAliveServer closes connections idle for idle and counts the creates
// it reads by client (each client names itself in its User-Agent).
type keepAliveServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
}

func newKeepAliveServer(t *testing.T, idle time.Duration) *keepAliveServer {
	s := &keepAliveServer{seen: map[string]int{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen[r.UserAgent()]++
		s.mu.Unlock()
		writeJSON(w, 200, okCreate)
	}))
	s.Config.IdleTimeout = idle
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *keepAliveServer) count(ua string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[ua]
}

// keepAliveRun has tries clients each send a create, wait pause() and send
// another, and returns how many second creates were ErrOutcomeUnknown. It
// checks that no client's create was read twice: a create reported unknown
// may or may not have been read (a loaded machine can time out an answer),
// but none may have been sent again.
func keepAliveRun(t *testing.T, srv *keepAliveServer, arm string, tries int, pause func() time.Duration, opts ...Option) (unknown int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < tries; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("%s-%d", arm, i)
			// A generous timeout: a loaded machine must not turn a slow
			// answer into an unknown outcome.
			c := newTestClient(t, srv.URL, append([]Option{WithAccessToken(testToken), WithTimeout(30 * time.Second), WithUserAgent(name)}, opts...)...)
			if _, err := doCreate(c); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(pause())
			_, err := doCreate(c)
			switch {
			case errors.Is(err, ErrOutcomeUnknown):
				mu.Lock()
				unknown++
				mu.Unlock()
			case err != nil:
				t.Error(err)
			}
			ua := "autocall-go/" + Version + " " + name
			assert.LessOrEqual(t, srv.count(ua), 2, "%s: a create was sent twice", name)
			if err == nil {
				assert.Equal(t, 2, srv.count(ua), "%s: both creates succeeded", name)
			}
		}()
	}
	wg.Wait()
	return unknown
}

// A create written just as the server closes an idle keep-alive connection
// is never read, yet nothing on this side can prove it: the SDK would
// report ErrOutcomeUnknown. Creates therefore never go out on a connection
// idle longer than three quarters of WithCreateIdleTimeout. This measures
// both arms on a server that closes idle connections after serverIdle
// (scaled down from Node.js's 5 s, the SDK's limit scaled the same way,
// 2 s : 5 s), each try sending its second create at the moment the server
// closes, give or take 10 ms.
func TestCreateAtKeepAliveClose(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for keep-alive timeouts")
	}
	const serverIdle = 500 * time.Millisecond
	srv := newKeepAliveServer(t, serverIdle)
	atClose := func() time.Duration { return serverIdle + time.Duration(rand.N(20)-10)*time.Millisecond }
	// One pool, no limit: the SDK before the creates' pool.
	before := keepAliveRun(t, srv, "before", *keepAliveTries, atClose, func(s *settings) { s.idle = noIdleLimit })
	after := keepAliveRun(t, srv, "after", *keepAliveTries, atClose, WithCreateIdleTimeout(serverIdle*2/5))
	t.Logf("false outcome-unknown at a keep-alive close: %d of %d without the limit, %d of %d with it",
		before, *keepAliveTries, after, *keepAliveTries)
	require.Zero(t, after)
}

// noIdleLimit makes the creates' pool keep connections as long as the
// reads' (tests only: the SDK before the creates' pool).
const noIdleLimit = time.Duration(1 << 62)

// A server closing idle connections at 1.9 s, just inside the default
// 2 s: a create on a connection idle for about that long must not be a
// false ErrOutcomeUnknown, since the SDK retires connections idle for
// three quarters of the limit.
func TestCreateIdleJustInsideDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for keep-alive timeouts")
	}
	srv := newKeepAliveServer(t, 1900*time.Millisecond)
	// At the server's close, give or take 10 ms, where the race is.
	pause := func() time.Duration { return 1890*time.Millisecond + time.Duration(rand.N(20))*time.Millisecond }
	assert.Zero(t, keepAliveRun(t, srv, "default", 40, pause), "false outcome-unknown with the default limit")
}

// WithCreateIdleTimeout for a server that closes idle connections sooner
// than the default assumes.
func TestWithCreateIdleTimeout(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1", WithAccessToken(testToken), WithCreateIdleTimeout(time.Second))
	assert.Equal(t, 750*time.Millisecond, c.hc.Transport.(*splitTransport).creates.IdleConnTimeout)
	_, err := NewClient("http://127.0.0.1:1", WithAccessToken(testToken), WithProvider(TEL4VN), WithCreateIdleTimeout(0))
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "CreateIdleTimeout", ve.Field)
	if testing.Short() {
		return
	}
	srv := newKeepAliveServer(t, time.Second)
	pause := func() time.Duration { return 990*time.Millisecond + time.Duration(rand.N(20))*time.Millisecond }
	assert.Zero(t, keepAliveRun(t, srv, "option", 40, pause, WithCreateIdleTimeout(time.Second)))
}
