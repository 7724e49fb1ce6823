package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A journal name is given once and not empty: "?journal=" from an unset
// variable in a cron line would otherwise put the batch in the default
// journal "autocall", where another batch's rows of the same keys read as
// already placed and their customers are never called. The PostgreSQL
// journal has no name (one per database): ?journal= there is refused too.
func TestSharedJournalNames(t *testing.T) {
	spec := startRedisJournal(t)
	base := spec[:len(spec)-len("?journal=")-len("TestSharedJournalNames")]
	srv := sandbox(t)
	csv := writeFile(t, "pending.csv", "key,phone,code\nn-1,0912300471,1\n")
	for _, bad := range []string{base + "?journal=", base + "?journal=a&journal=b", base + "?journal=%20"} {
		r := run(t, tel4vnEnv(srv), otpCSV(csv, "--journal", bad)...)
		assert.Equal(t, 2, r.code, "%s: %s", bad, r.stdout+r.stderr)
		assert.Contains(t, r.stderr, "journal=", bad)
		r = run(t, nil, "journal", "show", bad)
		assert.Equal(t, 2, r.code, "%s: %s", bad, r.stdout+r.stderr)
	}
	assert.Empty(t, srv.Calls())

	pg := startPostgresJournal(t)
	r := run(t, tel4vnEnv(srv), otpCSV(csv, "--journal", pg+"&journal=shop")...)
	assert.Equal(t, 2, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "one per database")
	assert.Empty(t, srv.Calls())

	r = run(t, tel4vnEnv(srv), otpCSV(csv, "--journal", base)...)
	assert.Equal(t, 0, r.code, "no ?journal=: the default name, as documented: %s", r.stdout+r.stderr)
}
