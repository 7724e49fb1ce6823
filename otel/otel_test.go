package autocallotel_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	autocallotel "github.com/autocallvn/autocall-go/otel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// recorded is the real OpenTelemetry SDK, recording in memory.
type recorded struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	obs    *autocallotel.Observer
}

func newRecorded(t *testing.T) *recorded {
	t.Helper()
	r := &recorded{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	var err error
	r.obs, err = autocallotel.New(autocallotel.WithTracerProvider(tp), autocallotel.WithMeterProvider(mp))
	require.NoError(t, err)
	return r
}

func (r *recorded) metrics(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, r.reader.Collect(context.Background(), &rm))
	return rm
}

// sum is the value of counter name at the data point with exactly attrs
// among its attributes.
func (r *recorded) sum(t *testing.T, name string, attrs ...attribute.KeyValue) int64 {
	t.Helper()
	var n int64
	for _, sm := range r.metrics(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				if hasAll(dp.Attributes, attrs) {
					n += dp.Value
				}
			}
		}
	}
	return n
}

func hasAll(set attribute.Set, attrs []attribute.KeyValue) bool {
	for _, kv := range attrs {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// lastSpan is the last ended span named name.
func (r *recorded) lastSpan(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	ended := r.spans.Ended()
	for i := len(ended) - 1; i >= 0; i-- {
		if ended[i].Name() == name {
			return ended[i]
		}
	}
	t.Fatalf("no span %q among %d", name, len(ended))
	return nil
}

func attrMap(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

var otpReq = &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "otp", Code: "123456"}

func fast() autocall.Option {
	return autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 1})
}

// Each class of the outcome table, driven through a real socket (the
// sandbox, or a closed port), gives the call span its status and
// attributes, and the call counter its class and cause.
func TestEachClassGivesSpanStatusAttributesAndCounter(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	rec := newRecorded(t)
	tel, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey), autocall.WithObserver(rec.obs), fast())
	require.NoError(t, err)
	omi, err := autocall.NewClient(srv.URL, autocall.WithAPIKey(autocalltest.APIKey), autocall.WithObserver(rec.obs), fast())
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedURL := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	down, err := autocall.NewClient(closedURL, autocall.WithAccessToken("tok-12345678"), autocall.WithProvider(autocall.TEL4VN), autocall.WithObserver(rec.obs), fast())
	require.NoError(t, err)
	ctx := context.Background()

	cases := []struct {
		class  autocall.Class
		cause  autocall.Cause
		status int
		op     string
		run    func() error
	}{
		{autocall.ClassNone, "", 200, "OTP.Send", func() error { _, err := tel.OTP.Send(ctx, "1", otpReq); return err }},
		{autocall.ClassInvalid, autocall.CauseInvalid, 0, "OTP.Send", func() error {
			_, err := omi.OTP.Send(ctx, "1", otpReq) // a TEL4VN method on an OMICall client
			return err
		}},
		{autocall.ClassRateLimited, autocall.CauseRate, 429, "OTP.Send", func() error {
			srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Status: 429, Body: `{"error":"Too Many Requests"}`})
			_, err := tel.OTP.Send(ctx, "1", otpReq, autocall.OnRateLimit(func(time.Duration) {}))
			return err
		}},
		{autocall.ClassRefused, autocall.CauseQuota, 200, "AutoCall.ExecuteByPhone", func() error {
			srv.SetAutoCallEnabled(false)
			defer srv.SetAutoCallEnabled(true)
			_, err := omi.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{Name: "n", Voice: autocall.VoiceBanMai,
				Dialplan: autocall.NewDialplan().Text("Xin chào"), Phones: []string{"0987654321"}})
			return err
		}},
		{autocall.ClassUnknown, "", 0, "OTP.Send", func() error {
			srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Process: true, Reset: true})
			_, err := tel.OTP.Send(ctx, "1", otpReq)
			return err
		}},
		{autocall.ClassNotSent, autocall.CauseNetwork, 0, "OTP.Send", func() error { _, err := down.OTP.Send(ctx, "1", otpReq); return err }},
		{autocall.ClassFailed, autocall.CauseServer, 503, "CDR.Get", func() error {
			srv.FailNext("/api/v2/report/*", 1, autocalltest.Fault{Status: 503, HTML: true})
			_, err := tel.CDR.Get(ctx, "some-call")
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.class.String(), func(t *testing.T) {
			err := tc.run()
			got := autocall.OutcomeOf(err)
			require.Equal(t, tc.class, got.Class, "the SDK's own outcome: %v", err)
			require.Equal(t, tc.cause, got.Cause)

			span := rec.lastSpan(t, tc.op)
			a := attrMap(span.Attributes())
			assert.Equal(t, tc.class.String(), a["autocall.outcome.class"])
			assert.NotEmpty(t, a["http.request.method"])
			assert.Equal(t, "127.0.0.1", a["server.address"])
			if tc.status != 0 {
				assert.Equal(t, fmt.Sprint(tc.status), a["http.response.status_code"])
			} else {
				assert.NotContains(t, a, "http.response.status_code")
			}
			if tc.class == autocall.ClassNone {
				assert.Equal(t, codes.Unset, span.Status().Code)
				assert.NotContains(t, a, "error.type")
			} else {
				want := tc.class.String()
				if tc.cause != "" {
					want += ":" + string(tc.cause)
				}
				assert.Equal(t, codes.Error, span.Status().Code)
				assert.Equal(t, want, span.Status().Description)
				assert.Equal(t, want, a["error.type"])
			}
			assert.Equal(t, int64(1), rec.sum(t, autocallotel.MetricCalls,
				attribute.String("autocall.operation", tc.op),
				attribute.String("autocall.outcome.class", tc.class.String()),
				attribute.String("autocall.outcome.cause", string(tc.cause))))
		})
	}
	// A 429 is a pause too; the token fetches are counted and traced.
	assert.Equal(t, int64(1), rec.sum(t, autocallotel.MetricPauses, attribute.Bool("autocall.pause_handed", true)))
	assert.Equal(t, int64(2), rec.sum(t, autocallotel.MetricTokenFetches, attribute.String("autocall.outcome.class", "none")))
	assert.Equal(t, codes.Unset, rec.lastSpan(t, "autocall.token_fetch").Status().Code)
}

// A token fetch the provider refuses is counted as a failure, its span
// an error.
func TestTokenFailureIsCountedAndTraced(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	rec := newRecorded(t)
	c, err := autocall.NewClient(srv.URL, autocall.WithSecretKey("not-the-sandbox-key-0000"), autocall.WithObserver(rec.obs), fast())
	require.NoError(t, err)
	_, err = c.OTP.Send(context.Background(), "1", otpReq)
	require.ErrorIs(t, err, autocall.ErrNotSent)
	assert.Equal(t, int64(1), rec.sum(t, autocallotel.MetricTokenFetches,
		attribute.String("autocall.outcome.class", "not_sent"), attribute.String("autocall.outcome.cause", "auth")))
	span := rec.lastSpan(t, "autocall.token_fetch")
	assert.Equal(t, codes.Error, span.Status().Code)
	assert.Equal(t, "not_sent:auth", span.Status().Description)
	// The fetch's span is a child of the call's that waited for it.
	call := rec.lastSpan(t, "OTP.Send")
	assert.Equal(t, call.SpanContext().SpanID(), span.Parent().SpanID())
	assert.NotContains(t, attrMap(call.Attributes()), "http.response.status_code", "the call made no attempt of its own")
	assert.Equal(t, "not_sent:auth", attrMap(call.Attributes())["error.type"])
}
