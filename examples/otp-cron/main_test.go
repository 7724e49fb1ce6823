package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/autocallvn/autocall-go/autocalltest"
)

func csvFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "pending.csv")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runWith(t *testing.T, srv *autocalltest.Server, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	env := map[string]string{"AUTOCALL_BASE_URL": srv.URL, "AUTOCALL_SECRET_KEY": autocalltest.SecretKey}
	code := run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

func TestSendsEveryRow(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	code, out, errOut := runWith(t, srv, "-campaign", "1", "-caller", "02873001234",
		csvFile(t, "phone,code\n0987654321,M43TUI\n+84 91 234 5678, 123456\n"))
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "SENT     line 2 0987654321")
	assert.Contains(t, out, "SENT     line 3 0912345678")
	assert.Contains(t, out, "2 sent, 0 failed")
	assert.Len(t, srv.Calls(), 2)
}

func TestBadFileSendsNothing(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	code, _, errOut := runWith(t, srv, "-campaign", "1", "-caller", "02873001234",
		csvFile(t, "0987654321,1\n01689123456,2\n0987654321,3\n0912345678,\n"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "nothing sent")
	assert.Contains(t, errOut, "line 2: ")
	assert.Contains(t, errOut, "replaced by 038")
	assert.Contains(t, errOut, "line 3: 0987654321 is also on line 1")
	assert.Contains(t, errOut, "line 4: empty code")
	assert.Zero(t, len(srv.Requests()))
}

func TestFailuresExitNonZero(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Process: true, HTML: true})
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Status: 400, Body: `{"messsage":"Bad Request","code":400,"status":false,"data":{"error":"limit_service"}}`})
	code, out, errOut := runWith(t, srv, "-campaign", "1", "-caller", "02873001234",
		csvFile(t, "0987654321,1\n0912345678,2\n0923456789,3\n"))
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "UNKNOWN  line 1 0987654321: may have been called, not retried")
	assert.Contains(t, out, "FAILED   line 2 0912345678")
	assert.Contains(t, out, "SENT     line 3 0923456789")
	assert.Contains(t, errOut, "2 of 3 OTP calls failed")
	assert.Equal(t, 3, srv.Count("/api/v2/campaigns/1/otp"), "the unknown one was not resent")
}

func TestUsageAndConfiguration(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	code, _, errOut := runWith(t, srv, "pending.csv")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "usage")
	code, _, errOut = runWith(t, srv, "-campaign", "1", "-caller", "1", filepath.Join(t.TempDir(), "missing.csv"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "no such file")

	var out, e bytes.Buffer
	code = run(context.Background(), []string{"-campaign", "1", "-caller", "1", "x.csv"}, &out, &e, func(string) string { return "" })
	assert.Equal(t, 2, code)
	assert.Contains(t, e.String(), "AUTOCALL_BASE_URL and AUTOCALL_SECRET_KEY must be set")

	bad := map[string]string{"AUTOCALL_BASE_URL": srv.URL, "AUTOCALL_SECRET_KEY": "wrong"}
	e.Reset()
	code = run(context.Background(), []string{"-campaign", "1", "-caller", "02873001234", csvFile(t, "0987654321,1\n")}, &out, &e, func(k string) string { return bad[k] })
	assert.Equal(t, 2, code)
	assert.Contains(t, e.String(), "cannot authenticate")
	assert.NotContains(t, e.String(), "wrong", "the secret is not printed")
}
