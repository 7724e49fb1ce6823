package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/internal/promtext"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// scrape reads /metrics over HTTP: the value of every sample, by its line
// up to the value ("name{labels}").
func scrape(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return promtext.Samples(resp.Body)
}

func jobsIn(m map[string]float64, state string) float64 {
	return m[`autocall_batch_jobs_total{autocall_job_state="`+state+`",autocall_job_skipped="false"}`]
}

// /metrics, scraped over HTTP while the built command runs a CSV batch
// against the sandbox, counts the rows as they go; at the end it shows
// the placed and refused counts the journal holds.
func TestMetricsScrapedDuringACSVBatch(t *testing.T) {
	srv := sandbox(t)
	srv.FailNext("/api/v2/campaigns/1/otp", 100000, autocalltest.Fault{Process: true, Delay: 10 * time.Millisecond})
	var b strings.Builder
	b.WriteString("key,phone,code\n")
	for i := 0; i < 40; i++ {
		phone := fmt.Sprintf("0912%06d", i)
		if i%4 == 0 {
			phone = "12345" // refused
		}
		fmt.Fprintf(&b, "row-%d,%s,%04d\n", i, phone, i)
	}
	csv := filepath.Join(t.TempDir(), "rows.csv")
	require.NoError(t, os.WriteFile(csv, []byte(b.String()), 0o600))
	addr := freeAddr(t)
	cmd := exec.Command(binary, "otp", "send", "--campaign", "1", "--caller", "02873001234", "--csv", csv,
		"--rate", "40", "--workers", "2", "--metrics-addr", addr, "--metrics-linger", "3s")
	cmd.Env = append(os.Environ(), "AUTOCALL_BASE_URL="+srv.URL, "AUTOCALL_SECRET_KEY="+autocalltest.SecretKey)
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errOut
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	url := "http://" + addr + "/metrics"
	var last map[string]float64
	midRun := false
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		m, err := scrape(url)
		if err != nil {
			time.Sleep(10 * time.Millisecond) // not listening yet
			continue
		}
		done := jobsIn(m, "placed") + jobsIn(m, "refused")
		if done > 0 && done < 40 {
			midRun = true
		}
		if last != nil {
			assert.GreaterOrEqual(t, jobsIn(m, "placed"), jobsIn(last, "placed"), "a counter never goes down")
		}
		last = m
		if done == 40 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	err := cmd.Wait()
	require.NotNil(t, last, "never scraped: %s", errOut.String())
	assert.True(t, midRun, "a scrape saw the batch part-way")
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, errOut.String())
	assert.Equal(t, exitPartial, ee.ExitCode(), "some rows were refused: %s", errOut.String())

	show := run(t, nil, "--json", "journal", "show", csv+".journal")
	var js struct{ Counts map[string]int }
	require.NoError(t, json.Unmarshal([]byte(show.stdout), &js))
	assert.Equal(t, 30, js.Counts["placed"])
	assert.Equal(t, 10, js.Counts["refused"])
	assert.Equal(t, float64(js.Counts["placed"]), jobsIn(last, "placed"))
	assert.Equal(t, float64(js.Counts["refused"]), jobsIn(last, "refused"))
	// The SDK's side: the creates that reached the sandbox, and no label
	// holds a phone or a key.
	assert.Equal(t, float64(30), last[`autocall_calls_total{autocall_provider="tel4vn",autocall_operation="OTP.Send",autocall_outcome_class="none",autocall_outcome_cause=""}`])
	assert.Equal(t, float64(1), last[`autocall_token_fetches_total{autocall_provider="tel4vn",autocall_outcome_class="none",autocall_outcome_cause=""}`])
	for k := range last {
		assert.NotContains(t, k, "0912")
		assert.NotContains(t, k, "row-")
		assert.NotContains(t, k, autocalltest.SecretKey)
	}
	assert.Contains(t, last, `autocall_journal_duration_seconds_count{autocall_journal_operation="claim"}`)
}

// autocall listen counts the events it answers, by status.
func TestListenServesMetrics(t *testing.T) {
	addr := freeAddr(t)
	cmd := exec.Command(binary, "listen", "--addr", "127.0.0.1:0", "--key", "hook-key", "--metrics-addr", addr)
	cmd.Stdout = io.Discard
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	var hook string
	br := bufio.NewReader(stderr)
	for hook == "" {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		if _, rest, ok := strings.Cut(line, "listening for events at "); ok {
			hook = strings.TrimSpace(rest)
		}
	}
	go func() { _, _ = io.Copy(io.Discard, br) }()
	resp, err := http.Post(hook, "application/json", strings.NewReader(`{}`)) // no key: refused
	require.NoError(t, err)
	resp.Body.Close()
	m, err := scrape("http://" + addr + "/metrics")
	require.NoError(t, err)
	assert.Equal(t, float64(1), m[`autocall_listen_requests_total{code="`+strconv.Itoa(resp.StatusCode)+`"}`])
}
