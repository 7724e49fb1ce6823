package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A fault that would do nothing, or whose fields conflict, is refused with
// 400 naming the problem, not accepted with 201: a test in another language
// scripting it would otherwise pass for the wrong reason.
func TestSandboxCommandRefusesFaultsThatDoNothingOrConflict(t *testing.T) {
	info := startSandboxCommand(t)
	control := info["control_url"]
	for body, names := range map[string]string{
		`{"path": "/api/v2/campaigns/1/otp"}`:                                      "does nothing",
		`{"path": "/api/v2/campaigns/1/otp", "process": true}`:                     "does nothing",
		`{"path": "/api/v2/campaigns/1/otp", "status": 500, "reset": true}`:        `"reset" conflicts with "status"`,
		`{"path": "/api/v2/campaigns/1/otp", "reset": true, "html": true}`:         `"reset" and "html" conflict`,
		`{"path": "/api/v2/campaigns/1/otp", "html": true, "body": "x"}`:           `"html" conflicts with "body"`,
		`{"path": "/api/v2/campaigns/1/otp", "body": "{}"}`:                        `need "status"`,
		`{"path": "/api/v2/campaigns/1/otp", "reset": true, "header": {"A": "b"}}`: `"reset" conflicts with "header"`,
	} {
		var out map[string]string
		code := httpJSON(t, "POST", control+"faults", "", body, &out)
		assert.Equal(t, http.StatusBadRequest, code, body)
		assert.Contains(t, out["error"], names, body)
	}
	for _, body := range []string{
		`{"path": "/api/v2/campaigns/1/otp", "process": true, "reset": true}`,
		`{"path": "/api/v2/campaigns/1/otp", "html": true, "status": 504}`,
		`{"path": "/api/v2/campaigns/1/otp", "status": 429, "body": "{}", "header": {"Retry-After": "1"}}`,
		`{"path": "/api/v2/campaigns/1/otp", "process": true, "delay_ms": 10}`,
	} {
		assert.Equal(t, http.StatusCreated, httpJSON(t, "POST", control+"faults", "", body, nil), body)
	}
}

// ?path= keeps a prefix's requests with a trailing "*", as faults do.
func TestSandboxCommandRequestsByPathPrefix(t *testing.T) {
	info := startSandboxCommand(t)
	base, control := info["base_url"], info["control_url"]
	for _, p := range []string{"/api/v2/report/a", "/api/v2/report/b", "/api/v1/other"} {
		resp, err := http.Get(base + p)
		require.NoError(t, err)
		resp.Body.Close()
	}
	var got struct {
		Requests []struct{ Path string } `json:"requests"`
	}
	require.Equal(t, 200, httpJSON(t, "GET", control+"requests?path=/api/v2/report/*", "", "", &got))
	var paths []string
	for _, r := range got.Requests {
		paths = append(paths, r.Path)
	}
	assert.Equal(t, []string{"/api/v2/report/a", "/api/v2/report/b"}, paths)
	got.Requests = nil
	require.Equal(t, 200, httpJSON(t, "GET", control+"requests?path=/api/v2/report/a", "", "", &got))
	assert.Len(t, got.Requests, 1, "without * the path is exact")
}
