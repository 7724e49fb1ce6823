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
)

// promoCSV is an advertising campaign's rows: the third subscriber agreed
// to calls at any hour (written decomposed, as some spreadsheets save it).
func promoCSV(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "khuyen-mai.csv")
	rows := "key,phone,dong_y\n" +
		"km-1,0912000013,không\n" +
		"km-2,+84 91 200 0023,\n" +
		"km-3,0912000033," + norm.NFD.String("có") + "\n" +
		"km-4,0912000013,\n" // km-1's number again
	require.NoError(t, os.WriteFile(p, []byte(rows), 0o600))
	return p
}

var promo = []string{"otp", "send", "--campaign", "1", "--caller", "02873001234", "--code", "KM50", "--purpose", "advertising", "--agreed-column", "dong_y"}

func TestAdvertisingCSVKeepsTheHours(t *testing.T) {
	srv := sandbox(t)
	csv := promoCSV(t)
	env := tel4vnEnv(srv)
	env["AUTOCALL_NOW"] = "2026-12-01T17:30:00+07:00"
	r := run(t, env, append(promo, "--csv", csv, "--journal", csv+".journal")...)
	// Deferred rows are no failure, but they wait: exit 8, with when to run again.
	require.Equal(t, 8, r.code, "%s %s", r.stdout, r.stderr)
	assert.Contains(t, r.stderr, "Nothing wrong: rows wait for a time. Run the same command again after 2026-12-02 08:00 +07:00.")
	assert.Contains(t, r.stdout, "3 advertising rows deferred", "km-1, km-2, km-4")
	assert.Contains(t, r.stdout, "2026-12-02 08:00 +07:00")
	assert.Len(t, srv.Calls(), 1, "only the subscriber who agreed is called after 17:00")
	assert.Equal(t, "0912000033", srv.Calls()[0].Phone)

	show := run(t, nil, "journal", "show", csv+".journal")
	require.Equal(t, 0, show.code, show.stderr)
	assert.Contains(t, show.stdout, "deferred   km-1  0912000013  hours  can go from 2026-12-02 08:00 +07:00")
	assert.Contains(t, show.stdout, "deferred   km-2  0912000023  hours  can go from 2026-12-02 08:00 +07:00")
	js := run(t, nil, "--json", "journal", "show", csv+".journal")
	var doc struct {
		Rows []struct {
			Key, State, Cause, Purpose string
			CanGo                      *string `json:"can_go"`
		} `json:"rows"`
	}
	require.NoError(t, json.Unmarshal([]byte(js.stdout), &doc), js.stdout)
	for _, row := range doc.Rows {
		if row.Key == "km-1" {
			assert.Equal(t, "unsent", row.State)
			assert.Equal(t, "advertising", row.Purpose)
			require.NotNil(t, row.CanGo)
			assert.Equal(t, "2026-12-02T08:00:00+07:00", *row.CanGo)
		}
	}

	// At 8:00 the next morning: km-1 and km-2 go; km-4 calls km-1's number
	// again and waits 24 hours. A dry run says so first.
	env["AUTOCALL_NOW"] = "2026-12-02T08:00:01+07:00"
	r = run(t, env, append(promo, "--dry-run", "--workers", "1", "--csv", csv, "--journal", csv+".journal")...)
	require.Equal(t, 8, r.code, "the real run's code: a row waits: %s", r.stderr)
	assert.Contains(t, r.stdout, "2 rows would be sent, 0 refused, 1 deferred by the advertising rules")
	require.Len(t, srv.Calls(), 1, "a dry run sends nothing")
	r = run(t, env, append(promo, "--json", "--workers", "1", "--csv", csv, "--journal", csv+".journal")...)
	require.Equal(t, 8, r.code, "km-4 waits: %s", r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var rep struct {
		Report struct {
			Placed   int
			Deferred []struct{ Key, Cause, NotBefore string } `json:"deferred"`
		} `json:"report"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &rep), r.stdout)
	assert.Equal(t, 2, rep.Report.Placed)
	require.Len(t, rep.Report.Deferred, 1)
	assert.Equal(t, "km-4", rep.Report.Deferred[0].Key)
	assert.Equal(t, "frequency", rep.Report.Deferred[0].Cause)
	assert.Len(t, srv.Calls(), 3)
}

func TestAdvertisingCSVDoNotCall(t *testing.T) {
	srv := sandbox(t)
	csv := promoCSV(t)
	env := tel4vnEnv(srv)
	env["AUTOCALL_NOW"] = "2026-12-01T09:00:00+07:00"
	dnc := filepath.Join(t.TempDir(), "dnc.txt")
	require.NoError(t, os.WriteFile(dnc, []byte("# danh sách không quảng cáo\n+84 912 000 023\n"), 0o600))
	r := run(t, env, append(promo, "--csv", csv, "--journal", csv+".journal", "--dnc", dnc)...)
	assert.Equal(t, exitPartial, r.code, "%s %s", r.stdout, r.stderr)
	for _, c := range srv.Calls() {
		assert.NotEqual(t, "0912000023", c.Phone, "a listed number is never called")
	}
	show := run(t, nil, "--json", "journal", "show", csv+".journal")
	assert.Contains(t, show.stdout, `"cause":"do_not_call"`)

	// A list with a line that is not a number stops everything.
	srv2 := sandbox(t)
	env2 := tel4vnEnv(srv2)
	bad := filepath.Join(t.TempDir(), "dnc-bad.txt")
	require.NoError(t, os.WriteFile(bad, []byte("0912000023\n0912 abc\n12345\n"), 0o600))
	r = run(t, env2, append(promo, "--csv", promoCSV(t), "--journal", filepath.Join(t.TempDir(), "ads.journal"), "--dnc", bad)...)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "line 2")
	assert.Contains(t, r.stderr, "line 3")
	assert.Zero(t, srv2.Count("/api/v2/campaigns/1/otp"), "nothing sent")
}

func TestAdvertisingFlagMistakes(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	for _, args := range [][]string{
		append(append([]string{}, otp...), "--purpose", "advertising", "0912000013"),
		append(append([]string{}, otp...), "--purpose", "spam", "--csv", promoCSV(t)),
		append(append([]string{}, otp...), "--dnc", "x.txt", "--csv", promoCSV(t)),
		append(append([]string{}, promo...), "--agreed-column", "nope", "--csv", promoCSV(t)),
	} {
		r := run(t, env, args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stderr)
	}
	assert.Zero(t, srv.Count("/api/v2/campaigns/1/otp"))
	env["AUTOCALL_NOW"] = "yesterday"
	r := run(t, env, append(promo, "--csv", promoCSV(t), "--journal", filepath.Join(t.TempDir(), "ads.journal"))...)
	assert.Equal(t, exitUsage, r.code)

	// The test clock is no way round the hours with a real provider.
	env["AUTOCALL_NOW"], env["AUTOCALL_BASE_URL"] = "2026-12-01T10:00:00+07:00", "https://api.example.vn"
	r = run(t, env, append(promo, "--csv", promoCSV(t), "--journal", filepath.Join(t.TempDir(), "ads.journal"))...)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "AUTOCALL_NOW is for tests against a sandbox")
}

// autocall sandbox --start --frozen: a clock a test in any language sets.
func TestSandboxCommandClock(t *testing.T) {
	info := startSandboxCommand(t, "--start", "2026-12-01T16:59:00+07:00", "--frozen")
	var now struct{ Now string }
	require.Equal(t, 200, httpJSON(t, "GET", info["control_url"]+"now", "", "", &now))
	assert.Equal(t, "2026-12-01T16:59:00+07:00", now.Now, "frozen: it has not moved")
	require.Equal(t, 200, httpJSON(t, "POST", info["control_url"]+"advance", "", `{"to":"2026-12-01T17:00:00+07:00"}`, &now))
	assert.Equal(t, "2026-12-01T17:00:00+07:00", now.Now)

	r := run(t, nil, "sandbox", "--start", "soon")
	assert.Equal(t, exitUsage, r.code)
}

// An advertising CSV needs a journal named on purpose: each CSV's own
// journal would not see the calls of another day's CSV, and the
// one-call-a-day rule would be kept only within one file.
func TestAdvertisingCSVNeedsASharedJournal(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	env["AUTOCALL_NOW"] = "2026-12-01T16:30:00+07:00"
	r := run(t, env, append(promo, "--csv", promoCSV(t))...)
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--purpose advertising needs --journal")
	assert.Zero(t, srv.Count("/api/v2/campaigns/1/otp"))

	// Two days' CSVs through one journal: the number is called once.
	shared := filepath.Join(t.TempDir(), "ads.journal")
	day1 := writeFile(t, "promo-1201.csv", "key,phone,dong_y\nd1-1,0912000201,\n")
	day2 := writeFile(t, "promo-1202.csv", "key,phone,dong_y\nd2-1,0912000201,\n")
	r = run(t, env, append(promo, "--csv", day1, "--journal", shared)...)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	env["AUTOCALL_NOW"] = "2026-12-02T08:05:00+07:00"
	r = run(t, env, append(promo, "--csv", day2, "--journal", shared)...)
	require.Equal(t, 8, r.code, "deferred by the interval: %s", r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "Run the same command again after 2026-12-02 16:30 +07:00.")
	assert.Len(t, srv.Calls(), 1, "one advertising call to the number in 24 hours, across the CSVs")
}
