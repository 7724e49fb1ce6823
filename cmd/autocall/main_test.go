package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// The tests build the command once and run it as a subprocess, as cron or
// a script would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "autocall-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "autocall")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the command: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	for _, s := range pgTestServers {
		s.Stop()
	}
	os.RemoveAll(dir)
	if code == 0 {
		// After every test, whatever file it is in and whatever order ran it.
		if leak := secretInOutputs(); leak != "" {
			fmt.Fprintf(os.Stderr, "FAIL: the command printed a secret (%q)\n", leak)
			code = 1
		}
	}
	os.Exit(code)
}

// output collects everything the command printed, for the secret check.
var (
	outputsMu sync.Mutex
	outputs   []string
)

type result struct {
	code           int
	stdout, stderr string
}

// run runs the command with env (and nothing of the test's environment
// that starts with AUTOCALL_).
func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTOCALL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	outputsMu.Lock()
	outputs = append(outputs, out.String(), errOut.String()) // run never starts `sandbox`, which prints its test keys
	outputsMu.Unlock()
	return result{code, out.String(), errOut.String()}
}

func tel4vnEnv(srv *autocalltest.Server) map[string]string {
	return map[string]string{"AUTOCALL_BASE_URL": srv.URL, "AUTOCALL_SECRET_KEY": autocalltest.SecretKey}
}

func omicallEnv(srv *autocalltest.Server) map[string]string {
	return map[string]string{"AUTOCALL_BASE_URL": srv.URL, "AUTOCALL_API_KEY": autocalltest.APIKey}
}

func sandbox(t *testing.T) *autocalltest.Server {
	srv := autocalltest.NewServer()
	t.Cleanup(srv.Close)
	return srv
}

var otp = []string{"otp", "send", "--campaign", "1", "--caller", "02873001234", "--code", "4711"}

// Each exit code, from a real situation.
func TestExitCodes(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	cases := []struct {
		name  string
		code  int
		setup func()
		env   map[string]string
		args  []string
	}{
		{name: "done", code: 0, env: env, args: append(otp, "0987654321")},
		{name: "usage", code: 2, env: env, args: []string{"otp", "send", "0987654321"}},
		{name: "unknown flag", code: 2, env: env, args: []string{"otp", "send", "--nope"}},
		{name: "validation", code: 2, env: env, args: append(otp, "12345")},
		{name: "credential refused", code: 3, env: map[string]string{"AUTOCALL_BASE_URL": srv.URL, "AUTOCALL_SECRET_KEY": "wrong-secret-ZZZ"},
			args: append(otp, "0987654321")},
		{name: "provider refused", code: 4, env: env, args: []string{"cdr", "get", "no-such-call"}},
		{name: "outcome unknown", code: 5, env: env, args: append(otp, "0987654322"), setup: func() {
			srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Process: true, Reset: true})
		}},
		{name: "partial", code: 6, env: env, args: append(otp, "0987654323", "123")},
		{name: "network", code: 7, env: map[string]string{"AUTOCALL_BASE_URL": "http://127.0.0.1:1", "AUTOCALL_SECRET_KEY": "k"},
			args: append(otp, "0987654321")},
		{name: "anything else", code: 1, env: env, args: []string{"cdr", "get", "x"}, setup: func() {
			srv.FailNext("/api/v2/report/x", 3, autocalltest.Fault{Status: 500, Body: `{"messsage":"boom","code":500,"status":false}`})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			r := run(t, tc.env, tc.args...)
			assert.Equal(t, tc.code, r.code, "stdout %s\nstderr %s", r.stdout, r.stderr)
		})
	}
	assert.Contains(t, run(t, nil, "--help").stdout, "5  outcome unknown", "--help documents the exit codes")
}

func TestJSONOutput(t *testing.T) {
	srv := sandbox(t)
	r := run(t, tel4vnEnv(srv), append([]string{"--json"}, append(otp, "0987654321", "123")...)...)
	assert.Equal(t, 6, r.code)
	var res struct {
		Accepted []string            `json:"accepted"`
		Rejected []map[string]string `json:"rejected"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res), r.stdout)
	assert.Len(t, res.Accepted, 1)
	assert.Equal(t, "123", res.Rejected[0]["phone"])

	r = run(t, tel4vnEnv(srv), "--json", "cdr", "get", res.Accepted[0])
	require.Equal(t, 0, r.code, r.stderr)
	var cdr map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &cdr))
	assert.Equal(t, res.Accepted[0], cdr["id"])

	r = run(t, tel4vnEnv(srv), "--json", "cdr", "get", "nope")
	var fail map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stderr), &fail), r.stderr)
	assert.EqualValues(t, 4, fail["exit_code"])

	r = run(t, nil, "--json", "version")
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &map[string]string{}))
}

func TestDryRunSendsNothing(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	r := run(t, env, append([]string{"--dry-run"}, append(otp, "--callback-url", "https://h.example/cb", "--callback-key", "cbk-SECRET", "+84 98 765 4321")...)...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "would send POST /api/v2/campaigns/1/otp")
	assert.Contains(t, r.stdout, `"0987654321"`, "the request as the SDK builds it: normalised")
	assert.NotContains(t, r.stdout, "cbk-SECRET")
	csv := writeCSV(t, 5)
	r = run(t, env, "--dry-run", "--json", "otp", "send", "--campaign", "1", "--caller", "02873001234", "--code", "1", "--csv", csv)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, 5, strings.Count(r.stdout, `"dry_run":true`))
	r = run(t, env, "--dry-run", "otp", "send", "--campaign", "1", "--caller", "02873001234", "12345")
	assert.Equal(t, 2, r.code, "validation still happens")
	assert.Zero(t, len(srv.Requests()), "nothing reached the provider")
	_, err := os.Stat(csv + ".journal")
	assert.True(t, os.IsNotExist(err), "a dry run writes no journal")
}

func writeCSV(t *testing.T, n int) string {
	var b strings.Builder
	b.WriteString("key,phone,code\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "row-%d,0912%06d,%04d\n", i, i*10+3, i)
	}
	p := filepath.Join(t.TempDir(), "pending.csv")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o600))
	return p
}

func callsPerPhone(srv *autocalltest.Server) map[string]int {
	m := map[string]int{}
	for _, c := range srv.Calls() {
		m[c.Phone]++
	}
	return m
}

// A CSV batch killed with SIGKILL mid-way, then run again: nobody is phoned
// twice, and the rows in flight at the kill are reported unknown.
func TestCSVBatchKilledAndRerun(t *testing.T) {
	srv := sandbox(t)
	srv.FailNext("/api/v2/campaigns/1/otp", 100000, autocalltest.Fault{Process: true, Delay: 2 * time.Millisecond})
	csv := writeCSV(t, 600)
	args := []string{"otp", "send", "--campaign", "1", "--caller", "02873001234", "--csv", csv, "--workers", "8", "--rate", "0"}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "AUTOCALL_BASE_URL="+srv.URL, "AUTOCALL_SECRET_KEY="+autocalltest.SecretKey)
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.Calls()) < 100 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	killedAt := len(srv.Calls())
	require.Less(t, killedAt, 600, "killed mid-way")

	r := run(t, tel4vnEnv(srv), args...)
	assert.Contains(t, []int{0, 5}, r.code, r.stderr)
	for p, n := range callsPerPhone(srv) {
		require.Equal(t, 1, n, "%s phoned %d times", p, n)
	}
	show := run(t, nil, "--json", "journal", "show", csv+".journal")
	require.Equal(t, 0, show.code, show.stderr)
	var js struct {
		Jobs    int            `json:"jobs"`
		Counts  map[string]int `json:"counts"`
		Unknown []string       `json:"unknown"`
	}
	require.NoError(t, json.Unmarshal([]byte(show.stdout), &js))
	assert.Equal(t, 600, js.Jobs)
	assert.Equal(t, 600, js.Counts["placed"]+js.Counts["unknown"])
	assert.LessOrEqual(t, len(js.Unknown), 8, "at most the rows in flight")
	if len(js.Unknown) > 0 {
		assert.Equal(t, 5, r.code, "unknown rows: exit 5")
		r = run(t, nil, "journal", "resolve", csv+".journal", js.Unknown[0], "placed")
		assert.Equal(t, 0, r.code, r.stderr)
	}
	r = run(t, nil, "journal", "resolve", csv+".journal", "row-0", "unsent")
	assert.Equal(t, 2, r.code, "a placed row cannot be resolved")
}

// Ctrl-C stops taking rows, lets those in flight finish and be recorded,
// and says how to resume.
func TestInterruptedBatch(t *testing.T) {
	srv := sandbox(t)
	srv.FailNext("/api/v2/campaigns/1/otp", 100000, autocalltest.Fault{Process: true, Delay: 20 * time.Millisecond})
	csv := writeCSV(t, 300)
	cmd := exec.Command(binary, "otp", "send", "--campaign", "1", "--caller", "02873001234", "--csv", csv, "--rate", "0")
	cmd.Env = append(os.Environ(), "AUTOCALL_BASE_URL="+srv.URL, "AUTOCALL_SECRET_KEY="+autocalltest.SecretKey)
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	require.NoError(t, cmd.Start())
	for len(srv.Calls()) < 20 {
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.ExitCode())
	assert.Contains(t, errOut.String(), "Run the same command again to resume")
	show := run(t, nil, "--json", "journal", "show", csv+".journal")
	var js struct{ Counts map[string]int }
	require.NoError(t, json.Unmarshal([]byte(show.stdout), &js))
	assert.Zero(t, js.Counts["unknown"], "the rows in flight finished and were recorded")
	assert.Equal(t, len(srv.Calls()), js.Counts["placed"])
}

func TestCommandsAgainstTheSandboxCommand(t *testing.T) {
	cmd := exec.Command(binary, "--json", "sandbox", "--addr", "127.0.0.1:0")
	cmd.Env = os.Environ()
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	var info map[string]string
	require.NoError(t, json.NewDecoder(bufio.NewReader(stdout)).Decode(&info))
	env := map[string]string{"AUTOCALL_BASE_URL": info["base_url"], "AUTOCALL_SECRET_KEY": info["secret_key"]}

	r := run(t, env, "--json", "otp", "send", "--campaign", "1", "--caller", "02873001234", "--code", "1", "0912340002")
	require.Equal(t, 0, r.code, r.stderr)
	var res struct{ Accepted []string }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
	// The sandbox's clock runs in real time there: the call ends by itself.
	r = run(t, env, "--timeout", "30s", "cdr", "wait", res.Accepted[0])
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "NOANSWER")

	r = run(t, env, "token")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "TEL4VN credential accepted; the token expires")
	omi := map[string]string{"AUTOCALL_BASE_URL": info["base_url"], "AUTOCALL_API_KEY": info["api_key"]}
	r = run(t, omi, "token")
	assert.Contains(t, r.stdout, "OMICall credential accepted")
}

func TestTTSAndCalls(t *testing.T) {
	srv := sandbox(t)
	env := tel4vnEnv(srv)
	content := "Chào bạn {{customer_name}} vui lòng thanh toán khoản nợ {{due_amount}} trước ngày {{due_date}}"
	r := run(t, nil, "tts", "preview", "--content", content, "--param", "customer_name=Nguyễn Văn A", "--param", "due_amount=10.410.000", "--param", "due_date=30/01/2021")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "Chào bạn Nguyễn Văn A vui lòng thanh toán khoản nợ mười triệu bốn trăm mười nghìn trước ngày ba mươi tháng một năm hai không hai mươi mốt\n", r.stdout)
	r = run(t, nil, "tts", "preview", "--content", content, "--param", "due_days=#15")
	assert.Equal(t, 2, r.code)

	r = run(t, env, "tts", "import", "--campaign", "1", "--name", "no_cuoc", "--content", content)
	require.Equal(t, 0, r.code, r.stderr)
	r = run(t, env, "tts", "run", "--campaign", "1", "--caller", "02873001234", "--template", "no_cuoc", "--content", content,
		"--param", "customer_name=A", "--param", "due_amount=1.000", "--param", "due_date=30/01/2021", "0987654321")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "placed   0987654321")

	debts := filepath.Join(t.TempDir(), "debts.csv")
	require.NoError(t, os.WriteFile(debts, []byte("key,phone,customer_name,due_amount,due_date\nd1,0912345678,B,2.000,01/02/2021\n"), 0o600))
	r = run(t, env, "tts", "run", "--campaign", "1", "--caller", "02873001234", "--template", "no_cuoc", "--csv", debts)
	require.Equal(t, 0, r.code, r.stderr)

	oenv := omicallEnv(srv)
	r = run(t, oenv, "call", "phone", "--step", "text:Đơn hàng của bạn là", "--step", "recording:r1", "0987654321")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "placed   session")
	r = run(t, oenv, "call", "extension", "--cid", "02873001234", "--step", "ivr:menu1", "101", "102")
	require.Equal(t, 0, r.code, r.stderr)
	r = run(t, oenv, "call", "phone", "--step", "nope:x", "0987654321")
	assert.Equal(t, 2, r.code)
	r = run(t, env, "call", "phone", "--step", "text:x", "0987654321")
	assert.Equal(t, 2, r.code, "an OMICall command with a TEL4VN credential")
	assert.Contains(t, r.stderr, "AUTOCALL_API_KEY")
	assert.Len(t, srv.Sessions(), 2)
}

func TestSecretFromFileAndListen(t *testing.T) {
	srv := sandbox(t)
	keyFile := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(keyFile, []byte(autocalltest.SecretKey+"\n"), 0o600))
	r := run(t, map[string]string{"AUTOCALL_BASE_URL": srv.URL}, "--secret-key-file", keyFile, "token")
	require.Equal(t, 0, r.code, r.stderr)

	cmd := exec.Command(binary, "listen", "--addr", "127.0.0.1:0", "--key", "hook-key")
	var out bytes.Buffer
	var mu sync.Mutex
	cmd.Stdout = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	stderr, _ := cmd.StderrPipe()
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stderr).ReadString('\n')
	require.NoError(t, err)
	url := strings.TrimSpace(strings.TrimPrefix(line, "listening for events at "))
	post := func(key string) int {
		req, _ := http.NewRequest("POST", url, strings.NewReader(`{"id":"c1","status":"ANSWERED","phone_number":"0987654321","keypress":"127"}`))
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, 401, post("wrong"))
	assert.Equal(t, 200, post("hook-key"))
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return strings.Contains(out.String(), "\n") }, 5*time.Second, 10*time.Millisecond)
	mu.Lock()
	var ev map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(out.String(), "\n", 2)[0]), &ev))
	mu.Unlock()
	assert.Equal(t, "c1", ev["call_id"])
	assert.Equal(t, true, ev["final"])
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// No secret in anything any test above printed: keys, the callback key,
// the wrong key tried, tokens. Runs last (Go runs tests in source order).
// secretInOutputs returns the first secret found in anything a test's run
// of the command printed, or "". TestMain calls it once every test ran.
func secretInOutputs() string {
	outputsMu.Lock()
	defer outputsMu.Unlock()
	for _, o := range outputs {
		for _, secret := range []string{autocalltest.SecretKey, autocalltest.APIKey, "cbk-SECRET", "wrong-secret-ZZZ", "Bearer "} {
			if strings.Contains(o, secret) {
				return secret
			}
		}
	}
	return ""
}

func TestSecretCheckFindsASecret(t *testing.T) {
	outputsMu.Lock()
	saved := outputs
	outputs = append(append([]string(nil), saved...), "token for "+autocalltest.SecretKey)
	outputsMu.Unlock()
	found := secretInOutputs()
	outputsMu.Lock()
	outputs = saved
	outputsMu.Unlock()
	require.Equal(t, autocalltest.SecretKey, found)
}

func TestEveryCommandHasHelpWithAnExample(t *testing.T) {

	root := (&app{env: func(string) string { return "" }}).rootCommand()
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		names := [][]string{{c.Name()}}
		for _, sub := range c.Commands() {
			names = append(names, []string{c.Name(), sub.Name()})
		}
		for _, n := range names {
			r := run(t, nil, append(n, "--help")...)
			assert.Equal(t, 0, r.code)
			assert.Contains(t, r.stdout, "Examples:", "autocall %s --help", strings.Join(n, " "))
		}
	}

	r := run(t, nil, "completion", "bash")
	assert.Contains(t, r.stdout, "bash completion")
}
