package autocall

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"sync/atomic"
)

// A server may send bytes past the end of its answer: a Content-Length
// that counts characters rather than bytes, or an echo of the request
// after the JSON. net/http puts the connection back in its idle pool, its
// read loop finds those bytes buffered with no request outstanding, and
// logs "Unsolicited response received on idle HTTP channel starting with
// …" with them to log.Default: an echoed token or callback key would end
// up in the application's log. So the SDK's HTTP/1 connections go through
// a frameConn, which follows the framing of the answers it reads and
// delivers exactly their bytes. A byte beyond an answer's end, while no
// further request has been written, is never delivered: the frameConn
// drops it and closes the socket, so net/http's peek sees a bare io.EOF,
// closes the connection quietly and logs nothing.
//
// What it cannot frame (a body read to close, a protocol switch, TLS or
// a proxy tunnel passing through it) it delivers as it is: such a
// connection is not reused by net/http, or its bytes are not HTTP here.

// Framing states.
const (
	fsIdle      uint8 = iota // between answers
	fsHeader                 // status line and header fields
	fsBody                   // Content-Length body: left bytes to go
	fsChunkSize              // a chunk-size line
	fsChunkData              // chunk data: left bytes to go
	fsChunkEnd               // the CRLF after chunk data
	fsTrailer                // trailer fields after the last chunk
	fsRaw                    // not framed: delivered as is
)

// maxLine is how much of a header line the frameConn keeps: enough for
// the fields it reads (Content-Length, Transfer-Encoding) and the status.
const maxLine = 64

// frameConn follows HTTP/1.x answer framing on one client connection.
// Read is called by net/http's read loop only and owns the parser; Write
// (the write loop) only marks that a request has started.
type frameConn struct {
	net.Conn

	writes atomic.Uint64 // Write calls begun
	mark   atomic.Uint64 // writes when the last answer ended
	head   atomic.Bool   // the request being written is a HEAD
	raw    atomic.Bool   // the first request was not plain HTTP/1 (TLS, CONNECT)

	// read side
	state    uint8
	status   int   // the answer's status code
	left     int64 // bytes left in a body or chunk
	length   int64 // Content-Length, -1 when absent
	chunked  bool
	lines    int // lines of the current header block
	line     [maxLine]byte
	lineLen  int
	overflow bool // the current line was longer than maxLine
	dead     bool // excess bytes were dropped: only io.EOF from now on
}

func newFrameConn(c net.Conn) *frameConn { return &frameConn{Conn: c} }

func (c *frameConn) Write(p []byte) (int, error) {
	// Marked before the bytes leave, so that an answer read before Write
	// returns is already known to be solicited.
	// net/http writes a request only once the previous answer has been
	// read whole (no pipelining), so the first Write after an answer's end
	// begins the next request.
	if n := c.writes.Add(1); n == c.mark.Load()+1 && len(p) > 0 {
		switch {
		case n == 1 && !looksLikeRequest(p):
			c.raw.Store(true)
		case bytes.HasPrefix(p, []byte("HEAD ")):
			c.head.Store(true)
		}
	}
	return c.Conn.Write(p)
}

// looksLikeRequest: p starts a plain HTTP/1 request (not a TLS handshake
// or a CONNECT whose tunnel carries TLS).
func looksLikeRequest(p []byte) bool {
	i := bytes.IndexByte(p, ' ')
	if i <= 0 || bytes.HasPrefix(p, []byte("CONNECT ")) {
		return false
	}
	for _, b := range p[:i] {
		if b < 'A' || b > 'Z' {
			return false
		}
	}
	return true
}

func (c *frameConn) Read(p []byte) (int, error) {
	if c.dead {
		return 0, io.EOF
	}
	n, err := c.Conn.Read(p)
	if n == 0 || c.state == fsRaw {
		return n, err
	}
	if c.raw.Load() {
		c.state = fsRaw
		return n, err
	}
	if c.state == fsIdle && c.writes.Load() == c.mark.Load() {
		// Nothing asked for these bytes.
		return c.drop()
	}
	end := c.frame(p[:n])
	if end < n {
		c.dead = true
		c.Conn.Close()
		return end, nil
	}
	return n, err
}

// drop closes the socket over bytes no request asked for.
func (c *frameConn) drop() (int, error) {
	c.dead = true
	c.Conn.Close()
	return 0, io.EOF
}

// frame advances the parser over b and returns how many of its bytes
// belong to answers: len(b) unless an answer ended inside b with bytes
// after it.
func (c *frameConn) frame(b []byte) int {
	i := 0
	for i < len(b) {
		switch c.state {
		case fsRaw:
			return len(b)
		case fsIdle:
			c.state, c.lines, c.status, c.length, c.chunked = fsHeader, 0, 0, -1, false
			c.lineLen, c.overflow = 0, false
		case fsBody, fsChunkData:
			k := int64(len(b) - i)
			if k > c.left {
				k = c.left
			}
			i += int(k)
			c.left -= k
			if c.left == 0 {
				if c.state == fsBody {
					c.finish()
					if i < len(b) {
						return i
					}
				} else {
					c.state = fsChunkEnd
				}
			}
		default: // line-oriented states
			j := bytes.IndexByte(b[i:], '\n')
			if j < 0 {
				c.appendLine(b[i:])
				i = len(b)
				continue
			}
			c.appendLine(b[i : i+j])
			i += j + 1
			c.endLine()
			if c.state == fsIdle && i < len(b) {
				return i
			}
		}
	}
	return i
}

func (c *frameConn) appendLine(b []byte) {
	k := copy(c.line[c.lineLen:], b)
	c.lineLen += k
	if k < len(b) {
		c.overflow = true
	}
}

// endLine handles one complete line of a line-oriented state.
func (c *frameConn) endLine() {
	line := bytes.TrimSuffix(c.line[:c.lineLen], []byte("\r"))
	overflow := c.overflow
	c.lineLen, c.overflow = 0, false
	switch c.state {
	case fsHeader:
		c.headerLine(line, overflow)
	case fsChunkSize:
		size, ok := chunkSize(line, overflow)
		switch {
		case !ok:
			c.state = fsRaw
		case size == 0:
			c.state = fsTrailer
		default:
			c.state, c.left = fsChunkData, size
		}
	case fsChunkEnd:
		c.state = fsChunkSize
	case fsTrailer:
		if len(line) == 0 && !overflow {
			c.finish()
		}
	}
}

func (c *frameConn) headerLine(line []byte, overflow bool) {
	c.lines++
	if c.lines == 1 {
		// "HTTP/1.1 200 OK"
		if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
			c.state = fsRaw
			return
		}
		status, ok := parseLength(line[9:12])
		c.status = int(status)
		if !ok || c.status < 100 {
			c.state = fsRaw
		}
		return
	}
	if len(line) == 0 && !overflow {
		c.endHeader()
		return
	}
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return
	}
	value = bytes.TrimSpace(value)
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		n, ok := parseLength(value)
		if overflow || !ok || (c.length >= 0 && c.length != n) {
			c.state = fsRaw
			return
		}
		c.length = n
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		if overflow || !bytes.EqualFold(value, []byte("chunked")) {
			c.state = fsRaw
			return
		}
		c.chunked = true
	}
}

// endHeader decides how the body is framed (RFC 9112 section 6.3).
func (c *frameConn) endHeader() {
	switch {
	case c.status == http.StatusSwitchingProtocols:
		c.state = fsRaw
	case c.status < 200:
		// An interim answer: the final one follows, for the same request.
		c.state, c.lines, c.status, c.length, c.chunked = fsHeader, 0, 0, -1, false
	case c.status == http.StatusNoContent || c.status == http.StatusNotModified || c.head.Load():
		c.finish()
	case c.chunked:
		c.state = fsChunkSize
	case c.length == 0:
		c.finish()
	case c.length > 0:
		c.state, c.left = fsBody, c.length
	default:
		c.state = fsRaw // read to close
	}
}

// finish ends an answer: the next bytes need a new request first.
func (c *frameConn) finish() {
	c.state = fsIdle
	c.head.Store(false)
	c.mark.Store(c.writes.Load())
}

// parseLength reads a decimal of 1 to 18 digits: a Content-Length, or a
// status code.
func parseLength(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	return n, true
}

// chunkSize parses "1a;ext=v" (the extension ignored).
func chunkSize(line []byte, overflow bool) (int64, bool) {
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	} else if overflow {
		return 0, false
	}
	line = bytes.TrimSpace(line)
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n int64
	for _, d := range line {
		v, ok := digitVal(d, 16)
		if !ok {
			return 0, false
		}
		n = n<<4 | int64(v)
	}
	return n, true
}

// frameTLSDial makes the TLS connections of t itself, so that a frameConn
// can sit on the plaintext. An HTTP/2 connection frames its own answers
// and is returned as the *tls.Conn net/http needs to see.
func frameTLSDial(t *http.Transport, dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		var cfg *tls.Config
		if t.TLSClientConfig != nil {
			cfg = t.TLSClientConfig.Clone()
		} else {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			cfg.ServerName = host
		}
		if t.TLSHandshakeTimeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, t.TLSHandshakeTimeout)
			defer cancel()
		}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			return tc, nil
		}
		return newFrameConn(tc), nil
	}
}
