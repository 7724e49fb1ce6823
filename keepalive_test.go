package autocall

import (
	"errors"
	"flag"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var keepAliveTries = flag.Int("keepalive-tries", 100, "tries per arm of TestCreateAtKeepAliveClose")

// A create written just as the server closes an idle keep-alive connection
// is never read, yet nothing on this side can prove it: the SDK would report
// ErrOutcomeUnknown. Creates therefore never go out on a connection idle
// longer than createMaxIdle. This measures both arms on a server that closes
// idle connections after serverIdle (scaled down from Node.js's 5 s; the SDK's
// limit is scaled the same way, 2 s : 5 s), each try sending its second create
// at the moment the server closes, give or take 10 ms.
func TestCreateAtKeepAliveClose(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for keep-alive timeouts")
	}
	const serverIdle = 500 * time.Millisecond
	var creates atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		creates.Add(1)
		writeJSON(w, 200, okCreate)
	}))
	srv.Config.IdleTimeout = serverIdle
	srv.Start()
	defer srv.Close()

	run := func(maxIdle time.Duration) (unknown int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < *keepAliveTries; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := newTestClient(t, srv.URL, WithAccessToken(testToken))
				c.hc.Transport.(*splitTransport).creates.IdleConnTimeout = maxIdle
				if _, err := doCreate(c); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(serverIdle + time.Duration(rand.N(20)-10)*time.Millisecond)
				_, err := doCreate(c)
				switch {
				case errors.Is(err, ErrOutcomeUnknown):
					mu.Lock()
					unknown++
					mu.Unlock()
				case err != nil:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		return unknown
	}
	before := run(0) // one pool, no limit: the SDK before this fix
	after := run(serverIdle * 2 / 5)
	t.Logf("false outcome-unknown at a keep-alive close: %d of %d without the limit, %d of %d with it",
		before, *keepAliveTries, after, *keepAliveTries)
	require.Zero(t, after)
	assert.Equal(t, int64(4**keepAliveTries)-int64(before), creates.Load(), "no create was sent twice")
}
