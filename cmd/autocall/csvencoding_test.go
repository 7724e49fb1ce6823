package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyFixture copies a csvrows fixture into a directory of the test's own
// (the journal is written beside the file).
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "batch", "csvrows", "testdata", name))
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

// A CSV saved by Excel under Vietnamese regional settings (';') or as tab
// separated text is read, and its rows sent.
func TestCSVSeparatorFromExcel(t *testing.T) {
	for _, name := range []string{"semicolon.csv", "tab.csv"} {
		srv := sandbox(t)
		r := run(t, tel4vnEnv(srv), append(otp, "--csv", copyFixture(t, name), "--rate", "0")...)
		require.Equal(t, 0, r.code, "%s: %s%s", name, r.stdout, r.stderr)
		assert.Equal(t, map[string]int{"0912000003": 1, "0912000013": 1}, callsPerPhone(srv), name)
	}
}

// A file that is not UTF-8 is refused whole before anything is sent, as
// any unreadable file is (exit 2), naming what it looks like and how to
// save it.
func TestCSVNotUTF8Refused(t *testing.T) {
	for name, looks := range map[string]string{
		"windows-1258.csv": "Windows-1258",
		"utf-16le-bom.txt": "UTF-16 LE",
		"utf-16be-bom.txt": "UTF-16 BE",
		"utf-16le.txt":     "UTF-16 LE",
	} {
		srv := sandbox(t)
		path := copyFixture(t, name)
		r := run(t, tel4vnEnv(srv), append(otp, "--csv", path, "--rate", "0")...)
		assert.Equal(t, exitUsage, r.code, "%s: %s%s", name, r.stdout, r.stderr)
		assert.Contains(t, r.stderr, looks, name)
		assert.Contains(t, r.stderr, `"CSV UTF-8`, name)
		assert.Empty(t, srv.Requests(), "%s: nothing reached the provider", name)
		_, err := os.Stat(path + ".journal")
		assert.True(t, os.IsNotExist(err), "%s: no journal", name)
	}
}
