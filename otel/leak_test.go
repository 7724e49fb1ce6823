package autocallotel_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
	"github.com/autocallvn/autocall-go/internal/secretforms"
	autocallotel "github.com/autocallvn/autocall-go/otel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"golang.org/x/text/unicode/norm"
)

// subscriber is the part of the test phone number that every form of it
// holds: no recorded string may hold it, whatever stands between digits.
const subscriber = "987654321"

// phoneForms is the test number in every form a caller may write it.
var phoneForms = func() []string {
	base := []string{
		"0987654321", "+84987654321", "84987654321", "+84 987 654 321", "0987 654 321",
		"0987.654.321", "0987-654-321", "+84-987-654-321", "84.987.654.321", "(+84) 987 654 321",
		"０９８７６５４３２１", // full-width digits
	}
	var all []string
	for _, p := range base {
		all = append(all, p, norm.NFD.String("Khách hàng Nguyễn Văn Ánh ")+p+norm.NFD.String(" đã đồng ý"))
	}
	return all
}()

// recordedStrings is every string the OpenTelemetry SDK holds: span names,
// attributes, events and their attributes, status descriptions; metric
// names, data point attributes and exemplars' filtered attributes.
func recordedStrings(t *testing.T, rec *recorded) []string {
	t.Helper()
	var out []string
	kvs := func(list []attribute.KeyValue) {
		for _, kv := range list {
			out = append(out, string(kv.Key), kv.Value.String())
		}
	}
	for _, s := range rec.spans.Ended() {
		out = append(out, s.Name(), s.Status().Description)
		kvs(s.Attributes())
		for _, e := range s.Events() {
			out = append(out, e.Name)
			kvs(e.Attributes)
		}
		for _, l := range s.Links() {
			kvs(l.Attributes)
		}
		kvs(s.Resource().Attributes())
	}
	for _, sm := range rec.metrics(t).ScopeMetrics {
		for _, m := range sm.Metrics {
			out = append(out, m.Name, m.Description, m.Unit)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					kvs(dp.Attributes.ToSlice())
					for _, ex := range dp.Exemplars {
						kvs(ex.FilteredAttributes)
					}
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					kvs(dp.Attributes.ToSlice())
					for _, ex := range dp.Exemplars {
						kvs(ex.FilteredAttributes)
					}
				}
			default:
				t.Fatalf("metric %s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９': // full-width
			b.WriteRune('0' + (r - '０'))
		case unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// No secret in any of the SDK's forms, and no whole phone number in any
// of the forms above, reaches an attribute, an event, a label or an
// exemplar: campaign ids, callees, callers, callback keys and job keys
// carry them; answers echo them; every class of outcome is recorded.
func TestNoSecretNorPhoneInAnythingRecorded(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	rec := newRecorded(t)
	c, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey), autocall.WithObserver(rec.obs), fast())
	require.NoError(t, err)
	ctx := context.Background()
	const callbackKey = "cb-key-Khoá-bí-mật-77"

	var campaigns []string
	for _, f := range secretforms.All {
		campaigns = append(campaigns, "c-"+f.Enc(autocalltest.SecretKey), "c-"+f.Enc(callbackKey))
	}
	campaigns = append(campaigns, phoneForms...)
	for i, camp := range campaigns {
		// Every third request is answered with the secret and the phone
		// echoed in an error: the text of errors is never recorded.
		if i%3 == 0 {
			srv.FailNext("/api/v2/campaigns/*", 1, autocalltest.Fault{Status: 400,
				Body: fmt.Sprintf(`{"error":"bad %s %s %s"}`, autocalltest.SecretKey, callbackKey, phoneForms[i%len(phoneForms)])})
		}
		_, _ = c.OTP.Send(ctx, camp, &autocall.OTPRequest{Caller: "0987654321", Callees: []string{phoneForms[i%len(phoneForms)]},
			TemplateName: "otp " + phoneForms[i%len(phoneForms)], Code: "123456", CallbackURL: "https://example.com/cb?phone=0987654321", CallbackAPIKey: callbackKey})
	}
	// A batch whose keys are phone numbers and secrets.
	var jobs []batch.Job
	for i, p := range phoneForms {
		jobs = append(jobs, batch.Job{Key: fmt.Sprintf("%d %s %s", i, p, autocalltest.SecretKey), Op: batch.OTP("1", &autocall.OTPRequest{
			Caller: "02873001234", Callees: []string{p}, TemplateName: "t", Code: "M43TUI"})})
	}
	_, err = (&batch.Runner{TEL4VN: c, Journal: batch.NewMemJournal(), Observer: rec.obs}).Run(ctx, jobs)
	require.NoError(t, err)

	strs := recordedStrings(t, rec)
	require.NotEmpty(t, strs)
	var campaignsSeen int
	for _, s := range strs {
		for _, f := range secretforms.All {
			for _, secret := range []string{autocalltest.SecretKey, callbackKey} {
				if enc := f.Enc(secret); len(enc) >= 8 && strings.Contains(s, enc) {
					t.Errorf("the secret in form %q is recorded: %q", f.Name, s)
				}
			}
		}
		if strings.Contains(digitsOf(s), subscriber) {
			t.Errorf("a whole phone number is recorded: %q", s)
		}
		if strings.HasPrefix(s, "c-") || strings.Contains(s, "***321") {
			campaignsSeen++
		}
	}
	assert.Greater(t, campaignsSeen, len(phoneForms), "the campaign attribute is recorded, masked")
}

func TestMaskPhones(t *testing.T) {
	for in, want := range map[string]string{
		"c-0987654321":           "c-***321",
		"+84 987 654 321 x":      "***321 x",
		"2026-11-30":             "***130", // eight digits: masked, on the safe side
		"camp 12345":             "camp 12345",
		"(+84) 987-654-321.":     "(***321.",
		"0987.654.321, 0912 345": "***321, ***345",
		"0987654321０９８":          "***０９８", // one run, in any script
	} {
		assert.Equal(t, want, autocallotel.MaskPhones(in), in)
	}
}
