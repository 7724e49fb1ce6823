package main

// --metrics-addr: the worker serves Prometheus's text format at /metrics
// through OpenTelemetry (github.com/autocallvn/autocall-go/otel and the
// Prometheus exporter), with River's own metrics (otelriver). The names
// and labels are those `autocall --metrics-addr` serves, so one dashboard
// reads the command's batches and the worker's jobs.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/otel/attribute"
	promexporter "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	autocall "github.com/autocallvn/autocall-go"
	autocallotel "github.com/autocallvn/autocall-go/otel"
	autocallriver "github.com/autocallvn/autocall-go/river"
)

// otelriverScope is the instrumentation scope of otelriver's metrics.
const otelriverScope = "github.com/riverqueue/rivercontrib/otelriver"

// telemetry is what --metrics-addr sets up: the Observer the clients and
// the worker report to, River's middleware, and the server.
type telemetry struct {
	obs  *autocallotel.Observer
	mw   *otelriver.Middleware
	mp   *sdkmetric.MeterProvider
	srv  *http.Server
	addr net.Addr
}

// serveMetrics starts serving /metrics at a.metricsAddr; with no address
// it returns nil (no observer: the SDK costs what it does without one).
func (a *app) serveMetrics() (*telemetry, error) {
	if a.metricsAddr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", a.metricsAddr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	reg := prometheus.NewRegistry()
	// No scope labels: the series are those `autocall --metrics-addr`
	// writes by hand; the metric names tell the two scopes apart.
	exp, err := promexporter.New(promexporter.WithRegisterer(reg), promexporter.WithoutScopeInfo())
	if err != nil {
		ln.Close()
		return nil, err
	}
	// service.name says whose metrics these are (OTel's default reads
	// unknown_service); OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES,
	// read after it, still win.
	res, err := resource.New(context.Background(), resource.WithAttributes(attribute.String("service.name", "autocall-worker")),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil {
		ln.Close()
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res),
		// A job's tags are the inserter's words, unbounded (an order id,
		// a phone): kept out of River's labels.
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Scope: instrumentation.Scope{Name: otelriverScope}},
			sdkmetric.Stream{AttributeFilter: attribute.NewDenyKeysFilter("tag")})))
	obs, err := autocallotel.New(autocallotel.WithMeterProvider(mp))
	if err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t := &telemetry{obs: obs, mp: mp, addr: ln.Addr(),
		mw:  otelriver.NewMiddleware(&otelriver.MiddlewareConfig{MeterProvider: mp}),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = t.srv.Serve(ln) }()
	fmt.Fprintf(a.stdout, "autocall-worker: serving metrics at http://%s/metrics\n", ln.Addr())
	return t, nil
}

// worker makes the observer the worker's, and its clients'.
func (t *telemetry) worker(w *autocallriver.Worker) {
	if t != nil {
		w.Observer = t.obs
	}
}

// clientOption is WithObserver, or nothing when metrics are not served.
func (t *telemetry) clientOption() autocall.Option {
	if t == nil {
		return nil // NewClient skips a nil Option
	}
	return autocall.WithObserver(t.obs)
}

// river adds otelriver's middleware to cfg: River's spans (to the global
// TracerProvider) and metrics (work counts and durations by kind, queue,
// status).
func (t *telemetry) river(cfg *river.Config) {
	if t != nil {
		cfg.Middleware = append(cfg.Middleware, rivertype.Middleware(t.mw))
	}
}

// stop shuts the server, after the last jobs were counted.
func (t *telemetry) stop() {
	if t == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = t.srv.Close()
	}
	_ = t.mp.Shutdown(ctx)
}
