package autocalltest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// Fault is a scripted misbehaviour for one request. Exactly what is set
// happens, in this order: Delay; then, with Process, the request is handled
// as usual (a call is placed); then the answer is a reset connection
// (Reset), an HTML error page (HTML), the given Status and Body, or, when
// none of these is set, the usual answer.
type Fault struct {
	Delay       time.Duration // before anything else
	Process     bool          // handle the request as usual first: the call is placed
	Reset       bool          // then answer with a reset connection: the answer is lost
	HTML        bool          // an HTML page with Status (default 502)
	Status      int           // with Body: any answer
	Body        string        // sent as is
	ContentType string        // default application/json
	Header      http.Header
}

// FailNext makes the next n requests to path misbehave as f says. A path
// ending in "*" matches every path with that prefix. Faults for a path are
// used in the order they were scripted.
func (s *Server) FailNext(path string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.faults[path] = append(s.faults[path], f)
	}
}

// takeFaultLocked uses a fault scripted for the exact path first, then the
// one with the longest matching prefix.
func (s *Server) takeFaultLocked(path string) (Fault, bool) {
	best := ""
	if len(s.faults[path]) > 0 {
		best = path
	} else {
		for key, list := range s.faults {
			prefix, ok := strings.CutSuffix(key, "*")
			if ok && len(list) > 0 && strings.HasPrefix(path, prefix) && len(key) > len(best) {
				best = key
			}
		}
	}
	if best == "" {
		return Fault{}, false
	}
	f := s.faults[best][0]
	s.faults[best] = s.faults[best][1:]
	return f, true
}

func (f Fault) write(w http.ResponseWriter, r *http.Request, body []byte, handled *httptest.ResponseRecorder, s *Server) {
	for k, v := range f.Header {
		w.Header()[k] = v
	}
	switch {
	case f.Reset:
		resetConn(w)
	case f.HTML:
		status := f.Status
		if status == 0 {
			status = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center><hr><center>nginx</center></body></html>\n",
			status, http.StatusText(status), status, http.StatusText(status))
	case f.Status != 0:
		ct := f.ContentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
	case handled != nil:
		for k, v := range handled.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(handled.Code)
		_, _ = w.Write(handled.Body.Bytes())
	default:
		s.route(w, r, body)
	}
}

// resetConn drops the connection with a TCP reset, as a crashing proxy does.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("autocalltest: the connection cannot be reset")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
