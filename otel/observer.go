// Package autocallotel reports what an autocall-go Client and a batch
// Runner do to OpenTelemetry: a span per SDK call, following the HTTP
// client semantic conventions, and metrics of calls, latencies, token
// fetches, rate-limit pauses, batch jobs and journal writes.
//
//	obs, err := autocallotel.New() // the global TracerProvider and MeterProvider
//	c, err := autocall.NewClient(url, autocall.WithSecretKey(key), autocall.WithObserver(obs))
//	r := &batch.Runner{TEL4VN: c, Journal: j, Observer: obs}
//
// Nothing it records holds a secret or a whole phone number: the SDK tells
// it neither (no body, query or error text; the campaign id with the
// Client's secrets redacted), and a campaign id that holds a phone number
// keeps only its last three digits. Metric attributes have bounded
// cardinality: provider, operation, class, cause, HTTP method, route,
// status, server, job state; never a key, a phone, a campaign or a call id.
package autocallotel

import (
	"context"
	"time"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the spans and metrics.
const ScopeName = "github.com/autocallvn/autocall-go/otel"

// Observer implements autocall.Observer and batch.Observer.
type Observer struct {
	tracer trace.Tracer
	m      instruments
}

var (
	_ autocall.Observer = (*Observer)(nil)
	_ batch.Observer    = (*Observer)(nil)
)

// Option configures New.
type Option func(*config)

type config struct {
	tp trace.TracerProvider
	mp metric.MeterProvider
}

// WithTracerProvider records spans there (default otel.GetTracerProvider()).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider records metrics there (default otel.GetMeterProvider()).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// New returns an Observer recording to the given providers, or the global
// ones. The error is an instrument the MeterProvider refused.
func New(opts ...Option) (*Observer, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	o := &Observer{tracer: cfg.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(autocall.Version))}
	if err := o.m.init(cfg.mp.Meter(ScopeName, metric.WithInstrumentationVersion(autocall.Version))); err != nil {
		return nil, err
	}
	return o, nil
}

// StartCall starts the call's span, a client span named after the
// operation ("OTP.Send"), with the request's HTTP attributes.
func (o *Observer) StartCall(ctx context.Context, op autocall.Operation) context.Context {
	ctx, _ = o.tracer.Start(ctx, op.Name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(spanAttrs(op)...))
	return ctx
}

// EndCall ends the call's span, its status from the outcome's class, and
// counts the call.
func (o *Observer) EndCall(ctx context.Context, op autocall.Operation, end autocall.CallEnd) {
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(endAttrs(end)...)
	if end.Outcome.Class != autocall.ClassNone {
		span.SetStatus(codes.Error, errorType(end.Outcome))
	}
	span.End(trace.WithTimestamp(end.Start.Add(end.Duration)))
	o.m.call(ctx, op, end)
}

// Attempt adds an event to the call's span and records the attempt's
// duration (http.client.request.duration).
func (o *Observer) Attempt(ctx context.Context, op autocall.Operation, a autocall.Attempt) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("autocall.attempt", trace.WithTimestamp(a.Start.Add(a.Duration)), trace.WithAttributes(attemptAttrs(a)...))
	}
	o.m.attempt(ctx, op, a)
}

// TokenFetch records the fetch as a span of its own and counts it.
func (o *Observer) TokenFetch(ctx context.Context, t autocall.TokenFetch) {
	_, span := o.tracer.Start(ctx, "autocall.token_fetch", trace.WithTimestamp(t.Start), trace.WithAttributes(tokenAttrs(t)...))
	if t.Outcome.Class != autocall.ClassNone {
		span.SetStatus(codes.Error, errorType(t.Outcome))
	}
	span.End(trace.WithTimestamp(t.Start.Add(t.Duration)))
	o.m.token(ctx, t)
}

// RateLimited adds an event to the call's span and counts the pause.
func (o *Observer) RateLimited(ctx context.Context, op autocall.Operation, p autocall.Pause) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		span.AddEvent("autocall.rate_limited", trace.WithAttributes(pauseAttrs(p)...))
	}
	o.m.pause(ctx, op, p)
}

// Job counts a batch job's end by its state.
func (o *Observer) Job(ctx context.Context, j batch.JobEnd) { o.m.job(ctx, j) }

// JournalOp records a journal write's latency.
func (o *Observer) JournalOp(ctx context.Context, op string, d time.Duration, err error) {
	o.m.journal(ctx, op, d, err)
}
