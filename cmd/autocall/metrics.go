package main

// --metrics-addr: the command serves Prometheus's text format at /metrics
// from the SDK's and the batch's Observer, written here by hand so that the
// command (its own module since it moved to cmd/autocall) takes no
// OpenTelemetry or Prometheus dependency. The names and
// labels are those github.com/autocallvn/autocall-go/otel gives through
// OpenTelemetry's Prometheus exporter, so one dashboard reads both.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
)

// addMetricsFlags registers --metrics-addr and --metrics-linger.
func addMetricsFlags(cmd *cobra.Command, mf *metricsFlags) {
	cmd.Flags().StringVar(&mf.addr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics while the command runs (e.g. 127.0.0.1:9464)")
	cmd.Flags().DurationVar(&mf.linger, "metrics-linger", 0, "with --metrics-addr: keep serving this long after the run, for a last scrape")
}

type metricsFlags struct {
	addr   string
	linger time.Duration
}

// serveMetrics starts serving /metrics at mf.addr; with no address it
// returns nil and a stop that does nothing. stop lingers as asked, then
// shuts the server.
func (a *app) serveMetrics(mf metricsFlags) (m *promMetrics, stop func(), err error) {
	if mf.addr == "" {
		return nil, func() {}, nil
	}
	ln, err := net.Listen("tcp", mf.addr)
	if err != nil {
		return nil, nil, usagef("--metrics-addr: %v", err)
	}
	m = newPromMetrics()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(a.stderr, "serving metrics at http://%s/metrics\n", ln.Addr())
	return m, func() {
		time.Sleep(mf.linger)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = srv.Close()
		}
	}, nil
}

// observeRunner makes m r's observer, when metrics are served.
func (m *promMetrics) observeRunner(r *batch.Runner) {
	if m != nil {
		r.Observer = m
	}
}

// clientOption is WithObserver(m), or nothing when metrics are not served.
func (m *promMetrics) clientOption() autocall.Option {
	if m == nil {
		return nil // NewClient skips a nil Option
	}
	return autocall.WithObserver(m)
}

// countRequests counts the answers h gives by status (autocall listen).
func (m *promMetrics) countRequests(h http.Handler) http.Handler {
	if m == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.add(&m.listen, labels{"code", strconv.Itoa(sw.status)}, 1)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

// labels is name, value, name, value… in a fixed order.
type labels []string

func (l labels) key() string { return strings.Join(l, "\x00") }

// series is a metric's values by their labels.
type series map[string]*value

type value struct {
	labels labels
	count  float64   // a counter's value; a histogram's count
	sum    float64   // a histogram's
	bucket []float64 // a histogram's cumulative counts, by bound
}

// promMetrics implements autocall.Observer and batch.Observer, counting.
type promMetrics struct {
	mu                              sync.Mutex
	calls, tokens, pauses, jobs     series
	listen                          series
	callDur, requestDur, journalDur series
}

var (
	_ autocall.Observer = (*promMetrics)(nil)
	_ batch.Observer    = (*promMetrics)(nil)
)

// latencyBounds are those of the otel module, in seconds.
var latencyBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

func newPromMetrics() *promMetrics {
	return &promMetrics{calls: series{}, tokens: series{}, pauses: series{}, jobs: series{}, listen: series{},
		callDur: series{}, requestDur: series{}, journalDur: series{}}
}

func (m *promMetrics) add(s *series, l labels, n float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.get(*s, l).count += n
}

func (m *promMetrics) get(s series, l labels) *value {
	k := l.key()
	v := s[k]
	if v == nil {
		v = &value{labels: l}
		s[k] = v
	}
	return v
}

func (m *promMetrics) observe1(s *series, l labels, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.get(*s, l)
	if v.bucket == nil {
		v.bucket = make([]float64, len(latencyBounds))
	}
	secs := d.Seconds()
	v.count++
	v.sum += secs
	for i, b := range latencyBounds {
		if secs <= b {
			v.bucket[i]++
		}
	}
}

func providerLabel(p autocall.Provider) string { return strings.ToLower(p.String()) }

// StartCall implements autocall.Observer: nothing to start.
func (m *promMetrics) StartCall(ctx context.Context, _ autocall.Operation) context.Context {
	return ctx
}

// EndCall counts the call and its duration.
func (m *promMetrics) EndCall(_ context.Context, op autocall.Operation, end autocall.CallEnd) {
	l := labels{"autocall_provider", providerLabel(op.Provider), "autocall_operation", op.Name,
		"autocall_outcome_class", end.Outcome.Class.String(), "autocall_outcome_cause", string(end.Outcome.Cause)}
	m.add(&m.calls, l, 1)
	m.observe1(&m.callDur, l, end.Duration)
}

// Attempt records the attempt's duration.
func (m *promMetrics) Attempt(_ context.Context, op autocall.Operation, a autocall.Attempt) {
	l := labels{"http_request_method", op.Method, "url_template", op.Route, "http_response_status_code", strconv.Itoa(a.Status)}
	m.observe1(&m.requestDur, l, a.Duration)
}

// TokenFetch counts the fetch by outcome.
func (m *promMetrics) TokenFetch(_ context.Context, t autocall.TokenFetch) {
	m.add(&m.tokens, labels{"autocall_provider", providerLabel(t.Provider),
		"autocall_outcome_class", t.Outcome.Class.String(), "autocall_outcome_cause", string(t.Outcome.Cause)}, 1)
}

// RateLimited counts the pause.
func (m *promMetrics) RateLimited(_ context.Context, op autocall.Operation, p autocall.Pause) {
	m.add(&m.pauses, labels{"autocall_provider", providerLabel(op.Provider), "autocall_operation", op.Name,
		"autocall_pause_handed", strconv.FormatBool(p.Handed)}, 1)
}

// Job counts the job by state.
func (m *promMetrics) Job(_ context.Context, j batch.JobEnd) {
	m.add(&m.jobs, labels{"autocall_job_state", string(j.State), "autocall_job_skipped", strconv.FormatBool(j.Skipped)}, 1)
}

// JournalOp records the journal write's duration.
func (m *promMetrics) JournalOp(_ context.Context, op string, d time.Duration, err error) {
	l := labels{"autocall_journal_operation", op}
	if err != nil {
		l = append(l, "error_type", "journal")
	}
	m.observe1(&m.journalDur, l, d)
}

// ServeHTTP writes the text exposition format (version 0.0.4).
func (m *promMetrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.mu.Lock()
	defer m.mu.Unlock()
	counter(w, "autocall_calls_total", "SDK operations by operation and outcome (class and cause)", m.calls)
	counter(w, "autocall_token_fetches_total", "Access token fetches by outcome; a class other than none is a failure", m.tokens)
	counter(w, "autocall_rate_limit_pauses_total", "Times the provider asked to slow down (HTTP 429)", m.pauses)
	counter(w, "autocall_batch_jobs_total", "Batch jobs by the state a run left them in", m.jobs)
	counter(w, "autocall_listen_requests_total", "Events received by autocall listen, by the status answered", m.listen)
	histogram(w, "autocall_call_duration_seconds", "Duration of SDK operations, retries included", m.callDur)
	histogram(w, "http_client_request_duration_seconds", "Duration of HTTP client requests (one attempt)", m.requestDur)
	histogram(w, "autocall_journal_duration_seconds", "Duration of batch journal claims and settles", m.journalDur)
}

func sorted(s series) []*value {
	out := make([]*value, 0, len(s))
	for _, v := range s {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].labels.key() < out[j].labels.key() })
	return out
}

// labelText is {a="x",b="y"}, with extra appended (le="…").
func labelText(l labels, extra ...string) string {
	all := append(append(labels{}, l...), extra...)
	if len(all) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(all); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(all[i] + `="` + escapeLabel(all[i+1]) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func counter(w io.Writer, name, help string, s series) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
	for _, v := range sorted(s) {
		fmt.Fprintf(w, "%s%s %s\n", name, labelText(v.labels), num(v.count))
	}
}

func histogram(w io.Writer, name, help string, s series) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	for _, v := range sorted(s) {
		for i, b := range latencyBounds {
			fmt.Fprintf(w, "%s_bucket%s %s\n", name, labelText(v.labels, "le", num(b)), num(v.bucket[i]))
		}
		fmt.Fprintf(w, "%s_bucket%s %s\n", name, labelText(v.labels, "le", "+Inf"), num(v.count))
		fmt.Fprintf(w, "%s_sum%s %s\n%s_count%s %s\n", name, labelText(v.labels), num(v.sum), name, labelText(v.labels), num(v.count))
	}
}
