package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// tel4vnToken asks the sandbox for a token over plain HTTP, as a service
// that got its token out of band would have.
func tel4vnToken(t *testing.T, srv *autocalltest.Server) string {
	resp, err := http.Post(srv.URL+"/api/v1/users/generate_access_token", "application/json",
		strings.NewReader(`{"secret_key":"`+autocalltest.SecretKey+`"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Data struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.NotEmpty(t, out.Data.AccessToken)
	return out.Data.AccessToken
}

// An access token is checked with one authenticated read that places no
// call, not printed "accepted" unchecked.
func TestTokenChecksAnAccessToken(t *testing.T) {
	srv := sandbox(t)
	tok := tel4vnToken(t, srv)
	env := func(token string) map[string]string {
		return map[string]string{"AUTOCALL_BASE_URL": srv.URL, "AUTOCALL_ACCESS_TOKEN": token, "AUTOCALL_PROVIDER": "tel4vn"}
	}
	before := len(srv.Requests())
	r := run(t, env(tok), "token")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "TEL4VN access token accepted by an authenticated read")
	reqs := srv.Requests()[before:]
	require.Len(t, reqs, 1, "one read")
	assert.Equal(t, "GET", reqs[0].Method)
	assert.Equal(t, "/api/v2/report/"+tokenProbeCallID, reqs[0].Path)

	r = run(t, env("not-a-token-QQQ"), "token")
	assert.Equal(t, 3, r.code, "a refused token: stdout %s stderr %s", r.stdout, r.stderr)
	assert.NotContains(t, r.stdout+r.stderr, "accepted")
	assert.NotContains(t, r.stdout+r.stderr, "not-a-token-QQQ")

	r = run(t, env(tok), "--json", "token")
	require.Equal(t, 0, r.code, r.stderr)
	var js map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &js))
	assert.Equal(t, true, js["ok"])
	assert.NotContains(t, r.stdout, tok)

	// OMICall has no read that places no call: say so, do not claim.
	omi := map[string]string{"AUTOCALL_BASE_URL": srv.URL, "AUTOCALL_ACCESS_TOKEN": "some-token", "AUTOCALL_PROVIDER": "omicall"}
	before = len(srv.Requests())
	r = run(t, omi, "token")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "cannot be checked")
	assert.NotContains(t, r.stdout, "accepted")
	assert.Len(t, srv.Requests(), before, "nothing sent")
}

// A dry run of a command that only reads says that nothing was checked
// instead of inventing an answer, and sends nothing.
func TestDryRunChecksNothing(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	for _, args := range [][]string{
		{"--dry-run", "token"},
		{"--dry-run", "cdr", "get", "1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321"},
		{"--dry-run", "cdr", "wait", "1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321"},
	} {
		r := run(t, env, args...)
		assert.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
		assert.Contains(t, r.stdout, "dry run: nothing was checked", "%v", args)
		assert.NotContains(t, r.stdout, "accepted", "%v", args)
		assert.NotContains(t, r.stdout, "ANSWERED", "%v: no invented status", args)
	}
	r := run(t, env, "--dry-run", "--json", "cdr", "get", "x")
	assert.Contains(t, r.stdout, `"checked":false`)
	assert.Empty(t, srv.Requests(), "nothing reached the provider")
}

// --callback-key comes from the environment or a file, like the other
// secrets; it reaches the events and no output.
func TestCallbackKeyFromEnvironmentOrFile(t *testing.T) {
	srv := sandbox(t)
	var mu sync.Mutex
	var keys []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("X-API-Key"))
		mu.Unlock()
	}))
	defer hook.Close()
	file := filepath.Join(t.TempDir(), "cbkey")
	require.NoError(t, os.WriteFile(file, []byte("cbk-file-SECRET\n"), 0o600))

	env := tel4vnEnv(srv)
	env["AUTOCALL_CALLBACK_KEY"] = "cbk-env-SECRET"
	r := run(t, env, append(otp, "--callback-url", hook.URL, "0987654321")...)
	require.Equal(t, 0, r.code, r.stderr)
	r2 := run(t, tel4vnEnv(srv), append(otp, "--callback-url", hook.URL, "--callback-key-file", file, "0987654322")...)
	require.Equal(t, 0, r2.code, r2.stderr)
	r3 := run(t, env, "--dry-run", "tts", "run", "--campaign", "1", "--caller", "02873001234", "--template", "t",
		"--param", "a=b", "--callback-url", hook.URL, "0987654323")
	require.Equal(t, 0, r3.code, r3.stderr)
	assert.Contains(t, r3.stdout, `"callback_apikey": "[REDACTED]"`, "the environment's key is sent by tts run too")

	srv.Advance(autocalltest.RingTime + autocalltest.TalkTime)
	srv.WaitForCallbacks()
	mu.Lock()
	assert.ElementsMatch(t, []string{"cbk-env-SECRET", "cbk-file-SECRET"}, keys)
	mu.Unlock()
	for _, out := range []string{r.stdout, r.stderr, r2.stdout, r2.stderr, r3.stdout, r3.stderr} {
		assert.NotContains(t, out, "cbk-env-SECRET")
		assert.NotContains(t, out, "cbk-file-SECRET")
	}
}
