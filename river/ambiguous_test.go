package autocallriver

import (
	"bytes"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// commitCutter is a TCP proxy in front of PostgreSQL that, once armed,
// lets the first write holding all of needles through to the server and
// then cuts that connection without passing on the server's answer: a
// COMMIT the server applied and the client never heard of.
type commitCutter struct {
	ln      net.Listener
	target  string
	needles [][]byte
	armed   atomic.Bool
	cut     chan struct{}
}

func newCommitCutter(t *testing.T, target string, needles ...string) *commitCutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &commitCutter{ln: ln, target: target, cut: make(chan struct{}, 1)}
	for _, n := range needles {
		c.needles = append(c.needles, []byte(n))
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			go c.serve(client)
		}
	}()
	return c
}

func (c *commitCutter) serve(client net.Conn) {
	server, err := net.Dial("tcp", c.target)
	if err != nil {
		client.Close()
		return
	}
	var mute atomic.Bool // the server's answers are no longer passed on
	var once sync.Once
	closeBoth := func() { once.Do(func() { client.Close(); server.Close() }) }
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 && !mute.Load() {
				if _, werr := client.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		closeBoth()
	}()
	var recent []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			recent = append(recent, buf[:n]...)
			if len(recent) > 256<<10 {
				recent = recent[len(recent)-(128<<10):]
			}
			if c.armed.Load() && c.holds(recent) && c.armed.CompareAndSwap(true, false) {
				mute.Store(true)
				_, _ = server.Write(buf[:n])
				time.Sleep(time.Second) // the server applies it
				closeBoth()
				c.cut <- struct{}{}
				return
			}
			if _, werr := server.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	closeBoth()
	_, _ = io.Copy(io.Discard, client)
}

func (c *commitCutter) holds(b []byte) bool {
	for _, n := range c.needles {
		if !bytes.Contains(b, n) {
			return false
		}
	}
	return true
}

// A claim whose COMMIT the database applied but whose answer was lost
// (the connection cut at that moment) sent nothing: the worker knows it,
// and the job is sent at River's next attempt, once. It used to stay
// "claimed" under the worker's own live lease, snoozed again and again
// while that worker lived, its customer never called.
func TestClaimWhoseCommitAnswerIsLostIsSentOnce(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, dbURL := newPool(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	// One statement per message with its text (no statement cache), so
	// that the claim's INSERT and COMMIT are seen going by.
	cutter := newCommitCutter(t, u.Host, "INSERT INTO autocall_job", "commit")
	u.Host = cutter.ln.Addr().String()
	q := u.Query()
	q.Set("default_query_exec_mode", "exec")
	u.RawQuery = q.Encode()
	r := startReplica(t, u.String(), srv, replicaOpts{})
	cutter.armed.Store(true)
	insertOrder(t, r.client, pool, otpArgs(1), true)
	select {
	case <-cutter.cut:
	case <-time.After(20 * time.Second):
		t.Fatal("the claim's commit never went by")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec, _, err := r.j.Get(ctx, "order-1")
		if err == nil && rec.State == batch.Placed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not placed: %+v (%v), %d calls", rec, err, len(srv.Calls()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(srv.Calls()); n != 1 {
		t.Fatalf("%d calls", n)
	}
}
