package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

func csvFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "pending.csv")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func runWith(t *testing.T, srv *autocalltest.Server, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	env := map[string]string{}
	if srv != nil {
		env = map[string]string{"AUTOCALL_BASE_URL": srv.URL, "AUTOCALL_SECRET_KEY": autocalltest.SecretKey}
	}
	code := run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

const pending = "key,phone,code\nlogin-1,0987654321,M43TUI\nlogin-2,+84 91 234 5678, 123456\n"

// Run every minute by cron: the second run phones nobody.
func TestRunTwicePhonesNobodyTwice(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	file := csvFile(t, pending)
	code, out, errOut := runWith(t, srv, "-campaign", "1", "-caller", "02873001234", file)
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "SENT     line 2 login-1")
	assert.Contains(t, out, "SENT     line 3 login-2")
	assert.Contains(t, out, "2 placed, 0 refused, 0 unknown, 0 unsent")
	code, out, _ = runWith(t, srv, "-campaign", "1", "-caller", "02873001234", file)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "earlier runs: 2 placed")
	assert.NotContains(t, out, "SENT", "the second run sends nothing and says so")
	assert.Contains(t, out, "EARLIER  line 2 login-1: placed by an earlier run, not sent again")
	assert.Len(t, srv.Calls(), 2, "nobody phoned twice")
	_, err := os.Stat(file + ".journal")
	assert.NoError(t, err, "the journal is next to the CSV")
}

func TestSandboxModeNeedsNoAccount(t *testing.T) {
	code, out, errOut := runWith(t, nil, "-campaign", "1", "-caller", "02873001234", csvFile(t, pending))
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "built-in sandbox")
	assert.Contains(t, out, "2 placed")
}

func TestBadRowsAreRefusedOthersSent(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	code, out, _ := runWith(t, srv, "-campaign", "1", "-caller", "02873001234",
		csvFile(t, "a,0987654321,1\nb,01689123456,2\nc,0912345678,\n"))
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "REFUSED  line 2 b")
	assert.Contains(t, out, "replaced by 038")
	assert.Contains(t, out, "REFUSED  line 3 c")
	assert.Contains(t, out, "1 placed, 2 refused")
	assert.Len(t, srv.Calls(), 1)
}

// A bad line is refused alone, with its reason, and the others are sent:
// one bad row must not stop every row. Each run says so until it is fixed.
func TestBadLinesAreRefusedAlone(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	file := csvFile(t, "a,0987654321,1\na,0912345671,2\nb,0912345672\n,0912345673,3\nc,0912345674,4\n")
	code, out, _ := runWith(t, srv, "-campaign", "1", "-caller", "02873001234", file)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, `REFUSED  line 2 a: key "a" is already on line 1`)
	assert.Contains(t, out, "REFUSED  line 3 b: 2 fields, the header names 3 (missing: code)")
	assert.Contains(t, out, "REFUSED  line 4: no key")
	assert.Contains(t, out, "2 placed")
	assert.ElementsMatch(t, []string{"0987654321", "0912345674"}, calledPhones(srv))

	code, _, _ = runWith(t, srv, "-campaign", "1", "-caller", "02873001234", file)
	assert.Equal(t, 1, code, "the file still needs a person")
	assert.Len(t, srv.Calls(), 2, "nobody twice")
}

// A file that cannot be read at all sends nothing.
func TestUnreadableFileSendsNothing(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	for content, want := range map[string]string{
		"key,phone\nk,0987654321\n":       `no "code" column`,
		"key,phone,code,Phone\nk,1,2,3\n": `the header names "phone" twice`,
		"":                                "no header row",
	} {
		code, _, errOut := runWith(t, srv, "-campaign", "1", "-caller", "02873001234", csvFile(t, content))
		assert.Equal(t, 2, code, content)
		assert.Contains(t, errOut, want)
	}
	assert.Zero(t, len(srv.Requests()))
}

// The application appending "login-2,0912300212,47" (no newline yet) while
// cron runs: the row is held, not sent with code "47"; the next run, after
// the line is ended, sends the whole code.
func TestHalfWrittenLastRowIsHeld(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	file := csvFile(t, "key,phone,code\nlogin-1,0912300211,4711\nlogin-2,0912300212,47")
	code, out, errOut := runWith(t, srv, "-campaign", "1", "-caller", "02873001234", file)
	assert.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "HELD     line 3: no newline at its end yet")
	assert.Equal(t, map[string]string{"0912300211": "4711"}, codesSent(t, srv))

	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("11\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	code, _, errOut = runWith(t, srv, "-campaign", "1", "-caller", "02873001234", file)
	assert.Equal(t, 0, code, errOut)
	assert.Equal(t, map[string]string{"0912300211": "4711", "0912300212": "4711"}, codesSent(t, srv))
}

// Excel's "CSV UTF-8": a BOM and a header in capitals, CRLF.
func TestExcelCSVWithBOM(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	file := csvFile(t, "\ufeffKey,Phone,Code\r\nx-1,0912300221,1234\r\n")
	code, out, errOut := runWith(t, srv, "-campaign", "1", "-caller", "02873001234", file)
	assert.Equal(t, 0, code, out+errOut)
	assert.Equal(t, map[string]string{"0912300221": "1234"}, codesSent(t, srv))
}

// codesSent are the OTP codes that reached the sandbox, by callee.
func codesSent(t *testing.T, srv *autocalltest.Server) map[string]string {
	out := map[string]string{}
	for _, r := range srv.Requests() {
		if !strings.HasSuffix(r.Path, "/otp") {
			continue
		}
		var body struct {
			Callees []string          `json:"callees"`
			Params  map[string]string `json:"params"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		for _, c := range body.Callees {
			out[c] = body.Params["code_otp"]
		}
	}
	return out
}

func calledPhones(srv *autocalltest.Server) []string {
	var out []string
	for _, c := range srv.Calls() {
		out = append(out, c.Phone)
	}
	return out
}

func TestUnknownIsReportedNeverResent(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Process: true, Reset: true})
	file := csvFile(t, "a,0987654321,1\n")
	code, out, errOut := runWith(t, srv, "-campaign", "1", "-caller", "02873001234", "-workers", "1", file)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "UNKNOWN  line 1 a")
	assert.Contains(t, errOut, "outcome unknown for a")
	code, _, _ = runWith(t, srv, "-campaign", "1", "-caller", "02873001234", file)
	assert.Equal(t, 1, code)
	assert.Len(t, srv.Calls(), 1, "the lost answer's call was placed once, and not again")

	j, err := batch.OpenFile(file + ".journal")
	require.NoError(t, err)
	require.NoError(t, batch.Resolve(context.Background(), j, "a", batch.Placed))
	require.NoError(t, j.Close())
	code, _, _ = runWith(t, srv, "-campaign", "1", "-caller", "02873001234", file)
	assert.Equal(t, 0, code)
}

func TestJournalHeldByAnotherRun(t *testing.T) {
	file := csvFile(t, pending)
	j, err := batch.OpenFile(file + ".journal")
	require.NoError(t, err)
	defer j.Close()
	srv := autocalltest.NewServer()
	defer srv.Close()
	code, _, errOut := runWith(t, srv, "-campaign", "1", "-caller", "02873001234", file)
	assert.Equal(t, 1, code, "a busy journal exits 1, as the command does")
	assert.True(t, strings.Contains(errOut, "another run holds"), errOut)
	assert.Empty(t, calledPhones(srv), "nothing is sent while another run holds the journal")
}

func TestUsage(t *testing.T) {
	code, _, errOut := runWith(t, nil, "pending.csv")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "usage")
}

// A key without AUTOCALL_BASE_URL is a real account's: on the sandbox its
// rows would be recorded placed and never called. Nothing runs, no journal.
func TestKeyWithoutBaseURLIsRefused(t *testing.T) {
	file := csvFile(t, pending)
	env := map[string]string{"AUTOCALL_SECRET_KEY": "sk-real-account"}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-campaign", "1", "-caller", "02873001234", file}, &out, &errOut, func(k string) string { return env[k] })
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut.String(), "AUTOCALL_BASE_URL is not")
	assert.NotContains(t, out.String(), "SENT")
	assert.NoFileExists(t, file+".journal")
}
