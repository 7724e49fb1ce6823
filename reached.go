package autocall

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

// A call-creating request may be resent only when the first attempt
// provably never reached the provider. httptrace's WroteRequest is no
// proof: it fires once the request is in the transport's buffer, before a
// byte has left. So the Client's transport counts the bytes each connection
// has really written, and each attempt notes the count when it gets its
// connection: if the attempt fails with the count unchanged, nothing of the
// request left this machine.

// countingConn counts the bytes written through it.
type countingConn struct {
	net.Conn
	written atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

func countingDial(dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c}, nil
	}
}

// countWrites makes tr's connections countingConns, and its HTTP/1
// connections frameConns (frame.go), and reports whether it could. tr must
// be the Client's own copy. ownTLS is the plain dial the SDK's own TLS
// dialer uses, nil when the caller brought a TLS dialer of their own.
func countWrites(tr *http.Transport) (ownTLS dialFunc, ok bool) {
	var dial dialFunc
	switch {
	case tr.DialContext != nil:
		dial = countingDial(tr.DialContext)
	case tr.Dial == nil: //lint:ignore SA1019 a caller's deprecated Dial is left alone, unproven
		dial = countingDial((&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext)
	default:
		return nil, false
	}
	tr.DialContext = framedDial(dial)
	switch {
	case tr.DialTLSContext != nil:
		tr.DialTLSContext = framedDial(countingDial(tr.DialTLSContext))
	case tr.DialTLS == nil: //lint:ignore SA1019 a caller's deprecated DialTLS is left alone
		tr.DialTLSContext = frameTLSDial(tr, dial)
		ownTLS = dial
	}
	return ownTLS, true
}

func framedDial(dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return newFrameConn(c), nil
	}
}

// wireTracker follows one attempt's connection.
type wireTracker struct {
	ct     *httptrace.ClientTrace // GotConn points back at this tracker
	pooled bool

	mu    sync.Mutex
	got   bool          // the attempt was given a connection
	conn  *countingConn // nil when the transport's connections are not ours
	start int64
}

// trackers recycles a tracker and its trace between attempts: three
// allocations an attempt. A ctx that carries a trace of the caller's gets
// a fresh one, since composing hooks changes the trace.
var trackers = sync.Pool{New: func() any { return newTracker(true) }}

func newTracker(pooled bool) *wireTracker {
	w := &wireTracker{pooled: pooled}
	w.ct = &httptrace.ClientTrace{GotConn: w.gotConn}
	return w
}

func newWireTracker(ctx context.Context) *wireTracker {
	if httptrace.ContextClientTrace(ctx) != nil {
		return newTracker(false)
	}
	w := trackers.Get().(*wireTracker)
	w.got, w.conn, w.start = false, nil, 0
	return w
}

// release returns w to the pool. Only after a whole answer, when the
// transport can no longer call w's hooks.
func (w *wireTracker) release() {
	if w.pooled {
		w.mu.Lock()
		w.conn = nil
		w.mu.Unlock()
		trackers.Put(w)
	}
}

func (w *wireTracker) gotConn(info httptrace.GotConnInfo) {
	c := info.Conn
	if fc, ok := c.(*frameConn); ok {
		c = fc.Conn
	}
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got, w.conn, w.start = true, nil, 0
	if cc, ok := c.(*countingConn); ok {
		w.conn, w.start = cc, cc.written.Load()
	}
}

// mayHaveSent is false only when the attempt provably wrote nothing: the
// dial failed; or, on the SDK's own counting transport, the attempt never
// had a connection or its connection wrote no byte after it got it. A
// transport the SDK cannot see into gives no other proof.
func (w *wireTracker) mayHaveSent(counting bool, err error) bool {
	if isDialError(err) {
		return false
	}
	if !counting {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.got {
		return false
	}
	return w.conn == nil || w.conn.written.Load() > w.start
}

// isDialError: the connection was never made (refused, unreachable, no
// such host), so no byte of the request can have left.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// A server closes a keep-alive connection after it has been idle a while
// (Node.js after 5 s, Apache after 5 s, others later). A request written
// just as it does so reaches a socket the server has closed: it was never
// read, but nothing on this side can prove it, so a create there would be
// reported ErrOutcomeUnknown. Creates therefore go through a pool of their
// own whose connections are retired well before the server's limit
// (WithCreateIdleTimeout); reads keep the long-lived pool. Every create is
// a POST and every read a GET, so the method tells them apart; the one
// other POST, TEL4VN's token request, closes its connection anyway.

// DefaultCreateIdleTimeout is the keep-alive the SDK assumes of the
// provider's servers for call-creating requests when WithCreateIdleTimeout
// does not say: below the 5 s of Node.js and Apache, with room to spare.
const DefaultCreateIdleTimeout = 2 * time.Second

// retireAfter is how long a create's connection may stay idle under a
// limit: a quarter less, since the server's idle clock starts when it
// sent its answer, before ours, and a request takes a while to arrive.
func retireAfter(limit time.Duration) time.Duration { return limit - limit/4 }

// DefaultMaxIdleConnsPerHost is how many idle connections to the provider
// the Client keeps (net/http keeps 2), so that concurrent callers and batch
// workers reuse connections instead of opening one, with a TLS handshake,
// per request. A transport given through WithHTTPClient with its own
// MaxIdleConnsPerHost keeps it.
const DefaultMaxIdleConnsPerHost = 64

// splitTransport sends creates and reads through two pools.
type splitTransport struct {
	reads, creates *http.Transport
}

// newSplitTransport makes the creates' pool: a connection idle longer
// than retireAfter(limit) is never used again (net/http checks how long a
// connection has been idle as it hands it out, not only on a timer).
func newSplitTransport(tr *http.Transport, limit time.Duration, ownTLS dialFunc) *splitTransport {
	cr := tr.Clone()
	if ownTLS != nil {
		// The TLS dialer reads its own transport's TLS settings.
		cr.DialTLSContext = frameTLSDial(cr, ownTLS)
	}
	if maxIdle := retireAfter(limit); cr.IdleConnTimeout <= 0 || cr.IdleConnTimeout > maxIdle {
		cr.IdleConnTimeout = maxIdle
	}
	return &splitTransport{reads: tr, creates: cr}
}

func (t *splitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		return t.creates.RoundTrip(r)
	}
	return t.reads.RoundTrip(r)
}

func (t *splitTransport) CloseIdleConnections() {
	t.reads.CloseIdleConnections()
	t.creates.CloseIdleConnections()
}
