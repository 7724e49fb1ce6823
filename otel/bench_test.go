package autocallotel_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	autocall "github.com/autocallvn/autocall-go"
	autocallotel "github.com/autocallvn/autocall-go/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// BenchmarkOTPSendOTel is the cost per call of OpenTelemetry: the same
// OTP.Send against one loopback server, by a Client without an Observer
// and one with this module's (every span sampled, through a batching
// processor, and every metric aggregated by the real SDK), in alternating
// batches so that the machine's drift cancels, as the SDK's bench_test.go
// does. Reported: the median per-batch ratio on/off, each side's median
// time per call and allocations per call.
//
//	cd otel && go test -run '^$' -bench OTel -benchmem -count 5 .
func BenchmarkOTPSendOTel(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"campaign_id":"1","results":{"fail":[],"success":["1_1_1_1_abc_0987654321"]}}}`)
	}))
	defer srv.Close()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()
	obs, err := autocallotel.New(autocallotel.WithTracerProvider(tp), autocallotel.WithMeterProvider(mp))
	if err != nil {
		b.Fatal(err)
	}
	client := func(opts ...autocall.Option) *autocall.Client {
		c, err := autocall.NewClient(srv.URL, append(opts, autocall.WithAccessToken("bench-token-123456"), autocall.WithProvider(autocall.TEL4VN))...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.CloseIdleConnections)
		return c
	}
	off, on := client(), client(autocall.WithObserver(obs))
	req := &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "template_otp_1", Code: "M43TUI"}
	send := func(c *autocall.Client) func() {
		return func() {
			if _, err := c.OTP.Send(context.Background(), "1", req); err != nil {
				b.Fatal(err)
			}
		}
	}
	sides := []func(){send(off), send(on)}
	for i := 0; i < 50; i++ {
		sides[0]()
		sides[1]()
	}
	allocs := []float64{testing.AllocsPerRun(200, sides[0]), testing.AllocsPerRun(200, sides[1])}
	const batch = 10
	var ns [2][]float64
	var ratios []float64
	b.ResetTimer()
	for done, round := 0, 0; done < b.N; done, round = done+batch, round+1 {
		var d [2]float64
		for k := range sides {
			i := (round + k) % 2
			start := time.Now()
			for j := 0; j < batch; j++ {
				sides[i]()
			}
			d[i] = float64(time.Since(start).Nanoseconds()) / batch
		}
		ns[0], ns[1] = append(ns[0], d[0]), append(ns[1], d[1])
		ratios = append(ratios, d[1]/d[0])
	}
	b.StopTimer()
	b.ReportMetric(median(ratios), "x-off")
	b.ReportMetric(median(ns[0]), "off-ns/call")
	b.ReportMetric(median(ns[1]), "on-ns/call")
	b.ReportMetric(median(ns[1])-median(ns[0]), "otel-ns/call")
	b.ReportMetric(allocs[0], "off-allocs/call")
	b.ReportMetric(allocs[1], "on-allocs/call")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
