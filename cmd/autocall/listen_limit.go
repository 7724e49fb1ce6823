package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// The listener bounds what a burst of senders can make the command hold:
// bodies are bounded by --max-inflight, header bytes per connection by
// the server's MaxHeaderBytes, and connections by limitListener. Beyond
// the limit a connection waits in the kernel's accept queue, which costs
// the process nothing, until a connection closes or one idle between
// requests is closed to make room.

// listenMaxHeaderBytes bounds one request's header: a provider's callback
// has a few hundred bytes of it; net/http's default would let each
// connection hold 1 MiB.
const listenMaxHeaderBytes = 32 << 10

// limitListener accepts at most a fixed number of open connections, as
// golang.org/x/net/netutil.LimitListener does, with one difference: when
// every slot is taken and a connection is waiting, the connection idle the
// longest between requests (a sender's keep-alive) is closed to make room.
// Without it, 256 keep-alive senders that had each delivered once held
// every slot while new deliveries waited, unanswered, for minutes. The
// server's ConnState must be connState, which tells idle from busy.
//
// Closing an idle connection is what any HTTP server may do at any time
// (its keep-alive timeout); a sender whose request crosses the close
// resends it on a new connection, as it would after that timeout.
type limitListener struct {
	net.Listener
	slots chan struct{}
	done  chan struct{}
	once  sync.Once

	mu    sync.Mutex
	idle  map[*limitConn]time.Time // connections between requests, since when
	woken chan struct{}            // a connection went idle
}

func newLimitListener(l net.Listener, n int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), done: make(chan struct{}),
		idle: map[*limitConn]time.Time{}, woken: make(chan struct{}, 1)}
}

// Accept takes the next connection from the kernel's queue, then a slot
// for it: a free one, or one an idle connection gives up. Only one
// accepted connection at a time waits for a slot.
func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for {
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, l: l}, nil
		case <-l.done:
			_ = c.Close()
			return nil, net.ErrClosed
		default:
		}
		if l.closeIdlest() {
			continue // its slot is free now
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, l: l}, nil
		case <-l.done:
			_ = c.Close()
			return nil, net.ErrClosed
		case <-l.woken:
		}
	}
}

// closeIdlest closes the connection idle the longest, if there is one.
func (l *limitListener) closeIdlest() bool {
	l.mu.Lock()
	var oldest *limitConn
	var since time.Time
	for c, t := range l.idle {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	delete(l.idle, oldest)
	l.mu.Unlock()
	if oldest == nil {
		return false
	}
	_ = oldest.Close()
	return true
}

// connState is the server's ConnState: it keeps the set of idle
// connections.
func (l *limitListener) connState(nc net.Conn, st http.ConnState) {
	c, ok := nc.(*limitConn)
	if !ok {
		return
	}
	l.mu.Lock()
	if st == http.StateIdle {
		l.idle[c] = time.Now()
	} else {
		delete(l.idle, c)
	}
	l.mu.Unlock()
	if st == http.StateIdle {
		select {
		case l.woken <- struct{}{}:
		default:
		}
	}
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back once, on its first Close.
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.idle, c)
		c.l.mu.Unlock()
		<-c.l.slots
	})
	return err
}
