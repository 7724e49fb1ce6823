package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// libpq and pgx take the password in the URL's query too
// (?password=…): it is as secret there as in its userinfo, in every
// report, hint and error.
func TestSharedJournalQueryPasswordNeverPrinted(t *testing.T) {
	const password = "pg-QUERY-pw-0815"
	spec := startPostgresJournal(t) + "&password=" + password // trust auth: the password is not checked
	srv := sandbox(t)
	// The second row's answer is lost: unknown, so the resolve hint is printed.
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Process: true, Reset: true})
	csv := writeFile(t, "pending.csv", "key,phone,code\nq-1,0912300401,1\nq-2,12345,2\n")
	r := run(t, tel4vnEnv(srv), otpCSV(csv, "--workers", "1", "--journal", spec)...)
	require.Equal(t, 5, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "autocall journal resolve postgres://")
	assert.NotContains(t, r.stdout+r.stderr, password)

	r = run(t, tel4vnEnv(srv), otpCSV(csv, "--json", "--journal", spec)...)
	assert.Contains(t, r.stdout, `"journal":"postgres://`)
	assert.NotContains(t, r.stdout+r.stderr, password)

	r = run(t, nil, "journal", "show", spec)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "autocall journal resolve postgres://")
	assert.NotContains(t, r.stdout+r.stderr, password)

	r = run(t, nil, "journal", "show", "postgres://autocall@127.0.0.1:1/none?connect_timeout=1&password="+password)
	assert.NotEqual(t, 0, r.code)
	assert.Contains(t, r.stderr, "127.0.0.1")
	assert.NotContains(t, r.stdout+r.stderr, password)
}

// A query the URL parser cannot read is hidden whole: a password may be
// in the pair it drops.
func TestShownJournalHidesAnUnreadableQuery(t *testing.T) {
	shown := shownJournal("postgres://u@h/db?password=se%ZZcret&sslmode=disable")
	assert.NotContains(t, shown, "cret")
	assert.Contains(t, shown, "postgres://u@h/db")
	assert.Equal(t, "postgres://u:xxxxx@h/db?sslmode=disable&sslpassword=xxxxx",
		shownJournal("postgres://u:pw@h/db?sslmode=disable&sslpassword=kp"))
}
