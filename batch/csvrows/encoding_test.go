package csvrows

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// Excel under Vietnamese regional settings writes ';' (a decimal comma
// stays in its field); "Text (Tab delimited)" writes tabs.
func TestSeparatorFromTheHeader(t *testing.T) {
	for _, name := range []string{"semicolon.csv", "tab.csv"} {
		f, err := Read(fixture(t, name), Options{Fixed: []string{"phone"}, Required: []string{"phone"}})
		require.NoError(t, err, name)
		assert.Equal(t, []string{"key", "phone", "ten", "muc", "ma"}, f.Header, name)
		require.Len(t, f.Rows, 2, name)
		assert.Equal(t, "0912000003", f.Rows[0].Get("phone"), name)
		assert.Equal(t, "Nguyễn Văn A", f.Rows[0].Get("ten"), name)
		assert.Equal(t, "10,5", f.Rows[0].Get("muc"), name)
		assert.Empty(t, f.Refused, name)
	}
	for header, want := range map[string]rune{
		"key,phone\n": ',', "key;phone\n": ';', "key\tphone\n": '\t', "key\n": ',',
		`"a;b",phone` + "\n": ',', "key,note;x,phone\n": ',', "key;phone;gia 1,5\n": ';',
	} {
		assert.Equal(t, want, separator([]byte(header)), "%q", header)
	}
}

// A file that is not UTF-8 is refused whole, naming what it looks like
// and how to save it.
func TestNotUTF8RefusedWhole(t *testing.T) {
	for name, looks := range map[string]string{
		"windows-1258.csv": "Windows-1258",
		"utf-16le-bom.txt": "UTF-16 LE",
		"utf-16be-bom.txt": "UTF-16 BE",
		"utf-16le.txt":     "UTF-16 LE",
	} {
		f, err := Read(fixture(t, name), Options{Fixed: []string{"phone"}, Required: []string{"phone"}})
		assert.Nil(t, f, name)
		var ee *EncodingError
		require.True(t, errors.As(err, &ee), "%s: %v", name, err)
		assert.Equal(t, looks, ee.Looks, name)
		assert.Contains(t, err.Error(), "CSV UTF-8", name)
		assert.Contains(t, err.Error(), looks, name)
	}
	// The first bad line is named: a UTF-8 file with one Windows-1258 row.
	_, err := Read([]byte("key,phone,ten\nr1,0912000003,Nguyễn\nr2,0912000013,Tr\xe2\xccn\n"), Options{Fixed: []string{"phone"}})
	var ee *EncodingError
	require.True(t, errors.As(err, &ee))
	assert.Equal(t, 3, ee.Line)
}
