package autocalltest

import (
	"bytes"
	"context"
	"github.com/autocallvn/autocall-go/internal/vntime"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Credentials the sandbox accepts.
const (
	SecretKey = "sandbox-secret-key-30511f666-f888-411b"
	APIKey    = "sandbox-api-key-9d1c2e"
)

// Defaults of the sandbox's world.
const (
	// CallPrice is what one call costs, in VND, when a balance is set.
	CallPrice = 1000
	// RingTime is how long a call rings before it is answered or ends.
	RingTime = 10 * time.Second
	// TalkTime is how long an answered call lasts.
	TalkTime = 15 * time.Second
	// SessionChars and DailyChars are OMICall's text-to-speech limits.
	SessionChars = 300
	DailyChars   = 3000
)

// vietnam is Asia/Ho_Chi_Minh, the SDK's own definition: a small internal
// package, not the SDK, so that the sandbox still shares no wire type with it.
var vietnam = vntime.Zone

// Server is a running sandbox. Its methods are safe for concurrent use.
type Server struct {
	URL string // base URL for autocall.NewClient

	ts *httptest.Server

	realTime             bool
	control              bool // WithControlAPI
	stopClock, clockDone chan struct{}
	mux                  *http.ServeMux
	callback             *http.Client

	mu            sync.Mutex
	now           time.Time
	tokenLifetime map[provider]time.Duration
	tokens        map[string]issuedToken
	balance       int64 // < 0: unlimited
	autoCallOn    bool
	chars         map[string]int // OMICall TTS characters per day (yyyy-mm-dd)
	templates     map[string]string
	calls         map[string]*call
	callOrder     []string
	sessions      []Session
	seq           int
	faults        map[string][]Fault
	requests      []Request
	callbacks     []Callback
	cbWG          sync.WaitGroup
	closed        bool
}

// Option configures a Server.
type Option func(*Server)

// WithTokenLifetime sets how long tokens of both providers live, in
// sandbox time (see Advance).
func WithTokenLifetime(d time.Duration) Option {
	return func(s *Server) {
		s.tokenLifetime[omicall] = d
		s.tokenLifetime[tel4vn] = d
	}
}

// WithStartTime sets the sandbox clock's start (default: the real time,
// truncated to the second).
func WithStartTime(t time.Time) Option { return func(s *Server) { s.now = t } }

// WithBalance starts with a balance in VND (default: unlimited).
func WithBalance(vnd int64) Option { return func(s *Server) { s.balance = vnd } }

// NewServer starts a sandbox on a loopback port.
func NewServer(opts ...Option) *Server {
	s, err := start(nil, opts)
	if err != nil {
		panic(err) // a loopback listener cannot fail but for a broken machine, as httptest's
	}
	return s
}

// Listen starts a sandbox on addr ("127.0.0.1:8080"), for services in any
// language to be tested against (`autocall sandbox`).
func Listen(addr string, opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return start(ln, opts)
}

// WithRealTime makes the sandbox clock follow the wall clock, so that calls
// ring and end by themselves; Advance still moves it further.
func WithRealTime() Option { return func(s *Server) { s.realTime = true } }

func start(ln net.Listener, opts []Option) (*Server, error) {
	s := &Server{
		now:           time.Now().Truncate(time.Second),
		tokenLifetime: map[provider]time.Duration{omicall: 24 * time.Hour, tel4vn: 180 * 24 * time.Hour},
		tokens:        map[string]issuedToken{},
		balance:       -1,
		autoCallOn:    true,
		chars:         map[string]int{},
		templates:     map[string]string{},
		calls:         map[string]*call{},
		faults:        map[string][]Fault{},
		callback:      &http.Client{Timeout: 5 * time.Second},
	}
	for _, o := range opts {
		o(s)
	}
	s.mux = s.routes()
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if ln != nil {
		_ = s.ts.Listener.Close()
		s.ts.Listener = ln
	}
	s.ts.Start()
	s.URL = s.ts.URL
	if s.realTime {
		s.stopClock = make(chan struct{})
		s.clockDone = make(chan struct{})
		go s.tick()
	}
	return s, nil
}

// tick moves the clock with the wall clock until Close.
func (s *Server) tick() {
	defer close(s.clockDone)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-s.stopClock:
			return
		case now := <-t.C:
			s.Advance(now.Sub(last))
			last = now
		}
	}
}

// Close stops the sandbox and waits for callbacks in flight.
func (s *Server) Close() {
	if s.stopClock != nil {
		close(s.stopClock)
		<-s.clockDone
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cbWG.Wait()
	s.ts.Close()
	s.callback.CloseIdleConnections()
}

// Now is the sandbox clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Advance moves the sandbox clock: calls ring, end and call back; tokens
// expire.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.now = s.now.Add(d)
	ended := s.settleLocked()
	s.mu.Unlock()
	for _, c := range ended {
		s.sendCallback(c)
	}
}

// SetBalance sets the balance in VND; each call costs CallPrice. A negative
// balance means unlimited.
func (s *Server) SetBalance(vnd int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.balance = vnd
}

// Balance is what is left, or -1 when unlimited.
func (s *Server) Balance() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.balance
}

// SetAutoCallEnabled turns OMICall auto-call on or off in the plan; off
// answers limit_service.
func (s *Server) SetAutoCallEnabled(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoCallOn = on
}

// ExpireTokens makes every token issued so far expired.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		t.expiry = s.now
		s.tokens[k] = t
	}
}

// Request is one request the sandbox received.
type Request struct {
	Method string
	Path   string
	Query  string      // apiKey redacted
	Header http.Header // Authorization, X-API-Key and apikey redacted
	Body   []byte      // secret_key and callback_apikey redacted
	Time   time.Time   // sandbox time
}

// Requests returns what the sandbox has received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count is how many requests reached path.
func (s *Server) Count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Path == path {
			n++
		}
	}
	return n
}

const redacted = "[REDACTED]"

var secretJSON = regexp.MustCompile(`("(?:secret_key|callback_apikey)"\s*:\s*)"(?:[^"\\]|\\.)*"`)

func (s *Server) record(r *http.Request, body []byte) {
	h := r.Header.Clone()
	if a := h.Get("Authorization"); a != "" {
		if strings.HasPrefix(a, "Bearer ") {
			h.Set("Authorization", "Bearer "+redacted)
		} else {
			h.Set("Authorization", redacted)
		}
	}
	for _, k := range []string{"X-Api-Key", "Apikey"} {
		if h.Get(k) != "" {
			h.Set(k, redacted)
		}
	}
	q := r.URL.Query()
	if q.Has("apiKey") {
		q.Set("apiKey", redacted)
	}
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: r.URL.Path, Query: q.Encode(), Header: h,
		Body: secretJSON.ReplaceAll(body, []byte(`${1}"`+redacted+`"`)), Time: s.now,
	})
}

// maxBody bounds what the sandbox reads of a request.
const maxBody = 1 << 20

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return
	}
	if s.control && strings.HasPrefix(r.URL.Path, ControlPrefix) {
		s.serveControl(w, r, body)
		return
	}
	s.mu.Lock()
	s.record(r, body)
	fault, faulted := s.takeFaultLocked(r.URL.Path)
	s.mu.Unlock()

	if !faulted {
		s.route(w, r, body)
		return
	}
	if fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
			return
		}
	}
	var handled *httptest.ResponseRecorder
	if fault.Process {
		// Handle as usual (the call is placed) before misbehaving.
		handled = httptest.NewRecorder()
		r2 := r.Clone(context.WithoutCancel(r.Context()))
		r2.Body = io.NopCloser(bytes.NewReader(body))
		s.route(handled, r2, body)
	}
	fault.write(w, r, body, handled, s)
}

// handler is an endpoint; body is the request's, already read.
type handler func(w http.ResponseWriter, r *http.Request, body []byte)

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for pattern, h := range map[string]handler{
		"POST /api/v1/users/generate_access_token": s.tel4vnToken,
		"GET /api/auth":                                    s.omicallToken,
		"POST /api/auto_call/execute_by_phone":             s.executeAutoCall(true),
		"POST /api/auto_call/execute_by_extension":         s.executeAutoCall(false),
		"POST /api/v2/campaigns/{campaignId}/otp":          s.campaignRun("OTP"),
		"POST /api/v2/campaigns/{campaignId}/voice":        s.campaignRun("TTS"),
		"POST /api/v2/campaigns/{campaignId}/voice/import": s.importTemplate,
		"GET /api/v2/report/{callId}":                      s.report,
	} {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			h(w, r, body)
		})
	}
	return mux
}

// route serves r, whose body has been read already.
func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mux.ServeHTTP(w, r)
}
