package autocallredis

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// workerEnv names a worker process; its client sends the name as the last
// product token of its User-Agent, so that a holdProxy can tell who sent a
// request.
const workerEnv = "AUTOCALLREDIS_WORKER"

// holdProxy stands between worker processes and the sandbox and forwards
// what they send, except that, once hold names some workers, their
// call-creating requests are kept: neither forwarded nor answered. Such a
// worker then has a job in flight for certain, whatever the timing, and
// the sandbox never sees that job's call.
type holdProxy struct {
	*httptest.Server
	create  string // the path of the call-creating request
	mu      sync.Mutex
	holding map[string]bool     // worker: hold its creates
	held    map[string][]string // worker: the callees of each held create, comma-separated
	release chan struct{}
	once    sync.Once
	// gate, once hold is called, keeps the other workers' creates waiting
	// until each held worker has a create held: on a loaded machine the
	// others could otherwise take every job first, leaving the held
	// workers nothing in flight to die with.
	gate     chan struct{}
	gateOnce sync.Once
}

func newHoldProxy(t *testing.T, target, createPath string) *holdProxy {
	u, err := url.Parse(target)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	// 16 workers at once: without idle connections kept, each request
	// would open a new one to the sandbox.
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		if r.Context().Err() == nil { // not a killed worker gone mid-request
			t.Logf("holdProxy: %s %s: %v", r.Method, r.URL.Path, err)
		}
		w.WriteHeader(http.StatusBadGateway)
	}
	p := &holdProxy{create: createPath, holding: map[string]bool{}, held: map[string][]string{}, release: make(chan struct{})}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == p.create && p.keep(r) {
			<-p.release
			// Close the connection unanswered; its worker is dead by now.
			panic(http.ErrAbortHandler)
		}
		if r.Method == http.MethodPost && r.URL.Path == p.create {
			p.mu.Lock()
			gate := p.gate
			p.mu.Unlock()
			if gate != nil {
				select {
				case <-gate:
				case <-r.Context().Done():
				}
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		p.releaseHeld() // Close waits for the held handlers
		p.Close()
	})
	return p
}

// keep records r as held when its worker is being held.
func (p *holdProxy) keep(r *http.Request) bool {
	ua := strings.Fields(r.UserAgent())
	if len(ua) == 0 {
		return false
	}
	worker := ua[len(ua)-1]
	p.mu.Lock()
	holding := p.holding[worker]
	p.mu.Unlock()
	if !holding {
		return false
	}
	var body struct {
		Callees []string `json:"callees"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held[worker] = append(p.held[worker], strings.Join(body.Callees, ","))
	return true
}

// hold keeps every create the workers send from now on.
func (p *holdProxy) hold(workers ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range workers {
		p.holding[w] = true
	}
	if p.gate == nil {
		p.gate = make(chan struct{})
	}
}

// openGate lets the other workers' creates through again.
func (p *holdProxy) openGate() {
	p.mu.Lock()
	gate := p.gate
	p.mu.Unlock()
	if gate != nil {
		p.gateOnce.Do(func() { close(gate) })
	}
}

// waitHeld waits until each of workers has a create held.
func (p *holdProxy) waitHeld(t *testing.T, workers ...string) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		p.mu.Lock()
		all := true
		for _, w := range workers {
			all = all && len(p.held[w]) > 0
		}
		p.mu.Unlock()
		if all {
			p.openGate()
			return
		}
		if !time.Now().Before(deadline) {
			p.openGate()
			require.Fail(t, "no create held from each of "+strings.Join(workers, ", "))
		}
		time.Sleep(time.Millisecond)
	}
}

// heldCallees returns, for each create held from worker, its callees
// comma-separated.
func (p *holdProxy) heldCallees(worker string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.held[worker]...)
}

// releaseHeld ends the held requests without forwarding them.
func (p *holdProxy) releaseHeld() {
	p.openGate()
	p.once.Do(func() { close(p.release) })
}
