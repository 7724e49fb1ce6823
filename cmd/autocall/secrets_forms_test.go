package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Secrets of the echo test: the credential, the token, the callback key.
const (
	echoSecretKey = "sk+/echo-SECRET-5f0e1d2c3b4a"
	echoToken     = "tok-echo-TOKEN-9a8b7c6d5e4f"
	echoCbKey     = "cbk=echo/CALLBACK-1a2b3c4d"
)

// cliForms are the encodings of an echoed secret the SDK redacts
// (the SDK's own test covers them all, at every place of the library).
var cliForms = []struct {
	name string
	enc  func(string) string
}{
	{"raw", func(s string) string { return s }},
	{"query escape", url.QueryEscape},
	{"every byte %xx", func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, "%%%02x", s[i])
		}
		return b.String()
	}},
	{"JSON \\u00XX", func(s string) string {
		var b strings.Builder
		for _, r := range s {
			fmt.Fprintf(&b, `\\u%04x`, r) // doubled: it goes inside a JSON string
		}
		return b.String()
	}},
	{"HTML &#NN;", func(s string) string {
		var b strings.Builder
		for _, r := range s {
			fmt.Fprintf(&b, "&#%d;", r)
		}
		return b.String()
	}},
	{"base64", func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }},
	{"base64 URL", func(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }},
	{"hex", func(s string) string { return hex.EncodeToString([]byte(s)) }},
}

// TestNoEchoedSecretInCommandOutput: a provider echoing every secret, in
// every form, in a refusal, a 5xx and a per-callee reason; the command's
// stdout and stderr (text and --json) and its journal show none of them.
func TestNoEchoedSecretInCommandOutput(t *testing.T) {
	modes := []struct {
		name   string
		answer func(w http.ResponseWriter, echo string)
	}{
		{"refused", func(w http.ResponseWriter, echo string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"messsage":"bad `+echo+`","code":400,"status":false,"data":{"error":"invalid `+echo+`"}}`)
		}},
		{"5xx", func(w http.ResponseWriter, echo string) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(502)
			_, _ = io.WriteString(w, "upstream said "+echo)
		}},
		{"per-callee reason", func(w http.ResponseWriter, echo string) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"data":{"campaign_id":1,"results":{"success":["1_1_1_1_x_0987654321"],"fail":[{"0912345678":"key `+echo+`"}]}}}`)
		}},
	}
	for _, mode := range modes {
		for _, form := range cliForms {
			t.Run(mode.name+"/"+form.name, func(t *testing.T) {
				echo := form.enc(echoSecretKey) + " " + form.enc(echoToken) + " " + form.enc(echoCbKey)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body)
					if strings.HasSuffix(r.URL.Path, "/generate_access_token") {
						w.Header().Set("Content-Type", "application/json")
						_, _ = io.WriteString(w, `{"data":{"access_token":"`+echoToken+`","expire_at":3600}}`)
						return
					}
					mode.answer(w, echo)
				}))
				defer srv.Close()
				env := map[string]string{"AUTOCALL_BASE_URL": srv.URL, "AUTOCALL_SECRET_KEY": echoSecretKey}
				send := []string{"otp", "send", "--campaign", "1", "--caller", "02873001234", "--code", "4711",
					"--callback-url", "https://example.com/cb", "--callback-key", echoCbKey}

				var shown []string
				for _, args := range [][]string{
					append(append([]string{}, send...), "0987654321", "0912345678"),
					append([]string{"--json"}, append(append([]string{}, send...), "0987654321", "0912345678")...),
				} {
					r := run(t, env, args...)
					shown = append(shown, r.stdout, r.stderr)
				}
				dir := t.TempDir()
				csv := filepath.Join(dir, "pending.csv")
				require.NoError(t, os.WriteFile(csv, []byte("key,phone,code\nk1,0987654321,4711\n"), 0o600))
				r := run(t, env, append(append([]string{}, send...), "--csv", csv, "--rate", "0")...)
				shown = append(shown, r.stdout, r.stderr)
				r = run(t, env, "journal", "show", csv+".journal")
				shown = append(shown, r.stdout, r.stderr)
				journal, err := os.ReadFile(csv + ".journal")
				require.NoError(t, err)
				shown = append(shown, string(journal))

				all := strings.Join(shown, "\n")
				require.NotEmpty(t, strings.TrimSpace(all))
				for _, sec := range []string{echoSecretKey, echoToken, echoCbKey} {
					require.NotContains(t, all, sec)
					require.NotContains(t, all, form.enc(sec), "the %s form", form.name)
				}
			})
		}
	}
}
