package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listenPeakMiB and listenDeliveries can be raised to measure by hand:
//
//	LISTEN_DELIVERIES=1000 go test -run TestListenMemoryBounded -v ./cmd/autocall
func listenDeliveries() int {
	if n, err := strconv.Atoi(os.Getenv("LISTEN_DELIVERIES")); err == nil && n > 0 {
		return n
	}
	return 300
}

// Many concurrent 1 MiB deliveries: the command's peak memory stays under
// 200 MiB (it reached 2.3 GB for 1,000 before --max-inflight), each
// delivery is taken (200, printed) or refused for later (503 with
// Retry-After, or the connection closed on its unread body), nothing else.
func TestListenMemoryBounded(t *testing.T) {
	cmd, url, stdout := startListen(t)

	var printed sync.WaitGroup
	lines := 0
	printed.Add(1)
	go func() {
		defer printed.Done()
		br := bufio.NewReaderSize(stdout, 64<<10)
		for {
			if _, err := br.ReadSlice('\n'); err == nil {
				lines++
			} else if err != bufio.ErrBufferFull {
				return
			}
		}
	}()

	// One body for every delivery: the test's own memory stays small.
	body := []byte(`{"call_id":"c-1","state":"hangup","pad":"` + strings.Repeat("a", 1<<20-64) + `"}`)
	require.Less(t, len(body), 1<<20)
	tr := &http.Transport{MaxIdleConnsPerHost: -1}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Minute}

	n := listenDeliveries()
	var mu sync.Mutex
	codes := map[int]int{}
	closed := 0
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("X-API-Key", "hook-key")
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				closed++ // refused while still sending: the server closed the connection on an unread body
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[resp.StatusCode]++
			if resp.StatusCode == http.StatusServiceUnavailable {
				assert.Equal(t, "1", resp.Header.Get("Retry-After"))
			}
		}()
	}
	close(start)
	wg.Wait()

	peak := peakMiB(t, cmd)
	t.Logf("%d concurrent 1 MiB deliveries: %v, %d closed unread; peak RSS (VmHWM) %d MiB", n, codes, closed, peak)
	assert.Less(t, peak, 200, "peak resident size in MiB")
	assert.Equal(t, n, codes[200]+codes[503]+closed)
	assert.Positive(t, codes[200])

	_ = cmd.Process.Signal(os.Interrupt)
	printed.Wait()
	assert.Equal(t, codes[200], lines, "one line printed per event taken")
}

// startListen starts `autocall listen --key hook-key` on a free port for
// a memory test (skipped with -short, or without /proc to read the peak
// from), and returns it with the URL it listens at and its stdout. It is
// interrupted when the test ends.
func startListen(t *testing.T) (*exec.Cmd, string, io.Reader) {
	t.Helper()
	if testing.Short() {
		t.Skip("sends some hundreds of MiB")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read the peak resident size")
	}
	cmd := exec.Command(binary, "listen", "--addr", "127.0.0.1:0", "--key", "hook-key")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stderr).ReadString('\n')
	require.NoError(t, err)
	return cmd, strings.TrimSpace(strings.TrimPrefix(line, "listening for events at ")), stdout
}

// peakMiB is the command's peak resident set size so far, in MiB.
func peakMiB(t *testing.T, cmd *exec.Cmd) int {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status")
	require.NoError(t, err)
	return vmHWM(t, string(raw)) >> 10
}

// vmHWM reads the peak resident set size, in KiB.
func vmHWM(t *testing.T, status string) int {
	for _, l := range strings.Split(status, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.Atoi(f[1])
			require.NoError(t, err)
			return kb
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}
