package autocallredis

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
)

// Child processes: this test binary started again with childEnv naming
// what to do.
const (
	childEnv    = "AUTOCALLREDIS_CHILD"
	redisEnv    = "AUTOCALLREDIS_ADDR"
	providerEnv = "AUTOCALLREDIS_PROVIDER"
	lockTTLEnv  = "AUTOCALLREDIS_LOCK_TTL"
)

const testSecret = "sk-shared-across-replicas-SECRET"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "token":
		os.Exit(tokenChild())
	case "worker":
		os.Exit(workerChild())
	}
	os.Exit(3)
}

// tokenChild: 50 goroutines of one replica ask for the token at once.
func tokenChild() int {
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(redisEnv)})
	defer rdb.Close()
	fetch, err := autocall.NewTokenFetcher(os.Getenv(providerEnv), autocall.WithSecretKey(testSecret),
		autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	ts := NewTokenSource(rdb, fetch, testSecret)
	if d, err := time.ParseDuration(os.Getenv(lockTTLEnv)); err == nil {
		ts.LockTTL = d
	}
	c, err := autocall.NewClient(os.Getenv(providerEnv), autocall.WithTokenSource(ts), autocall.WithProvider(autocall.TEL4VN))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 4
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Authenticate(ctx); err != nil {
				fmt.Fprintln(os.Stderr, err)
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		return 5
	}
	return 0
}

// tokenProvider is TEL4VN's token endpoint, counting fetches; hold makes
// the first fetch hang until released.
type tokenProvider struct {
	*httptest.Server
	fetches atomic.Int64
	delay   time.Duration
	hold    chan struct{}
}

func newTokenProvider(t *testing.T, delay time.Duration, holdFirst bool) *tokenProvider {
	p := &tokenProvider{delay: delay}
	if holdFirst {
		p.hold = make(chan struct{})
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n := p.fetches.Add(1)
		if n == 1 && p.hold != nil {
			select {
			case <-p.hold:
			case <-r.Context().Done():
			}
			return
		}
		time.Sleep(p.delay)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data":{"access_token":"tok-%d","expire_at":3600}}`, n)
	}))
	t.Cleanup(func() {
		if p.hold != nil {
			select {
			case <-p.hold:
			default:
				close(p.hold)
			}
		}
		p.Close()
	})
	return p
}

func child(t *testing.T, kind string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+kind), env...)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	return cmd
}

// 8 processes × 50 goroutines on a cold shared token: one fetch.
func TestOneFetchAcrossProcesses(t *testing.T) {
	srv := startRedis(t, t.TempDir(), 0)
	p := newTokenProvider(t, 300*time.Millisecond, false)
	var cmds []*exec.Cmd
	for i := 0; i < 8; i++ {
		cmds = append(cmds, child(t, "token", redisEnv+"="+srv.addr(), providerEnv+"="+p.URL))
	}
	for _, c := range cmds {
		require.NoError(t, c.Wait())
	}
	assert.Equal(t, int64(1), p.fetches.Load(), "400 callers in 8 processes, one fetch from the provider")

	// At rest the token is sealed: the dump holds neither it nor the secret.
	dump, err := srv.client(t).HGetAll(ctx, NewTokenSource(nil, nil, testSecret).key).Result()
	require.NoError(t, err)
	require.NotEmpty(t, dump["ct"])
	assert.NotContains(t, dump["ct"], "tok-1")
	assert.NotContains(t, dump["ct"], testSecret)
	other := NewTokenSource(srv.client(t), nil, "another-credential")
	tok, err := other.read(ctx)
	require.NoError(t, err)
	assert.Empty(t, tok.Value, "another credential reads nothing")
}

// The lock holder is SIGKILLed while fetching: another process fetches
// within the lock's lifetime.
func TestLockHolderKilled(t *testing.T) {
	srv := startRedis(t, t.TempDir(), 0)
	p := newTokenProvider(t, 0, true)
	env := []string{redisEnv + "=" + srv.addr(), providerEnv + "=" + p.URL, lockTTLEnv + "=1s"}
	holder := child(t, "token", env...)
	require.Eventually(t, func() bool { return p.fetches.Load() == 1 }, 10*time.Second, 5*time.Millisecond)
	waiter := child(t, "token", env...)
	time.Sleep(200 * time.Millisecond) // the waiter is waiting on the lock
	require.NoError(t, holder.Process.Signal(syscall.SIGKILL))
	_ = holder.Wait()
	begin := time.Now()
	require.NoError(t, waiter.Wait(), "the waiter got a token")
	assert.Less(t, time.Since(begin), 3*time.Second, "within the lock's lifetime (1s), give or take")
	assert.Equal(t, int64(2), p.fetches.Load())
}

// Two replicas rejected with one token: the shared token is forgotten
// once, and one new token is fetched, not one per replica.
func TestRejectedTokenInvalidatedOnce(t *testing.T) {
	srv := startRedis(t, t.TempDir(), 0)
	p := newTokenProvider(t, 0, false)
	var rejected atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/users/generate_access_token", p.Config.Handler.ServeHTTP)
	mux.HandleFunc("/api/v2/report/c1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") == "tok-1" {
			rejected.Add(1)
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"messsage":"Unauthorized","code":401,"status":false,"data":{"error":"token_expired"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"data":{"id":"c1","status":"ANSWERED"}}`)
	})
	api := httptest.NewServer(mux)
	defer api.Close()
	replica := func() *autocall.Client {
		fetch, err := autocall.NewTokenFetcher(api.URL, autocall.WithSecretKey(testSecret))
		require.NoError(t, err)
		c, err := autocall.NewClient(api.URL, autocall.WithTokenSource(NewTokenSource(srv.client(t), fetch, testSecret)),
			autocall.WithProvider(autocall.TEL4VN))
		require.NoError(t, err)
		return c
	}
	a, b := replica(), replica()
	require.NoError(t, a.Authenticate(ctx))
	require.NoError(t, b.Authenticate(ctx))
	require.Equal(t, int64(1), p.fetches.Load())
	var wg sync.WaitGroup
	for _, c := range []*autocall.Client{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.CDR.Get(ctx, "c1")
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(2), p.fetches.Load(), "one refetch for both replicas")
	assert.GreaterOrEqual(t, rejected.Load(), int64(2))
}

func TestNewTokenFetcherNeedsACredential(t *testing.T) {
	_, err := autocall.NewTokenFetcher("http://x", autocall.WithAccessToken("t"), autocall.WithProvider(autocall.TEL4VN))
	assert.ErrorIs(t, err, autocall.ErrValidation)
	_, err = autocall.NewTokenFetcher("http://x", autocall.WithAPIKey("k"))
	assert.NoError(t, err)
}

// The shared token is renewed in the last fifth of the life it was fetched
// with, as the SDK's cache renews its own: counted from each read, the
// last fifth of what is left was always ahead, so a 5 s token read 4.3 s
// after its fetch was handed out with 0.7 s left and no fetch, and every
// replica stalled together at its expiry.
func TestSharedTokenRenewedEarly(t *testing.T) {
	srv := startRedis(t, t.TempDir(), 0)
	const life = 2 * time.Second
	var fetches atomic.Int64
	fetch := autocall.TokenSourceFunc(func(context.Context) (autocall.Token, error) {
		n := fetches.Add(1)
		return autocall.Token{Value: fmt.Sprintf("tok-%d", n), Expiry: time.Now().Add(life)}, nil
	})
	ts := NewTokenSource(srv.client(t), fetch, testSecret)
	first, err := ts.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "tok-1", first.Value)

	// Inside the first four fifths: the shared token is fresh.
	time.Sleep(life / 2)
	tok, err := ts.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok.Value)
	assert.Equal(t, int64(1), fetches.Load())

	// In the last fifth (at 86 % of its life, before it goes stale at
	// 95 %): renewed now, not at expiry.
	time.Sleep(time.Until(first.Expiry.Add(-life * 14 / 100)))
	tok, err = ts.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", tok.Value, "a token in the last fifth of its life is renewed")
	assert.Equal(t, int64(2), fetches.Load())

	// Another replica reading now gets the renewed token, with no fetch.
	other := NewTokenSource(srv.client(t), fetch, testSecret)
	tok, err = other.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "tok-2", tok.Value)
	assert.Equal(t, int64(2), fetches.Load())
}
