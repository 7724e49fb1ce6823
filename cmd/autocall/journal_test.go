package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// The journal and retry side of a CSV batch, as an operator meets it.

var ttsArgs = []string{"tts", "run", "--campaign", "1", "--caller", "02873001234", "--template", "nhac_no"}

// Rows refused for a missing template stay refused until asked, by cause:
// another cause sends nothing, the template cause sends them, once.
func TestRetryRefusedByCause(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	csv := filepath.Join(t.TempDir(), "debts.csv")
	require.NoError(t, os.WriteFile(csv, []byte("key,phone,tên\nd1,0912000003,Nguyễn Văn A\nd2,0912000013,Trần Thị B\n"), 0o600))
	args := append(append([]string{}, ttsArgs...), "--csv", csv)

	r := run(t, env, args...)
	assert.Equal(t, 6, r.code, "refused rows: %s", r.stderr)
	assert.Contains(t, r.stderr, "--retry-refused")
	assert.Empty(t, srv.Calls())

	r = run(t, env, "tts", "import", "--campaign", "1", "--name", "nhac_no", "--content", "Chào {{tên}}, hãy thanh toán")
	require.Equal(t, 0, r.code, r.stderr)

	r = run(t, env, append(args, "--retry-refused=quota")...)
	assert.Equal(t, 0, r.code, "rows an earlier run refused do not change the exit code: %s", r.stderr)
	assert.Empty(t, srv.Calls(), "another cause is not retried")
	r = run(t, env, append(args, "--retry-refused=nonsense")...)
	assert.Equal(t, 2, r.code, "an unknown cause is a usage error")
	assert.Contains(t, r.stderr, "template")

	r = run(t, env, append(args, "--json", "--retry-refused=template,rate")...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, srv.Calls(), 2)
	var out struct {
		Rows []struct {
			Key, State string
			SettledBy  string   `json:"settled_by"`
			CallIDs    []string `json:"call_ids"`
		} `json:"rows"`
	}
	require.NoError(t, json.Unmarshal(lastLine(r.stdout), &out))
	require.Len(t, out.Rows, 2)
	for _, row := range out.Rows {
		assert.Equal(t, "this run", row.SettledBy)
		assert.Len(t, row.CallIDs, 1)
	}
	r = run(t, env, append(args, "--json", "--retry-refused")...)
	require.Equal(t, 0, r.code, r.stderr)
	require.NoError(t, json.Unmarshal(lastLine(r.stdout), &out))
	for _, row := range out.Rows {
		assert.Equal(t, "an earlier run", row.SettledBy, row.Key)
	}
	assert.Len(t, srv.Calls(), 2, "placed rows are never retried")
}

// A row refused for a spent quota goes with the next run once resolved to
// unsent; a placed row cannot be.
func TestResolveRefusedRowToUnsent(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	csv := writeCSV(t, 3)
	args := []string{"otp", "send", "--campaign", "1", "--caller", "02873001234", "--csv", csv, "--workers", "1", "--rate", "0"}
	srv.SetBalance(0)
	r := run(t, env, args...)
	assert.Equal(t, 4, r.code, "the spent quota stopped the batch: %s", r.stderr)
	srv.SetBalance(-1)
	show := run(t, nil, "--json", "journal", "show", csv+".journal")
	require.Equal(t, 0, show.code, show.stderr)
	assert.Contains(t, show.stdout, `"cause":"quota"`)

	r = run(t, nil, "journal", "resolve", csv+".journal", "row-0", "placed")
	assert.Equal(t, 2, r.code, "a refused row placed nobody")
	r = run(t, nil, "journal", "resolve", csv+".journal", "row-0", "unsent")
	require.Equal(t, 0, r.code, r.stderr)
	r = run(t, env, args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, srv.Calls(), 3)
	for p, n := range callsPerPhone(srv) {
		require.Equal(t, 1, n, p)
	}
}

// journal show reads the journal while a run holds it, and lists each
// unknown row's phone and claim time.
func TestJournalShowWhileARunHoldsIt(t *testing.T) {
	srv := sandbox(t)
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Process: true, Reset: true})
	srv.FailNext("/api/v2/campaigns/1/otp", 100000, autocalltest.Fault{Process: true, Delay: 20 * time.Millisecond})
	csv := writeCSV(t, 200)
	cmd := exec.Command(binary, "otp", "send", "--campaign", "1", "--caller", "02873001234", "--csv", csv, "--rate", "0", "--workers", "1")
	cmd.Env = append(os.Environ(), "AUTOCALL_BASE_URL="+srv.URL, "AUTOCALL_SECRET_KEY="+autocalltest.SecretKey)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for len(srv.Calls()) < 10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	show := run(t, nil, "--json", "journal", "show", csv+".journal")
	require.Equal(t, 0, show.code, "journal show while a run holds the journal: %s", show.stderr)
	var js struct {
		InUse bool `json:"in_use"`
		Rows  []struct {
			Key, State string
			Phones     []string
			ClaimedAt  time.Time
		}
	}
	require.NoError(t, json.Unmarshal([]byte(show.stdout), &js))
	assert.True(t, js.InUse)
	assert.NotEmpty(t, js.Rows)
	dry := run(t, tel4vnEnv(srv), "--dry-run", "otp", "send", "--campaign", "1", "--caller", "02873001234", "--csv", csv)
	assert.Equal(t, 1, dry.code, "a dry run meets the held journal as the real run would: %s", dry.stdout)
	assert.Contains(t, dry.stderr, "another autocall is running this batch")
	var ee *exec.ExitError
	require.ErrorAs(t, cmd.Wait(), &ee)
	assert.Equal(t, 5, ee.ExitCode(), "a row is unknown: %s", errOut.String())

	text := run(t, nil, "journal", "show", csv+".journal")
	require.Equal(t, 0, text.code, text.stderr)
	assert.Contains(t, text.stdout, "1 unknown")
	var line string
	for _, l := range strings.Split(text.stdout, "\n") {
		if strings.HasPrefix(l, "unknown") {
			line = l
		}
	}
	assert.Contains(t, line, "row-0  0912000003  claimed "+time.Now().Format("2006-01-02"), text.stdout)
}

// Rows already settled cost nothing: a re-run of a finished 10,000-row
// file at the default rate (10 a second: 17 minutes if each waited) ends in
// seconds, and a newly appended row is sent at once.
func TestSettledRowsCostNothing(t *testing.T) {
	srv := sandbox(t)
	const n = 10000
	dir := t.TempDir()
	csv := filepath.Join(dir, "pending.csv")
	var rows, journal strings.Builder
	rows.WriteString("key,phone,code\n")
	claimed := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("0912%06d", i*10+3)
		fmt.Fprintf(&rows, "row-%d,%s,%04d\n", i, p, i%10000)
		fmt.Fprintf(&journal, `{"key":"row-%d","state":"placed","time":%q,"kind":"otp","campaign":"1","phones":[%q],"call_ids":["1_1_1_%d_u_%s"],"claimed":%q}`+"\n",
			i, claimed, p, i, p, claimed)
	}
	require.NoError(t, os.WriteFile(csv, []byte(rows.String()), 0o600))
	require.NoError(t, os.WriteFile(csv+".journal", []byte(journal.String()), 0o600))
	args := []string{"--json", "otp", "send", "--campaign", "1", "--caller", "02873001234", "--csv", csv}

	start := time.Now()
	r := run(t, tel4vnEnv(srv), args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Less(t, time.Since(start), 60*time.Second, "settled rows waited for the rate")
	assert.Empty(t, srv.Calls())
	assert.Contains(t, r.stdout, fmt.Sprintf(`"already_placed":%d`, n))

	f, err := os.OpenFile(csv, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("new-row,0987654321,4242\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	start = time.Now()
	r = run(t, tel4vnEnv(srv), args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Less(t, time.Since(start), 60*time.Second)
	require.Len(t, srv.Calls(), 1, "the new row is sent")
	assert.Equal(t, "0987654321", srv.Calls()[0].Phone)
	var out struct {
		Report struct {
			Placed        int
			AlreadyPlaced int `json:"already_placed"`
			Seconds       float64
		}
	}
	require.NoError(t, json.Unmarshal(lastLine(r.stdout), &out))
	assert.Equal(t, 1, out.Report.Placed)
	assert.Equal(t, n, out.Report.AlreadyPlaced)
	t.Logf("re-run of %d settled rows plus a new one: %.2fs", n, out.Report.Seconds)
}

// lastLine is the last line of a --json batch's output: its report (the
// lines before it are the rows as they were done).
func lastLine(stdout string) []byte {
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	return []byte(lines[len(lines)-1])
}
