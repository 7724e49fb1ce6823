package autocallotel

import (
	"context"
	"time"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// Metric names. A Prometheus exporter shows them as autocall_calls_total,
// autocall_call_duration_seconds, http_client_request_duration_seconds,
// autocall_token_fetches_total, autocall_rate_limit_pauses_total,
// autocall_batch_jobs_total and autocall_journal_duration_seconds; the
// command's --metrics-addr serves the same names without OpenTelemetry.
const (
	MetricCalls           = "autocall.calls"
	MetricCallDuration    = "autocall.call.duration"
	MetricRequestDuration = "http.client.request.duration"
	MetricTokenFetches    = "autocall.token.fetches"
	MetricPauses          = "autocall.rate_limit.pauses"
	MetricJobs            = "autocall.batch.jobs"
	MetricJournalDuration = "autocall.journal.duration"
)

// latencyBuckets, in seconds: from a loopback answer to a slow provider.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

type instruments struct {
	calls, tokens, pauses, jobs metric.Int64Counter
	callDur, reqDur, journalDur metric.Float64Histogram
}

func (m *instruments) init(meter metric.Meter) error {
	var err error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, e := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		if err == nil {
			err = e
		}
		return c
	}
	hist := func(name, desc string) metric.Float64Histogram {
		h, e := meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc), metric.WithExplicitBucketBoundaries(latencyBuckets...))
		if err == nil {
			err = e
		}
		return h
	}
	m.calls = counter(MetricCalls, "{call}", "SDK operations by operation and outcome (class and cause)")
	m.tokens = counter(MetricTokenFetches, "{fetch}", "Access token fetches by outcome; a class other than none is a failure")
	m.pauses = counter(MetricPauses, "{pause}", "Times the provider asked to slow down (HTTP 429)")
	m.jobs = counter(MetricJobs, "{job}", "Batch jobs by the state a run left them in")
	m.callDur = hist(MetricCallDuration, "Duration of SDK operations, retries included")
	m.reqDur = hist(MetricRequestDuration, "Duration of HTTP client requests (one attempt)")
	m.journalDur = hist(MetricJournalDuration, "Duration of batch journal claims and settles")
	return err
}

func (m *instruments) call(ctx context.Context, op autocall.Operation, end autocall.CallEnd) {
	set := metric.WithAttributeSet(attribute.NewSet(
		keyProvider.String(provider(op.Provider)), keyOperation.String(op.Name),
		keyClass.String(end.Outcome.Class.String()), keyCause.String(string(end.Outcome.Cause))))
	m.calls.Add(ctx, 1, set)
	m.callDur.Record(ctx, end.Duration.Seconds(), set)
}

func (m *instruments) attempt(ctx context.Context, op autocall.Operation, a autocall.Attempt) {
	kv := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(op.Method), semconv.URLTemplate(op.Route),
		semconv.ServerAddress(op.Host), semconv.ServerPort(op.Port),
	}
	if a.Status != 0 {
		kv = append(kv, semconv.HTTPResponseStatusCode(a.Status))
	}
	if a.Outcome.Class != autocall.ClassNone {
		kv = append(kv, semconv.ErrorTypeKey.String(errorType(a.Outcome)))
	}
	m.reqDur.Record(ctx, a.Duration.Seconds(), metric.WithAttributes(kv...))
}

func (m *instruments) token(ctx context.Context, t autocall.TokenFetch) {
	m.tokens.Add(ctx, 1, metric.WithAttributes(keyProvider.String(provider(t.Provider)),
		keyClass.String(t.Outcome.Class.String()), keyCause.String(string(t.Outcome.Cause))))
}

func (m *instruments) pause(ctx context.Context, op autocall.Operation, p autocall.Pause) {
	m.pauses.Add(ctx, 1, metric.WithAttributes(keyProvider.String(provider(op.Provider)), keyOperation.String(op.Name), keyHanded.Bool(p.Handed)))
}

func (m *instruments) job(ctx context.Context, j batch.JobEnd) {
	m.jobs.Add(ctx, 1, metric.WithAttributes(keyJobState.String(string(j.State)), keySkipped.Bool(j.Skipped)))
}

func (m *instruments) journal(ctx context.Context, op string, d time.Duration, err error) {
	kv := []attribute.KeyValue{keyJournalOp.String(op)}
	if err != nil {
		kv = append(kv, semconv.ErrorTypeKey.String("journal"))
	}
	m.journalDur.Record(ctx, d.Seconds(), metric.WithAttributes(kv...))
}
