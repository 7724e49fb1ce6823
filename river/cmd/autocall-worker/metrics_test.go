package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/riverqueue/river"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
	"github.com/autocallvn/autocall-go/internal/promtext"
	"github.com/autocallvn/autocall-go/internal/secretforms"
	autocallriver "github.com/autocallvn/autocall-go/river"
)

// subscriber is what every form of the test number holds: no label may.
const subscriber = "987654321"

// phoneForms are the test number as an order service may write it.
var phoneForms = []string{"0987654321", "+84987654321", "84987654321", "+84 987 654 321",
	"0987.654.321", "0987-654-321", "(+84) 987 654 321"}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// scrape is /metrics read over HTTP: its text, and each sample's value by
// its name and labels in a canonical order ("name{a=x,b=y}").
type scrape struct {
	text    string
	samples map[string]float64
}

var labelRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

func scrapeMetrics(url string) (*scrape, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	raw, err := promtext.Samples(strings.NewReader(string(b)))
	if err != nil {
		return nil, err
	}
	// Keyed with the labels sorted and unquoted: an order of the
	// exporter's own is not the test's business.
	s := &scrape{text: string(b), samples: map[string]float64{}}
	for line, v := range raw {
		name, labels, _ := strings.Cut(line, "{")
		var kv []string
		for _, m := range labelRE.FindAllStringSubmatch(labels, -1) {
			kv = append(kv, m[1]+"="+m[2])
		}
		slices.Sort(kv)
		s.samples[name+"{"+strings.Join(kv, ",")+"}"] = v
	}
	return s, nil
}

// jobs is autocall_batch_jobs_total for a state, of jobs this worker sent
// or refused (not skipped).
func (s *scrape) jobs(state batch.State) float64 {
	return s.samples["autocall_batch_jobs_total{autocall_job_skipped=false,autocall_job_state="+string(state)+"}"]
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// /metrics, scraped over HTTP while the built worker works jobs against
// the sandbox, counts them as they go; at the end its placed and refused
// counts are those the journal holds. The jobs' keys and callees hold
// the phone number in its forms and the secrets, and refusals echo them
// in every form of the SDK's corpus: none reaches the scrape.
func TestMetricsScrapedDuringAWorkerRun(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	dbURL, pool := migratedDB(t)

	const callbackKey = "cb-key-Khoá-bí-mật-77"
	var echoed []string
	for _, f := range secretforms.All {
		echoed = append(echoed, f.Enc(autocalltest.SecretKey), f.Enc(callbackKey))
	}
	echo, _ := json.Marshal(map[string]string{"error": "bad request " + strings.Join(echoed, " ") + " " + strings.Join(phoneForms, " ")})
	// The creates are slowed so that a scrape sees the run part-way; one
	// in five is refused with the secrets and the number echoed.
	const n = 40
	for i := 0; i < n; i++ {
		f := autocalltest.Fault{Process: true, Delay: 60 * time.Millisecond}
		if i%5 == 1 {
			f = autocalltest.Fault{Status: 400, Body: string(echo)}
		}
		srv.FailNext("/api/v2/campaigns/1/otp", 1, f)
	}
	addr := freeAddr(t)
	w := startWorkerEnv(t, dbURL, srv, []string{"AUTOCALL_CALLBACK_KEY=" + callbackKey},
		"--workers", "2", "--metrics-addr", addr)

	insertOnly, err := river.NewClient(riverpgxv5New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var params []river.InsertManyParams
	for i := 0; i < n; i++ {
		phone := phoneForms[i%len(phoneForms)]
		if i%8 == 0 {
			phone = "12345" // refused by the SDK: no request leaves
		}
		c := autocallriver.Common{Key: fmt.Sprintf("order-%d %s %s", i, phone, autocalltest.SecretKey)}
		if i == 3 {
			c.Purpose = "promotion" // no such purpose: refused by the worker, before the SDK
		}
		params = append(params, river.InsertManyParams{Args: autocallriver.OTPArgs{
			Common:     c,
			CampaignID: "1", Caller: "02873001234", Callees: []string{phone}, TemplateName: "otp", Code: "1234",
			CallbackURL: "https://shop.example/cb?phone=" + phone}})
	}
	if _, err := insertOnly.InsertMany(ctx, params); err != nil {
		t.Fatal(err)
	}
	j, err := autocallriver.NewJournal(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()

	url := "http://" + addr + "/metrics"
	var last *scrape
	midRun := false
	counts := map[batch.State]int{}
	var settled time.Time
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m, err := scrapeMetrics(url); err == nil {
			if last != nil && m.jobs(batch.Placed) < last.jobs(batch.Placed) {
				t.Errorf("the placed counter went down: %v then %v", last.jobs(batch.Placed), m.jobs(batch.Placed))
			}
			last = m
			if done := m.jobs(batch.Placed) + m.jobs(batch.Refused); done > 0 && done < n {
				midRun = true
			}
		}
		recs, err := j.Records(ctx)
		if err != nil {
			t.Fatal(err)
		}
		clear(counts)
		for _, r := range recs {
			counts[r.State]++
		}
		// Settled in the journal, and counted (a job is counted once its
		// outcome is written): or a count is missing, told below.
		if counts[batch.Placed]+counts[batch.Refused] == n && last != nil {
			if settled.IsZero() {
				settled = time.Now()
			}
			if last.jobs(batch.Placed)+last.jobs(batch.Refused) == n || time.Since(settled) > 5*time.Second {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run did not end: journal %v, last scrape placed %v refused %v\n%s",
				counts, last.jobs(batch.Placed), last.jobs(batch.Refused), tail(w.out.String(), 2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !midRun {
		t.Error("no scrape saw the run part-way")
	}
	if counts[batch.Placed] == 0 || counts[batch.Refused] < n/8+2 {
		t.Fatalf("the run is not what the test means: %v", counts)
	}
	if got := last.jobs(batch.Placed); got != float64(counts[batch.Placed]) {
		t.Errorf("placed: /metrics says %v, the journal %d", got, counts[batch.Placed])
	}
	if got := last.jobs(batch.Refused); got != float64(counts[batch.Refused]) {
		t.Errorf("refused: /metrics says %v, the journal %d", got, counts[batch.Refused])
	}
	// The SDK's side and the journal's, under the otel module's names.
	if got := last.samples["autocall_calls_total{autocall_operation=OTP.Send,autocall_outcome_cause=,autocall_outcome_class=none,autocall_provider=tel4vn}"]; got != float64(counts[batch.Placed]) {
		t.Errorf("successful OTP.Send calls: %v, placed %d\n%s", got, counts[batch.Placed], last.text)
	}
	if last.samples["autocall_journal_duration_seconds_count{autocall_journal_operation=claim}"] < n {
		t.Errorf("journal claims not timed:\n%s", last.text)
	}
	if !strings.Contains(last.text, `service_name="autocall-worker"`) {
		t.Errorf("the metrics do not say whose they are (service.name):\n%s", last.text)
	}
	// Each HTTP attempt, under the HTTP client conventions' name.
	attempts := 0.0
	for k, v := range last.samples {
		if strings.HasPrefix(k, "http_client_request_duration_seconds_count{") {
			attempts += v
		}
	}
	if attempts < float64(counts[batch.Placed]) {
		t.Errorf("HTTP attempts timed: %v, placed %d\n%s", attempts, counts[batch.Placed], last.text)
	}
	// River's own, through otelriver.
	if last.samples["river_work_count_total{attempt=1,kind=autocall_otp,priority=1,queue="+autocallriver.Queue+",status=ok}"] == 0 {
		t.Errorf("no River work count:\n%s", last.text)
	}

	for _, line := range strings.Split(last.text, "\n") {
		for _, f := range secretforms.All {
			for _, secret := range []string{autocalltest.SecretKey, callbackKey} {
				if enc := f.Enc(secret); len(enc) >= 8 && strings.Contains(line, enc) {
					t.Errorf("the secret in form %q is served: %q", f.Name, line)
				}
			}
		}
		if strings.Contains(line, "order-") {
			t.Errorf("a job's key is served: %q", line)
		}
		for _, m := range labelRE.FindAllStringSubmatch(line, -1) {
			if strings.Contains(digitsOf(m[2]), subscriber) {
				t.Errorf("a whole phone number is served: %q", line)
			}
		}
		if strings.HasPrefix(line, "#") && strings.Contains(digitsOf(line), subscriber) {
			t.Errorf("a whole phone number is served: %q", line)
		}
	}
	w.term(t)
}
