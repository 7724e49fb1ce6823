package autocall

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// benchCDR is TEL4VN's Autocall API Reference's CDR answer, served for every report request.
var benchCDR = `{"data":{"campaign_id":"1","code_otp":"M43TUI","created_at":"2021-01-11 11:28:45","duration":15,"ended_at":"2021-01-11 11:29:09","id":"` + cdrID + `","keypress":"127","param":"{\"customer_name\":\"Nguyễn Văn A\",\"due_amount\":\"10.410.000\"}","phone_number":"0987654321","started_at":"2021-01-11 11:28:54","status":"ANSWERED","type":"TTS","user_id":"5"}}`

var benchOTP = `{"data":{"campaign_id":"1","results":{"fail":[],"success":["` + cdrID + `"]}}}`

func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			_, _ = io.WriteString(w, benchOTP)
			return
		}
		_, _ = io.WriteString(w, benchCDR)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkCDRGet is the SDK's whole read path: token from cache, request,
// envelope, typed CDR with times and params.
func BenchmarkCDRGet(b *testing.B) {
	srv := benchServer(b)
	c, err := NewClient(srv.URL, WithAccessToken(testToken))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.CDR.Get(bg(), cdrID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineCDRGet is what a hand-written call does: net/http and
// encoding/json into a struct of strings, no status or envelope checks.
func BenchmarkBaselineCDRGet(b *testing.B) {
	srv := benchServer(b)
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 30 * time.Second}
	var out struct {
		Data struct {
			ID, CampaignID, Status, StartedAt, Param string
			Duration                                 int
		} `json:"data"`
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequestWithContext(bg(), http.MethodGet, srv.URL+"/api/v2/report/"+cdrID, nil)
		baselineDo(b, hc, req, &out)
	}
}

// baselineDo sends req as a hand-written client would and decodes into out.
func baselineDo(b *testing.B, hc *http.Client, req *http.Request, out any) {
	req.Header.Set("Authorization", testToken)
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(out)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkOTPSend is the SDK's write path: validation, phone
// normalisation, NFC, request, envelope, typed result.
func BenchmarkOTPSend(b *testing.B) {
	srv := benchServer(b)
	c, err := NewClient(srv.URL, WithAccessToken(testToken))
	if err != nil {
		b.Fatal(err)
	}
	req := &OTPRequest{Caller: "0123456789", Callees: []string{"0987654321"}, TemplateName: "template_otp_1", Code: "M43TUI"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.OTP.Send(bg(), "1", req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineOTPSend posts the same body by hand.
func BenchmarkBaselineOTPSend(b *testing.B) {
	srv := benchServer(b)
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 30 * time.Second}
	body := map[string]any{"caller": "0123456789", "callees": []string{"0987654321"},
		"params": map[string]string{"template_name": "template_otp_1", "code_otp": "M43TUI"}}
	var out struct {
		Data struct {
			CampaignID string `json:"campaign_id"`
			Results    struct {
				Success []string            `json:"success"`
				Fail    []map[string]string `json:"fail"`
			} `json:"results"`
		} `json:"data"`
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(bg(), http.MethodPost, srv.URL+"/api/v2/campaigns/1/otp", bytes.NewReader(buf))
		req.Header.Set("Content-Type", "application/json")
		baselineDo(b, hc, req, &out)
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

var benchParams = map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": "10.410.000", "due_date": "30/01/2021"}

func BenchmarkPreview(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := docTemplate.Preview(benchParams); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender is Preview's baseline: the same template filled in
// without speaking the values.
func BenchmarkRender(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := docTemplate.Render(benchParams); err != nil {
			b.Fatal(err)
		}
	}
}
