package csvrows

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

func TestFixedColumnsInAnyCasePlaceholdersAsWritten(t *testing.T) {
	data := "\ufeffKEY,Phone," + norm.NFD.String("tênKhách") + ",customerName\r\nk1,0912300001,Ánh,A\r\n"
	f, err := Read([]byte(data), Options{Fixed: []string{"phone"}, Required: []string{"phone"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"key", "phone", "tênKhách", "customerName"}, f.Header)
	require.Len(t, f.Rows, 1)
	assert.Equal(t, map[string]string{"key": "k1", "phone": "0912300001", "tênKhách": "Ánh", "customerName": "A"}, f.Rows[0].Values)
}

func TestHeadlessFileUsesTheDefaultHeader(t *testing.T) {
	cols := []string{"key", "phone", "code"}
	f, err := Read([]byte("a,0912300001,1\nb,0912300002,2"), Options{Fixed: cols, Required: cols[1:], Default: cols})
	require.NoError(t, err)
	require.Len(t, f.Rows, 1)
	assert.Equal(t, 1, f.Rows[0].Line)
	assert.Equal(t, "1", f.Rows[0].Get("code"))
	assert.Equal(t, 2, f.Held, "the unended last line")

	f, err = Read([]byte("a,0912300001,1"), Options{Fixed: cols, Default: cols})
	require.NoError(t, err)
	assert.Empty(t, f.Rows)
	assert.Equal(t, 1, f.Held, "a single unended line is held too")

	_, err = Read([]byte("a,0912300001,1\n"), Options{Fixed: cols})
	assert.ErrorContains(t, err, `no "key" column`, "a header is required without Default")
}

func TestBadRowsAreRefusedAlone(t *testing.T) {
	f, err := Read([]byte("key,phone\nk,1\nk,2\n,3\nm\n\"n,4\nz,5\n"), Options{Fixed: []string{"phone"}})
	require.NoError(t, err)
	assert.Equal(t, []Refusal{
		{Line: 3, Key: "k", Reason: `key "k" is already on line 2 (a key is sent once: give this row a key of its own)`},
		{Line: 4, Reason: "no key"},
		{Line: 5, Key: "m", Reason: "1 fields, the header names 2 (missing: phone)"},
	}, f.Refused[:3])
	require.Len(t, f.Refused, 4)
	assert.Contains(t, f.Refused[3].Reason, "not readable as CSV")
	require.Len(t, f.Rows, 1)
	assert.Equal(t, "k", f.Rows[0].Get("key"))
}
