package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// journal compact drops placed rows past the retention and keeps their
// keys: the same CSV run again phones nobody (its rows refused as
// forgotten, a dry run says so too) until --allow-forgotten.
func TestJournalCompactForgetsAndRefuses(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	csv := writeCSV(t, 3)
	args := []string{"otp", "send", "--campaign", "1", "--caller", "02873001234", "--csv", csv, "--workers", "1", "--rate", "0"}
	r := run(t, env, args...)
	require.Equal(t, 0, r.code, r.stderr)

	c := run(t, nil, "journal", "compact", "--retention", "1ns", csv+".journal")
	require.Equal(t, 0, c.code, c.stderr)
	assert.Contains(t, c.stdout, "0 records kept; dropped 3 placed records (their keys kept)")
	assert.Contains(t, c.stdout, "remembers: records none")

	var js struct {
		Remembers struct {
			Records, Keys int
		} `json:"remembers"`
	}
	show := run(t, nil, "--json", "journal", "show", csv+".journal")
	require.Equal(t, 0, show.code, show.stderr)
	require.NoError(t, json.Unmarshal([]byte(show.stdout), &js))
	assert.Equal(t, 3, js.Remembers.Keys)

	dry := run(t, env, append([]string{"--dry-run"}, args...)...)
	assert.Contains(t, dry.stdout, "0 rows would be sent, 3 refused", dry.stderr)

	r = run(t, env, args...)
	assert.Equal(t, exitPartial, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--allow-forgotten")
	assert.Len(t, srv.Calls(), 3, "nobody phoned again")

	r = run(t, env, append(args, "--allow-forgotten")...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, srv.Calls(), 6)
	for p, n := range callsPerPhone(srv) {
		require.Equal(t, 2, n, "%s: once, then once allowed", p)
	}
}
