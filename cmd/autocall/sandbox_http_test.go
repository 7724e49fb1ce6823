package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startSandboxCommand runs `autocall sandbox` (with flags of its own, if
// given) as a test in another language would, and returns what it printed.
func startSandboxCommand(t *testing.T, flags ...string) map[string]string {
	cmd := exec.Command(binary, append([]string{"--json", "sandbox", "--addr", "127.0.0.1:0"}, flags...)...)
	cmd.Env = os.Environ()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	var info map[string]string
	require.NoError(t, json.NewDecoder(bufio.NewReader(stdout)).Decode(&info))
	return info
}

// httpJSON is a plain HTTP request and its JSON answer: what a Python test
// does with requests, no Go SDK.
func httpJSON(t *testing.T, method, url, auth, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, out), "%s", b)
	}
	return resp.StatusCode
}

type sandboxCalls struct {
	Calls []struct {
		ID, Phone, Status string
	} `json:"calls"`
}

// A test in another language checks "nobody phoned twice" over HTTP alone:
// it scripts a lost answer, sends, reads what was placed and received.
func TestSandboxCommandOverPlainHTTP(t *testing.T) {
	info := startSandboxCommand(t)
	base, control := info["base_url"], info["control_url"]
	require.Equal(t, base+"/_sandbox/", control)

	var created map[string]any
	code := httpJSON(t, "POST", control+"faults", "", `{"path": "/api/v2/campaigns/1/otp", "count": 1, "process": true, "reset": true}`, &created)
	require.Equal(t, 201, code, "%v", created)
	assert.EqualValues(t, 1, created["count"])

	var tok struct {
		Data struct {
			AccessToken string `json:"access_token"`
		} `json:"data"`
	}
	require.Equal(t, 200, httpJSON(t, "POST", base+"/api/v1/users/generate_access_token", "", `{"secret_key": "`+info["secret_key"]+`"}`, &tok))
	otpBody := `{"callees": ["0912340099"], "caller": "02873001234", "callback_apikey": "cb-SECRET-77", "params": {"template_name": "template_otp_1", "code_otp": "4711"}}`
	req, _ := http.NewRequest("POST", base+"/api/v2/campaigns/1/otp", strings.NewReader(otpBody))
	req.Header.Set("Authorization", tok.Data.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the scripted reset did not happen: %d", resp.StatusCode)
	}

	var calls sandboxCalls
	require.Equal(t, 200, httpJSON(t, "GET", control+"calls", "", "", &calls))
	require.Len(t, calls.Calls, 1, "the call was placed though its answer was lost")
	assert.Equal(t, "0912340099", calls.Calls[0].Phone)

	var reqs struct {
		Requests []struct {
			Method, Path, Body string
			Header             map[string][]string
		} `json:"requests"`
	}
	require.Equal(t, 200, httpJSON(t, "GET", control+"requests?path=/api/v2/campaigns/1/otp", "", "", &reqs))
	require.Len(t, reqs.Requests, 1)
	assert.Equal(t, "POST", reqs.Requests[0].Method)
	assert.Contains(t, reqs.Requests[0].Body, `"code_otp": "4711"`)
	assert.NotContains(t, reqs.Requests[0].Body, "cb-SECRET-77", "secrets redacted")
	assert.Equal(t, []string{"[REDACTED]"}, reqs.Requests[0].Header["Authorization"])
	var all struct{ Requests []any }
	httpJSON(t, "GET", control+"requests", "", "", &all)
	assert.Len(t, all.Requests, 2, "the token and the OTP request; the sandbox's own are not recorded")

	var bad map[string]string
	assert.Equal(t, 400, httpJSON(t, "POST", control+"faults", "", `{"path": "/api/v2/campaigns/1/otp", "proces": true}`, &bad))
	assert.Contains(t, bad["error"], "proces", "a misspelt field is refused, not ignored")
	assert.Equal(t, 400, httpJSON(t, "POST", control+"faults", "", `{"count": 2}`, &bad))
	assert.Equal(t, 404, httpJSON(t, "GET", control+"nope", "", "", &bad))
	assert.Equal(t, 201, httpJSON(t, "POST", control+"faults", "", `{"path": "/api/v2/report/*", "count": 5, "status": 500, "body": "{}"}`, nil))
	assert.Equal(t, 204, httpJSON(t, "DELETE", control+"faults", "", "", nil))
	var now map[string]string
	assert.Equal(t, 200, httpJSON(t, "POST", control+"advance", "", `{"seconds": 30}`, &now))
	require.Equal(t, 200, httpJSON(t, "GET", control+"calls", "", "", &calls))
	assert.Equal(t, "ANSWERED", calls.Calls[0].Status, "the clock moved: the call ended")

	// The command itself against the same sandbox, a fault scripted over
	// HTTP: the lost answer is unknown (exit 5), the re-run phones nobody
	// twice.
	csv := writeFile(t, "pending.csv", "key,phone,code\nh-1,0912340101,1\nh-2,0912340102,2\nh-3,0912340103,3\n")
	require.Equal(t, 201, httpJSON(t, "POST", control+"faults", "", `{"path": "/api/v2/campaigns/1/otp", "process": true, "reset": true}`, nil))
	env := map[string]string{"AUTOCALL_BASE_URL": base, "AUTOCALL_SECRET_KEY": info["secret_key"]}
	r := run(t, env, otpCSV(csv, "--workers", "1")...)
	assert.Equal(t, 5, r.code, r.stdout+r.stderr)
	r = run(t, env, otpCSV(csv)...)
	assert.Equal(t, 5, r.code, "still unknown until resolved")
	require.Equal(t, 200, httpJSON(t, "GET", control+"calls", "", "", &calls))
	perPhone := map[string]int{}
	for _, c := range calls.Calls {
		perPhone[c.Phone]++
	}
	assert.Equal(t, map[string]int{"0912340099": 1, "0912340101": 1, "0912340102": 1, "0912340103": 1}, perPhone, "nobody twice")

	help := run(t, nil, "sandbox", "--help")
	for _, endpoint := range []string{"GET    /_sandbox/calls", "GET    /_sandbox/requests", "POST   /_sandbox/faults"} {
		assert.Contains(t, help.stdout, endpoint)
	}
}
