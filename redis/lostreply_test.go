package autocallredis

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
)

// lossyProxy is a loopback TCP proxy to Redis that, once, lets a command
// matching match reach Redis and then loses its reply: it closes the
// client's connection instead of forwarding it.
type lossyProxy struct {
	ln     net.Listener
	target string
	match  func(cmd []byte) bool
	fired  atomic.Bool
	wg     sync.WaitGroup
}

func newLossyProxy(t *testing.T, target string, match func([]byte) bool) *lossyProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &lossyProxy{ln: ln, target: target, match: match}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *lossyProxy) addr() string { return p.ln.Addr().String() }

func (p *lossyProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		var drop atomic.Bool
		p.wg.Add(2)
		go func() { // client to Redis
			defer p.wg.Done()
			defer s.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if p.match(buf[:n]) && p.fired.CompareAndSwap(false, true) {
						drop.Store(true) // before Redis can answer
					}
					if _, werr := s.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() { // Redis to client
			defer p.wg.Done()
			defer c.Close()
			buf := make([]byte, 64<<10)
			for {
				n, err := s.Read(buf)
				if drop.Load() {
					s.Close() // the reply is lost with the connection
					return
				}
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// isSetNX: a RESP SET with NX, as go-redis sends SetNX.
func isSetNX(cmd []byte) bool {
	lower := bytes.ToLower(cmd)
	return bytes.Contains(lower, []byte("\r\nset\r\n")) && bytes.Contains(lower, []byte("\r\nnx\r\n"))
}

// The reply to the lock's SET NX is lost: the lock is ours, whether the
// client retried the SET (and found the lock taken) or gave up. The token
// comes at once, not after LockTTL (30 s).
func TestLostLockReplyDoesNotStall(t *testing.T) {
	for _, retries := range []int{0, -1} { // go-redis's default (3 retries), none
		t.Run("MaxRetries="+map[int]string{0: "default", -1: "none"}[retries], func(t *testing.T) {
			rs := startRedis(t, t.TempDir(), 0)
			proxy := newLossyProxy(t, rs.addr(), isSetNX)
			rdb := redis.NewClient(&redis.Options{Addr: proxy.addr(), MaxRetries: retries})
			defer rdb.Close()
			p := newTokenProvider(t, 0, false)
			fetch, err := autocall.NewTokenFetcher(p.URL, autocall.WithSecretKey(testSecret))
			require.NoError(t, err)
			ts := NewTokenSource(rdb, fetch, testSecret)
			require.Equal(t, 30*time.Second, ts.LockTTL)

			tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			begin := time.Now()
			tok, err := ts.Token(tctx)
			elapsed := time.Since(begin)
			require.NoError(t, err)
			assert.True(t, proxy.fired.Load(), "the SET NX reply was lost")
			assert.Equal(t, "tok-1", tok.Value)
			assert.Less(t, elapsed, time.Second, "not stalled for LockTTL")
			assert.Equal(t, int64(1), p.fetches.Load())
			n, err := rs.client(t).Exists(ctx, ts.lock).Result()
			require.NoError(t, err)
			assert.Zero(t, n, "the lock released after the fetch")
		})
	}
}

// Redis out of reach: the token source's error matches autocall.ErrNetwork
// with its cause, so a batch records its jobs unsent, not refused.
func TestTokenSourceUnreachableIsNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	p := newTokenProvider(t, 0, false)
	fetch, err := autocall.NewTokenFetcher(p.URL, autocall.WithSecretKey(testSecret))
	require.NoError(t, err)
	ts := NewTokenSource(rdb, fetch, testSecret)
	_, err = ts.Token(ctx)
	require.ErrorIs(t, err, autocall.ErrNetwork)
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr, "the cause is kept")
	assert.NotContains(t, err.Error(), testSecret)
	assert.Zero(t, p.fetches.Load())

	// A wait for another process's fetch cut short is no answer either.
	rs := startRedis(t, t.TempDir(), 0)
	other := NewTokenSource(rs.client(t), fetch, testSecret)
	require.NoError(t, rs.client(t).Set(ctx, other.lock, "another process", time.Minute).Err())
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = other.Token(wctx)
	assert.ErrorIs(t, err, autocall.ErrNetwork)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	// A batch run through a client on that token source: unsent, not refused.
	rep, calls, err := runOn(t, NewJournal(rs.client(t), "unreachable"),
		autocall.WithTokenSource(ts), autocall.WithProvider(autocall.TEL4VN))
	require.NoError(t, err)
	assert.Equal(t, 20, rep.Unsent, "%+v", rep)
	assert.Zero(t, rep.Refused)
	assert.Zero(t, calls)
	assert.ErrorIs(t, rep.Stopped, autocall.ErrNetwork, "no token: the run stops, the rest unsent")
	// The jobs in flight when the token failed are recorded unsent; those
	// never started have no record, which is unsent too.
	recs, err := NewJournal(rs.client(t), "unreachable").Records(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	for _, r := range recs {
		assert.Equal(t, batch.Unsent, r.State, r.Key)
		assert.Contains(t, r.Reason, "connection refused")
	}
}

// The reply to a claim is lost after Redis ran the script, and go-redis
// sends it again: the second run finds the job claimed by this very claim.
// That claim is this handle's (claimed = true, its request may go), not a
// live peer's in flight (reported Elsewhere, and never sent by anyone).
func TestLostClaimReplyIsStillTheClaim(t *testing.T) {
	rs := startRedis(t, t.TempDir(), 0)
	p := newLossyProxy(t, rs.addr(), func(cmd []byte) bool {
		return bytes.Contains(cmd, []byte("claim-lost")) && bytes.Contains(bytes.ToLower(cmd), []byte("evalsha"))
	})
	rdb := redis.NewClient(&redis.Options{Addr: p.addr()})
	t.Cleanup(func() { rdb.Close() })
	j := NewJournal(rdb, "lost")
	require.NoError(t, j.Lease(ctx, "r", time.Minute))
	// Load the script (and pass the check) first: the lost command is then
	// the claim's EVALSHA.
	ok, _, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "warm", Run: "r"}})
	require.NoError(t, err)
	require.True(t, ok)
	ok, cur, err := j.Claim(ctx, batch.ClaimRequest{Record: batch.Record{Key: "claim-lost", Run: "r"}})
	require.True(t, p.fired.Load(), "the proxy lost a reply")
	require.NoError(t, err, "go-redis sent the claim again")
	assert.True(t, ok, "the claim found in the way is this one: %+v", cur)
}
