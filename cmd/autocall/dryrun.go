package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// dryRun is the transport of --dry-run: it prints each request the SDK
// would send, after the SDK has validated and built it, and answers as a
// provider would, so that the command runs to its end. Nothing leaves the
// machine. Token requests are answered and not printed: they carry the
// credential.
type dryRun struct {
	out  io.Writer
	json bool
	mu   sync.Mutex
	n    int
}

func (d *dryRun) client() *http.Client { return &http.Client{Transport: d} }

func (d *dryRun) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		_ = r.Body.Close()
	}
	answer := func(s string) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(s)), ContentLength: int64(len(s)), Request: r}, nil
	}
	switch p := r.URL.Path; {
	case strings.HasSuffix(p, "/generate_access_token"):
		return answer(`{"data":{"access_token":"dry-run-token","expire_at":3600}}`)
	case p == "/api/auth":
		return answer(`{"status_code":9999,"payload":{"access_token":"dry-run-token"}}`)
	}
	d.print(r.Method, r.URL.Path, body)
	switch p := r.URL.Path; {
	case strings.HasSuffix(p, "/voice/import"):
		return answer(`{"data":{"name":"dry-run"}}`)
	case strings.HasPrefix(p, "/api/auto_call/"):
		return answer(`{"status_code":9999,"payload":{"autocall_id":"dry-run","autocall_uuids":["dry-run"]}}`)
	case strings.HasPrefix(p, "/api/v2/report/"):
		return answer(`{"data":{"id":"dry-run","status":"ANSWERED"}}`)
	}
	var in struct {
		Callees []string `json:"callees"`
	}
	_ = json.Unmarshal(body, &in)
	ids := make([]string, len(in.Callees))
	for i, c := range in.Callees {
		ids[i] = "dry-run_" + c
	}
	out, _ := json.Marshal(map[string]any{"data": map[string]any{"campaign_id": "dry-run", "results": map[string]any{"success": ids, "fail": []any{}}}})
	return answer(string(out))
}

// print shows one request, the webhook key in it redacted.
func (d *dryRun) print(method, path string, body []byte) {
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		if _, ok := doc["callback_apikey"]; ok {
			doc["callback_apikey"] = "[REDACTED]"
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	if d.json {
		line, _ := json.Marshal(map[string]any{"dry_run": true, "method": method, "path": path, "body": doc})
		fmt.Fprintf(d.out, "%s\n", line)
		return
	}
	var pretty bytes.Buffer
	if doc != nil {
		b, _ := json.MarshalIndent(doc, "  ", "  ")
		pretty.Write(b)
	}
	fmt.Fprintf(d.out, "would send %s %s\n  %s\n", method, path, pretty.String())
}
