package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// A provider's pause longer than the run waits (MaxPause, 60 s) leaves the
// rows unsent for a time, not for a fault: exit 8, not 7 (network) nor 4,
// with the time the next run may succeed, in the text and in --json.
func TestPauseBeyondMaxPauseExitsLater(t *testing.T) {
	srv := sandbox(t)
	slow := autocalltest.Fault{Status: 429, Body: `{"messsage":"slow down","code":429,"status":false}`,
		Header: http.Header{"Retry-After": {"3600"}}}
	csv := writeFile(t, "pending.csv", "key,phone,code\np-1,0912300081,1\np-2,0912300082,2\n")

	srv.FailNext("/api/v2/campaigns/1/otp", 1, slow)
	start := time.Now()
	r := run(t, tel4vnEnv(srv), otpCSV(csv, "--workers", "1")...)
	require.Equal(t, 8, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
	assert.Contains(t, r.stderr, "Nothing wrong: rows wait for a time. Run the same command again after ")
	assert.Contains(t, r.stdout, "0 placed, 0 refused, 0 unknown, 2 unsent")
	assert.Empty(t, srv.Calls(), "the one create sent was refused with the 429; nothing placed")

	srv.FailNext("/api/v2/campaigns/1/otp", 1, slow)
	r = run(t, tel4vnEnv(srv), otpCSV(csv, "--workers", "1", "--json")...)
	require.Equal(t, 8, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
	var doc struct {
		Report struct {
			RunAfter string `json:"run_after"`
			Unsent   int
		}
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n") // progress lines, then the report
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &doc), r.stdout)
	after, err := time.Parse(time.RFC3339, doc.Report.RunAfter)
	require.NoError(t, err, "run_after: %q", doc.Report.RunAfter)
	assert.WithinDuration(t, start.Add(time.Hour), after, 2*time.Minute, "when the provider is willing again")
	assert.Equal(t, 2, doc.Report.Unsent)

	// Once it is willing, the rows go.
	r = run(t, tel4vnEnv(srv), otpCSV(csv)...)
	require.Equal(t, 0, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
	assert.Len(t, srv.Calls(), 2)
}

// The help and the package doc list exit 8.
func TestHelpListsExitLater(t *testing.T) {
	r := run(t, nil, "--help")
	require.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "8  later: nothing wrong, rows wait for a time")
}
