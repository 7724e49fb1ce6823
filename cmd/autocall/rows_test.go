package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	"github.com/autocallvn/autocall-go/autocalltest"
)

func writeFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func otpCSV(csv string, extra ...string) []string {
	return append(append(extra, "otp", "send", "--campaign", "1", "--caller", "02873001234", "--csv", csv), "--rate", "0")
}

// codesSent are the OTP codes that reached the sandbox, by callee.
func codesSent(t *testing.T, srv *autocalltest.Server) map[string][]string {
	out := map[string][]string{}
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
			out[c] = append(out[c], body.Params["code_otp"])
		}
	}
	return out
}

// The application appending "login-2,0912300002,47" (no newline yet) while
// cron runs: the row is left for the next run, which sends it whole.
func TestHalfWrittenLastRowIsLeftForTheNextRun(t *testing.T) {
	srv := sandbox(t)
	csv := writeFile(t, "pending.csv", "key,phone,code\nlogin-1,0912300001,4711\nlogin-2,0912300002,47")
	r := run(t, tel4vnEnv(srv), otpCSV(csv)...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "held     line 3: no newline at its end yet (it may be half-written): left for the next run")
	assert.Equal(t, map[string][]string{"0912300001": {"4711"}}, codesSent(t, srv))

	f, err := os.OpenFile(csv, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("11\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	r = run(t, tel4vnEnv(srv), otpCSV(csv)...)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.NotContains(t, r.stdout, "held")
	assert.Equal(t, map[string][]string{"0912300001": {"4711"}, "0912300002": {"4711"}}, codesSent(t, srv), "the whole code, once each")

	// A quoted field still open at the end is half-written too.
	csv2 := writeFile(t, "q.csv", "key,phone,code\nq-1,0912300021,1\n\"q-2,0912300022,2")
	r = run(t, tel4vnEnv(srv), "--json", "otp", "send", "--campaign", "1", "--caller", "02873001234", "--csv", csv2)
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `"held_line":3`)
	assert.Contains(t, r.stdout, `"state":"held"`)
	assert.NotContains(t, codesSent(t, srv), "0912300022")
}

// Excel's "CSV UTF-8": a BOM, CRLF, blank lines and fields past the header.
// Every row goes, and a message names the file's real line.
func TestExcelCSVIsRead(t *testing.T) {
	srv := sandbox(t)
	csv := writeFile(t, "excel.csv", "\ufeffKey, Phone ,Code,,\r\n"+
		"x-1,0912300031,1111\r\n"+
		"\r\n"+
		"x-2,0912300032,2222,,\r\n"+ // Excel's ragged rows
		"x-3,0912300033,3333,a note\r\n"+
		"\r\n"+
		"x-4,123,4444\r\n"+
		"x-5,0912300035,5555\r\n")
	r := run(t, tel4vnEnv(srv), otpCSV(csv)...)
	assert.Equal(t, 6, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "refused  line 7 x-4: ", "the file's line 7, blank lines counted")
	assert.Contains(t, r.stderr, "line 5 has fields past the header's columns; they are ignored")
	assert.NotContains(t, r.stderr, "line 4 has", "empty trailing fields are not worth a note")
	assert.Equal(t, map[string][]string{"0912300031": {"1111"}, "0912300032": {"2222"}, "0912300033": {"3333"}, "0912300035": {"5555"}},
		codesSent(t, srv))

	r = run(t, tel4vnEnv(srv), otpCSV(csv, "--json")...)
	assert.Equal(t, 0, r.code, "x-4 was refused by the earlier run, not this one")
	assert.Contains(t, r.stdout, `"ignored_fields_lines":[5]`)
}

// One bad row is refused with its line and reason, the rest are sent, and
// the run exits 6; the next run sends nobody twice and says the same.
func TestBadRowsAreRefusedAndTheRestSent(t *testing.T) {
	srv := sandbox(t)
	csv := writeFile(t, "pending.csv", "key,phone,code\n"+
		"b-1,0912300041,1\n"+
		"b-1,0912300042,2\n"+ // a repeated key
		",0912300043,3\n"+ // no key
		"b-4,0912300044\n"+ // a field missing
		"b-5,0912300045,5\n"+
		"b-6,09123\"00046,6\n"+ // a bare quote
		"b-7,12345,7\n"+ // a bad phone
		"b-8,0912300048,\n"+ // an empty code
		"b-9,0912300049,9\n")
	r := run(t, tel4vnEnv(srv), otpCSV(csv)...)
	assert.Equal(t, 6, r.code, r.stdout+r.stderr)
	for _, want := range []string{
		`refused  line 3 b-1: key "b-1" is already on line 2`,
		"refused  line 4: no key",
		"refused  line 5 b-4: 2 fields, the header names 3 (missing: code)",
		`refused  line 7: not readable as CSV: bare "`,
		"refused  line 8 b-7: ",
		"refused  line 9 b-8: ",
		"4 rows refused as written in " + csv,
	} {
		assert.Contains(t, r.stdout, want)
	}
	assert.NotContains(t, r.stdout+r.stderr, "<nil>")
	sent := map[string][]string{"0912300041": {"1"}, "0912300045": {"5"}, "0912300049": {"9"}}
	assert.Equal(t, sent, codesSent(t, srv))

	show := run(t, nil, "--json", "journal", "show", csv+".journal")
	require.Equal(t, 0, show.code, show.stderr)
	var js struct{ Counts map[string]int }
	require.NoError(t, json.Unmarshal([]byte(show.stdout), &js))
	assert.Equal(t, 3, js.Counts["placed"])
	assert.Equal(t, 2, js.Counts["refused"], "the rows the SDK refused are in the journal with their reason")

	r = run(t, tel4vnEnv(srv), otpCSV(csv)...)
	assert.Equal(t, 6, r.code, "still refused: a person must fix the file")
	assert.Contains(t, r.stdout, "refused  line 8 b-7: as an earlier run left it: ")
	assert.NotContains(t, r.stdout+r.stderr, "<nil>")
	assert.Equal(t, sent, codesSent(t, srv), "nobody twice")
}

// --dry-run shows the rows and callees a real run would refuse, and exits
// as it would.
func TestDryRunShowsRefusalsAndTheRealExitCode(t *testing.T) {
	srv := sandbox(t)
	csv := writeFile(t, "pending.csv", "key,phone,code\nd-1,0912300051,1\nd-1,0912300052,2\nd-3,12345,3\n")
	r := run(t, tel4vnEnv(srv), otpCSV(csv, "--dry-run")...)
	assert.Equal(t, 6, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `refused  line 3 d-1: key "d-1" is already on line 2`)
	assert.Contains(t, r.stdout, "refused  line 4 d-3: ")
	assert.Contains(t, r.stdout, "dry run: nothing was sent; 1 rows would be sent, 2 refused")
	assert.NotContains(t, r.stdout, "placed")

	r = run(t, tel4vnEnv(srv), otpCSV(csv, "--dry-run", "--json")...)
	assert.Equal(t, 6, r.code)
	assert.Contains(t, r.stdout, `"state":"refused"`)

	good := writeFile(t, "good.csv", "key,phone,code\ng-1,0912300061,1\n")
	assert.Equal(t, 0, run(t, tel4vnEnv(srv), otpCSV(good, "--dry-run")...).code)

	r = run(t, tel4vnEnv(srv), append([]string{"--dry-run"}, append(otp, "0987654321", "123")...)...)
	assert.Equal(t, 6, r.code, "the code a real run would exit with")
	assert.Contains(t, r.stdout, "refused  123  ")
	assert.Contains(t, r.stdout, "dry run: nothing was sent")
	r = run(t, tel4vnEnv(srv), append([]string{"--dry-run"}, append(otp, "0987654321")...)...)
	assert.Equal(t, 0, r.code)
	r = run(t, omicallEnv(srv), "--dry-run", "--json", "call", "phone", "--step", "text:Xin chào", "0987654321", "0987654321")
	assert.Equal(t, 6, r.code, "a number given twice is refused: %s", r.stdout)
	assert.Contains(t, r.stdout, `"rejected":[{`)

	assert.Empty(t, srv.Requests(), "nothing reached the provider")
	_, err := os.Stat(csv + ".journal")
	assert.True(t, os.IsNotExist(err))
}

// A TTS CSV from Excel with Vietnamese typed in NFD: the BOM is not part of
// the first column's name, and the text arrives in NFC.
func TestTTSCSVWithBOMAndNFD(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	content := "Chào bạn {{customer_name}} vui lòng thanh toán khoản nợ {{due_amount}}"
	r := run(t, env, "tts", "import", "--campaign", "1", "--name", "no_cuoc", "--content", content)
	require.Equal(t, 0, r.code, r.stderr)
	name := norm.NFD.String("Nguyễn Văn Ánh")
	require.NotEqual(t, name, norm.NFC.String(name))
	csv := writeFile(t, "debts.csv", "\ufeffkey,phone,customer_name,due_amount\r\nd1,0912345678,"+name+",10.410.000\r\n")
	r = run(t, env, "tts", "run", "--campaign", "1", "--caller", "02873001234", "--template", "no_cuoc", "--csv", csv)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	calls := srv.Calls()
	require.Len(t, calls, 1)
	var body map[string]any
	for _, q := range srv.Requests() {
		if strings.HasSuffix(q.Path, "/voice") {
			require.NoError(t, json.Unmarshal(q.Body, &body))
		}
	}
	assert.Contains(t, string(mustJSON(t, body)), norm.NFC.String("Nguyễn Văn Ánh"))
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// A dry run reads the journal as the real run would: rows an earlier run
// settled are not "would send", and its exit code is the real run's (5 while
// a row's outcome is unknown).
func TestDryRunReadsTheJournal(t *testing.T) {
	srv := sandbox(t)
	csv := writeFile(t, "pending.csv", "key,phone,code\nd-1,0912300071,1\nd-2,0912300072,2\n")
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Process: true, Reset: true})
	r := run(t, tel4vnEnv(srv), otpCSV(csv, "--workers", "1")...)
	require.Equal(t, 5, r.code, r.stdout+r.stderr)
	before := len(srv.Requests())

	require.NoError(t, os.WriteFile(csv, []byte("key,phone,code\nd-1,0912300071,1\nd-2,0912300072,2\nd-3,0912300073,3\n"), 0o600))
	r = run(t, tel4vnEnv(srv), otpCSV(csv, "--dry-run")...)
	assert.Equal(t, 5, r.code, "the real run would exit 5: %s", r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "1 rows would be sent, 0 refused; as earlier runs left them 1 placed, 0 refused, 1 unknown")
	assert.Contains(t, r.stdout, "unknown  line 2 d-1")
	assert.Equal(t, before, len(srv.Requests()), "a dry run sends nothing")

	r = run(t, tel4vnEnv(srv), otpCSV(csv, "--dry-run", "--json")...)
	assert.Equal(t, 5, r.code)
	assert.Contains(t, r.stdout, `"would_send":1`)
	assert.Contains(t, r.stdout, `"unknown_keys":["d-1"]`)
}

// A run stopped because no token could be had names its cause: the token
// endpoint out of reach is a network failure (7), not a refusal (4).
func TestBatchStoppedWithoutATokenExitsNetwork(t *testing.T) {
	srv := sandbox(t)
	srv.FailNext("/api/v1/users/generate_access_token", 1000, autocalltest.Fault{Reset: true})
	csv := writeFile(t, "pending.csv", "key,phone,code\nlogin-1,0912300001,4711\nlogin-2,0912300002,4712\n")
	r := run(t, tel4vnEnv(srv), otpCSV(csv)...)
	assert.Equal(t, 7, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
	assert.Contains(t, r.stderr, "no token could be had")
	assert.Empty(t, codesSent(t, srv), "nothing was sent")
}

// A run that refuses a row while the network fails for the others exits 6,
// not 7: 7 is left to the next run unmailed, and the next run names a row
// the journal holds as refused without changing the code, so exiting 7
// would hide the refusal for ever.
func TestRefusedRowBesideNetworkFailureExitsPartial(t *testing.T) {
	srv := sandbox(t)
	srv.FailNext("/api/v1/users/generate_access_token", 1000, autocalltest.Fault{Reset: true})
	csv := writeFile(t, "pending.csv", "key,phone,code\nn-1,12345,1\nn-2,0912300052,2\n")
	r := run(t, tel4vnEnv(srv), otpCSV(csv, "--workers", "1")...)
	assert.Equal(t, 6, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
	assert.Empty(t, codesSent(t, srv), "nothing was sent")
	show := run(t, nil, "--json", "journal", "show", csv+".journal")
	var js struct{ Counts map[string]int }
	require.NoError(t, json.Unmarshal([]byte(show.stdout), &js))
	assert.Equal(t, 1, js.Counts["refused"], "the bad phone, refused by this run")
}
