package autocall

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Benchmarks of the SDK against a hand-written call doing the same HTTP
// work (net/http + encoding/json into a struct, no checks), interleaved in
// one benchmark against one loopback server: batches alternate between the
// two, so that the machine's drift cancels, and the median of the per-batch
// time ratios is reported as x-raw. Allocations are counted per call for
// each side (the server's own allocations, the same for both, included).
//
// Where given, a second, lean twin runs in the same rotation: what a careful
// hand-written integration does at the least cost (json.Marshal of a
// struct, a bytes.Reader body, two headers, a status check, a typed
// json.Decoder decode), reported as x-lean and lean-allocs/call.
//
//	go test -run '^$' -bench . -benchmem -count 5 .

// benchCDR is TEL4VN's Autocall API Reference's CDR answer, served for every report request.
var benchCDR = `{"data":{"campaign_id":"1","code_otp":"M43TUI","created_at":"2021-01-11 11:28:45","duration":15,"ended_at":"2021-01-11 11:29:09","id":"` + cdrID + `","keypress":"127","param":"{\"customer_name\":\"Nguyễn Văn A\",\"due_amount\":\"10.410.000\"}","phone_number":"0987654321","started_at":"2021-01-11 11:28:54","status":"ANSWERED","type":"TTS","user_id":"5"}}`

var benchOTP = `{"data":{"campaign_id":"1","results":{"fail":[],"success":["` + cdrID + `"]}}}`

var benchAutoCall = `{"instance_id":"stg","key_enabled":false,"payload":{"autocall_id":"6219e6f40a9c0f0007a3d0ba","name":"Chiến dịch giới thiệu sản phẩm mới"},"status_code":9999}`

func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/auto_call/"):
			_, _ = io.WriteString(w, benchAutoCall)
		case r.Method == http.MethodPost:
			_, _ = io.WriteString(w, benchOTP)
		default:
			_, _ = io.WriteString(w, benchCDR)
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchClient(b *testing.B, url string, p Provider) *Client {
	c, err := NewClient(url, WithAccessToken(testToken), WithProvider(p))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdleConnections)
	return c
}

// rawClient is what a hand-written integration uses.
func rawClient(b *testing.B) *http.Client {
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 30 * time.Second}
	b.Cleanup(hc.CloseIdleConnections)
	return hc
}

// rawDo sends req as a hand-written client would and decodes into out.
func rawDo(hc *http.Client, req *http.Request, out any) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

func rawPost(hc *http.Client, url, auth string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(bg(), http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	return rawDo(hc, req, out)
}

// leanPost is the lean twin of a call-creating request.
func leanPost(hc *http.Client, url, auth string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(bg(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	return leanDo(hc, req, out)
}

// leanDo sends req, checks the status and decodes the typed answer.
func leanDo(hc *http.Client, req *http.Request, out any) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// interleaved runs sdk, raw and (when not nil) lean in rotating batches
// (which goes first rotates too) and reports the median per-batch time
// ratios, each side's median time per call, and each side's allocations
// per call.
func interleaved(b *testing.B, sdk, raw, lean func() error) {
	b.Helper()
	must := func(f func() error) func() {
		return func() {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
	}
	sides := []func(){must(sdk), must(raw)}
	if lean != nil {
		sides = append(sides, must(lean))
	}
	for i := 0; i < 50; i++ { // warm the connection pools
		for _, f := range sides {
			f()
		}
	}
	allocs := make([]float64, len(sides))
	for i, f := range sides {
		allocs[i] = testing.AllocsPerRun(200, f)
	}
	const batch = 10
	ns := make([][]float64, len(sides))
	var ratios [2][]float64 // sdk/raw, sdk/lean
	timeBatch := func(f func()) float64 {
		start := time.Now()
		for j := 0; j < batch; j++ {
			f()
		}
		return float64(time.Since(start).Nanoseconds()) / batch
	}
	b.ResetTimer()
	for done, round := 0, 0; done < b.N; done, round = done+batch, round+1 {
		d := make([]float64, len(sides))
		for k := range sides {
			i := (round + k) % len(sides)
			d[i] = timeBatch(sides[i])
		}
		for i := range sides {
			ns[i] = append(ns[i], d[i])
			if i > 0 {
				ratios[i-1] = append(ratios[i-1], d[0]/d[i])
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(median(ratios[0]), "x-raw")
	b.ReportMetric(median(ns[0]), "sdk-ns/call")
	b.ReportMetric(median(ns[1]), "raw-ns/call")
	b.ReportMetric(allocs[0], "sdk-allocs/call")
	b.ReportMetric(allocs[1], "raw-allocs/call")
	if lean != nil {
		b.ReportMetric(median(ratios[1]), "x-lean")
		b.ReportMetric(median(ns[2]), "lean-ns/call")
		b.ReportMetric(allocs[2], "lean-allocs/call")
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

type rawCampaign struct {
	Caller  string            `json:"caller"`
	Callees []string          `json:"callees"`
	Params  map[string]string `json:"params"`
}

type rawCampaignAnswer struct {
	Data struct {
		CampaignID string `json:"campaign_id"`
		Results    struct {
			Success []string            `json:"success"`
			Fail    []map[string]string `json:"fail"`
		} `json:"results"`
	} `json:"data"`
}

func BenchmarkOTPSend(b *testing.B) {
	srv := benchServer(b)
	c := benchClient(b, srv.URL, TEL4VN)
	hc := rawClient(b)
	req := &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "template_otp_1", Code: "M43TUI"}
	type leanParams struct {
		CodeOTP      string `json:"code_otp"`
		TemplateName string `json:"template_name"`
	}
	type leanCampaign struct {
		Caller  string     `json:"caller"`
		Callees []string   `json:"callees"`
		Params  leanParams `json:"params"`
	}
	interleaved(b, func() error {
		_, err := c.OTP.Send(bg(), "1", req)
		return err
	}, func() error {
		var out rawCampaignAnswer
		return rawPost(hc, srv.URL+"/api/v2/campaigns/1/otp", testToken,
			rawCampaign{Caller: req.Caller, Callees: req.Callees, Params: map[string]string{"template_name": req.TemplateName, "code_otp": req.Code}}, &out)
	}, func() error {
		var out rawCampaignAnswer
		return leanPost(hc, srv.URL+"/api/v2/campaigns/1/otp", testToken,
			leanCampaign{Caller: req.Caller, Callees: req.Callees, Params: leanParams{CodeOTP: req.Code, TemplateName: req.TemplateName}}, &out)
	})
}

func BenchmarkExecuteByPhone(b *testing.B) {
	srv := benchServer(b)
	c := benchClient(b, srv.URL, OMICall)
	hc := rawClient(b)
	plan := NewDialplan().Text("Đơn hàng của bạn là").Text("CKHDKD00203").Recording("5ed0c6dffb7b390007e5211")
	req := &PhoneCallRequest{Name: "Chiến dịch giới thiệu sản phẩm mới", Voice: VoiceBanMai, Dialplan: plan, Phones: []string{"0987654321"}}
	type step struct {
		TargetType string `json:"target_type"`
		Target     string `json:"target,omitempty"`
	}
	type rawBody struct {
		Name              string   `json:"name"`
		Voice             string   `json:"voice"`
		TemplateDialplans []step   `json:"template_dialplans"`
		Variables         []string `json:"variables"`
		PhoneNumberList   []string `json:"phone_number_list"`
	}
	body := rawBody{Name: req.Name, Voice: string(req.Voice), Variables: []string{"Đơn hàng của bạn là", "CKHDKD00203"}, PhoneNumberList: req.Phones,
		TemplateDialplans: []step{{TargetType: "Text_variable"}, {TargetType: "Text_variable"}, {TargetType: "Recording", Target: "5ed0c6dffb7b390007e5211"}}}
	interleaved(b, func() error {
		_, err := c.AutoCall.ExecuteByPhone(bg(), req)
		return err
	}, func() error {
		var out struct {
			StatusCode int `json:"status_code"`
			Payload    struct {
				AutocallID string `json:"autocall_id"`
				Name       string `json:"name"`
			} `json:"payload"`
		}
		return rawPost(hc, srv.URL+"/api/auto_call/execute_by_phone", "Bearer "+testToken, body, &out)
	}, nil)
}

func BenchmarkCDRGet(b *testing.B) {
	srv := benchServer(b)
	c := benchClient(b, srv.URL, TEL4VN)
	hc := rawClient(b)
	interleaved(b, func() error {
		_, err := c.CDR.Get(bg(), cdrID)
		return err
	}, func() error {
		var out struct {
			Data struct {
				ID, CampaignID, Status, StartedAt, Param string
				Duration                                 int
			} `json:"data"`
		}
		req, _ := http.NewRequestWithContext(bg(), http.MethodGet, srv.URL+"/api/v2/report/"+cdrID, nil)
		req.Header.Set("Authorization", testToken)
		return rawDo(hc, req, &out)
	}, func() error {
		// Every field of the report, typed, as the SDK decodes it.
		var out struct {
			Data struct {
				CampaignID  string `json:"campaign_id"`
				CodeOTP     string `json:"code_otp"`
				CreatedAt   string `json:"created_at"`
				Duration    int    `json:"duration"`
				EndedAt     string `json:"ended_at"`
				ID          string `json:"id"`
				Keypress    string `json:"keypress"`
				Param       string `json:"param"`
				PhoneNumber string `json:"phone_number"`
				StartedAt   string `json:"started_at"`
				Status      string `json:"status"`
				Type        string `json:"type"`
				UserID      string `json:"user_id"`
			} `json:"data"`
		}
		req, err := http.NewRequestWithContext(bg(), http.MethodGet, srv.URL+"/api/v2/report/"+cdrID, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", testToken)
		return leanDo(hc, req, &out)
	})
}

// BenchmarkParallel runs OTP.Send and its hand-written twin from 1, 8 and
// 64 goroutines: with enough idle connections kept, the SDK's ratio to raw
// does not grow with concurrency.
func BenchmarkParallel(b *testing.B) {
	for _, g := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			srv := benchServer(b)
			c := benchClient(b, srv.URL, TEL4VN)
			hc := rawClient(b)
			req := &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "template_otp_1", Code: "M43TUI"}
			raw := rawCampaign{Caller: req.Caller, Callees: req.Callees, Params: map[string]string{"template_name": req.TemplateName, "code_otp": req.Code}}
			run := func(n int, f func() error) time.Duration {
				var wg sync.WaitGroup
				start := time.Now()
				per := max(n/g, 1)
				for w := 0; w < g; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := 0; i < per; i++ {
							if err := f(); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				return time.Since(start) / time.Duration(per*g)
			}
			sdk := func() error { _, err := c.OTP.Send(bg(), "1", req); return err }
			rawf := func() error {
				var out rawCampaignAnswer
				return rawPost(hc, srv.URL+"/api/v2/campaigns/1/otp", testToken, raw, &out)
			}
			run(4*g, sdk)
			run(4*g, rawf)
			var ratios []float64
			b.ResetTimer()
			const batch = 64
			for done, round := 0, 0; done < b.N; done, round = done+batch, round+1 {
				var ds, dr time.Duration
				if round%2 == 0 {
					ds, dr = run(batch, sdk), run(batch, rawf)
				} else {
					dr, ds = run(batch, rawf), run(batch, sdk)
				}
				ratios = append(ratios, float64(ds)/float64(dr))
			}
			b.ReportMetric(median(ratios), "x-raw")
		})
	}
}

// BenchmarkOTPSendManyCallees sends one OTP request to 10,000 callees,
// interleaved with its hand-written twin: extra-ns/callee is what the SDK
// adds per callee (validation, normalisation, dedupe, NFC, the answer's
// typed decode) over a call that checks nothing.
func BenchmarkOTPSendManyCallees(b *testing.B) {
	const n = 10_000
	callees := make([]string, n)
	ids := make([]string, n)
	for i := range callees {
		callees[i] = fmt.Sprintf("09%08d", i)
		ids[i] = `"1_1_1_7_x_` + callees[i] + `"`
	}
	answer := `{"data":{"campaign_id":"7","results":{"success":[` + strings.Join(ids, ",") + `],"fail":[]}}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, answer)
	}))
	b.Cleanup(srv.Close)
	c := benchClient(b, srv.URL, TEL4VN)
	hc := rawClient(b)
	req := &OTPRequest{Caller: "02873001234", Callees: callees, TemplateName: "otp", Code: "1234"}
	sdk := func() float64 {
		start := time.Now()
		if _, err := c.OTP.Send(bg(), "7", req); err != nil {
			b.Fatal(err)
		}
		return float64(time.Since(start).Nanoseconds())
	}
	raw := func() float64 {
		start := time.Now()
		var out rawCampaignAnswer
		if err := rawPost(hc, srv.URL+"/api/v2/campaigns/7/otp", testToken,
			rawCampaign{Caller: req.Caller, Callees: callees, Params: map[string]string{"template_name": "otp", "code_otp": "1234"}}, &out); err != nil {
			b.Fatal(err)
		}
		return float64(time.Since(start).Nanoseconds())
	}
	var ds, dr []float64
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			ds = append(ds, sdk())
			dr = append(dr, raw())
		} else {
			dr = append(dr, raw())
			ds = append(ds, sdk())
		}
	}
	b.ReportMetric((median(ds)-median(dr))/n, "extra-ns/callee")
	b.ReportMetric(median(ds)/median(dr), "x-raw")
}

// BenchmarkBuildOTPRequest is the request building alone, 10,000 callees.
func BenchmarkBuildOTPRequest(b *testing.B) {
	callees := make([]string, 10_000)
	for i := range callees {
		callees[i] = fmt.Sprintf("09%08d", i)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, body, _, err := campaignCommon("7", "02873001234", callees, "", "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(callees)), "ns/callee")
}

func BenchmarkPlaceholders10k(b *testing.B) {
	var sb strings.Builder
	for i := 0; i < 10_000; i++ {
		fmt.Fprintf(&sb, "{{k%d}} ", i)
	}
	t := Template{Name: "big", Content: sb.String()}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if len(t.Placeholders()) != 10_000 {
			b.Fatal("wrong count")
		}
	}
}

func BenchmarkSpeak(b *testing.B) {
	values := []string{"10.410.000", "#15", "0987654321", "30/01/2021", "Nguyễn Văn A"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, v := range values {
			_ = Speak(v)
		}
	}
}

func BenchmarkPreview(b *testing.B) {
	params := map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": "10.410.000", "due_date": "30/01/2021"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := docTemplate.Preview(params); err != nil {
			b.Fatal(err)
		}
	}
}
func BenchmarkRender(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := docTemplate.Render(benchParams); err != nil {
			b.Fatal(err)
		}
	}
}

var benchParams = map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": "10.410.000", "due_date": "30/01/2021"}

// BenchmarkRedactLargeBody redacts a 1 MiB error page (the largest body an
// APIError is built from) for a client that knows a key and eight tokens,
// and a request's callback key: the cost of an error, not of a success.
func BenchmarkRedactLargeBody(b *testing.B) {
	r := newRedactor(testSecretKey, testAPIKey)
	for i := 0; i < maxKnownTokens; i++ {
		r.addToken(tokenN(int64(i + 2)))
	}
	s := strings.Repeat("<html><body>The quick brown fox jumps over the lazy dog 0123456789 &amp; %20 \\n</body></html>", (1<<20)/90)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = r.string(s, testCallbackKey)
	}
}
