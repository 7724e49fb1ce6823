package autocall

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

// readTestdata returns a document example as it is in testdata/.
func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

var (
	lineComment  = regexp.MustCompile(`(?m)^\s*//.*$`)
	missingComma = regexp.MustCompile(`([0-9"\]}])(\s*\n\s*")`)
)

// looseJSON repairs the two defects OMICall's API gọi tự động page's examples have (testdata/
// README.md): // comments and a missing comma between members.
func looseJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	b = lineComment.ReplaceAll(b, nil)
	if !json.Valid(b) {
		b = missingComma.ReplaceAll(b, []byte("$1,$2"))
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	return m
}

func jsonMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	return m
}

// mockClient is a Client whose requests go to an httpmock transport: for
// pure decoding tests, where no socket behaviour matters.
func mockClient(t *testing.T) (*Client, *httpmock.MockTransport) {
	t.Helper()
	return mockClientFor(t, TEL4VN)
}

func mockClientFor(t *testing.T, p Provider) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	c := newTestClient(t, "https://api.example.test", WithAccessToken(testToken), WithProvider(p),
		WithHTTPClient(&http.Client{Transport: mt}))
	return c, mt
}

func mockJSON(mt *httpmock.MockTransport, method, url string, status int, body []byte) {
	mt.RegisterResponder(method, url, func(*http.Request) (*http.Response, error) {
		r := httpmock.NewBytesResponse(status, body)
		r.Header.Set("Content-Type", "application/json")
		return r, nil
	})
}
