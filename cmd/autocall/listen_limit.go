package main

import (
	"net"
	"sync"
)

// The listener bounds what a burst of senders can make the command hold:
// bodies are bounded by --max-inflight, header bytes per connection by
// the server's MaxHeaderBytes, and connections by limitListener. Beyond
// the limit a connection waits in the kernel's accept queue, which costs
// the process nothing.

// listenMaxHeaderBytes bounds one request's header: a provider's callback
// has a few hundred bytes of it; net/http's default would let each
// connection hold 1 MiB.
const listenMaxHeaderBytes = 32 << 10

// limitListener accepts at most a fixed number of open connections, as
// golang.org/x/net/netutil.LimitListener does.
type limitListener struct {
	net.Listener
	slots chan struct{}
	done  chan struct{}
	once  sync.Once
}

func newLimitListener(l net.Listener, n int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back once, on its first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
