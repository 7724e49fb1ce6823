package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Many connections, without the key, each sending 1 MiB of header lines,
// beside slow ones that stall half-way through their header: the
// command's peak memory stays under 200 MiB (each connection could hold
// 1 MiB of header before MaxHeaderBytes), and a real delivery is still
// taken.
func TestListenHeaderMemoryBounded(t *testing.T) {
	cmd, url, _ := startListen(t)
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")

	// Slow senders: a header begun and never finished.
	var slow []net.Conn
	defer func() {
		for _, c := range slow {
			_ = c.Close()
		}
	}()
	for i := 0; i < 50; i++ {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		_, err = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("s", 4000))
		require.NoError(t, err)
		slow = append(slow, c)
	}

	var head bytes.Buffer
	head.WriteString("POST / HTTP/1.1\r\nHost: x\r\n")
	for j := 0; j < 128; j++ {
		fmt.Fprintf(&head, "X-Pad-%d: %s\r\n", j, strings.Repeat("h", 8180))
	}
	require.Greater(t, head.Len(), 1<<20)
	n := 400
	var mu sync.Mutex
	answers := map[string]int{}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answer := "closed"
			defer func() { mu.Lock(); answers[answer]++; mu.Unlock() }()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				answer = "dial error"
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(time.Minute))
			_, _ = c.Write(head.Bytes()) // cut short when the server answers 431 and closes
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				answer = strconv.Itoa(resp.StatusCode)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()

	peak := peakMiB(t, cmd)
	t.Logf("%d connections with 1 MiB headers beside 50 stalled: %v; peak RSS (VmHWM) %d MiB", n, answers, peak)
	assert.Less(t, peak, 200, "peak resident size in MiB")
	assert.Zero(t, answers["200"], "no event without the key")
	assert.Zero(t, answers["dial error"])

	// The stalled senders hold slots, not the whole server.
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"call_id":"c-1","state":"hangup"}`))
	req.Header.Set("X-API-Key", "hook-key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// The listener holds at most its limit of connections open; a closed one
// gives its slot to the next, and Close ends a waiting Accept.
func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := newLimitListener(inner, 2)
	accepted := make(chan net.Conn, 3)
	done := make(chan error, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			accepted <- c
		}
	}()
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", inner.Addr().String())
		require.NoError(t, err)
		defer c.Close()
	}
	first, second := <-accepted, <-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection accepted beyond the limit of 2")
	case <-time.After(200 * time.Millisecond):
	}
	require.NoError(t, first.Close())
	_ = first.Close() // a second Close gives back no second slot
	third := <-accepted
	assert.Len(t, ln.slots, 2)
	require.NoError(t, ln.Close())
	assert.ErrorIs(t, <-done, net.ErrClosed)
	_, _ = second.Close(), third.Close()
	assert.Len(t, ln.slots, 0)
}

// 1,000 small deliveries at once, each from a keep-alive sender that
// keeps its connection idle afterwards: every one is answered (200, or 503
// with Retry-After) within seconds. Before idle connections gave way, the
// first 256 senders' idle connections held every --max-conns slot, and a
// third of the deliveries waited unanswered until the senders gave up.
func TestListenKeepAliveBurstAllAnswered(t *testing.T) {
	_, url, stdout := startListen(t)
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	const n = 1000
	const deadline = 15 * time.Second // per delivery: "a few seconds", with room for a loaded machine
	var mu sync.Mutex
	answers := map[string]int{}
	var slowest time.Duration
	var wg sync.WaitGroup
	start := make(chan struct{})
	var transports []*http.Transport
	for i := 0; i < n; i++ {
		tr := &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute}
		transports = append(transports, tr)
		hc := &http.Client{Transport: tr, Timeout: deadline}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(fmt.Sprintf(`{"call_id":"c-%d","state":"hangup"}`, i)))
			req.Header.Set("X-API-Key", "hook-key")
			req.Header.Set("Content-Type", "application/json")
			began := time.Now()
			resp, err := hc.Do(req)
			took := time.Since(began)
			answer := ""
			switch {
			case err != nil:
				answer = "error: " + err.Error()
				if strings.Contains(err.Error(), "Timeout") {
					answer = "hung"
				}
			default:
				_, _ = io.Copy(io.Discard, resp.Body) // read whole: the connection stays for reuse, idle
				resp.Body.Close()
				answer = strconv.Itoa(resp.StatusCode)
				if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
					answer = "503 without Retry-After"
				}
			}
			mu.Lock()
			answers[answer]++
			slowest = max(slowest, took)
			mu.Unlock()
		}(i)
	}
	defer func() {
		for _, tr := range transports {
			tr.CloseIdleConnections()
		}
	}()
	close(start)
	wg.Wait()
	t.Logf("%d keep-alive deliveries at once: %v; slowest answer %v", n, answers, slowest)
	assert.Equal(t, n, answers["200"]+answers["503"], "every delivery answered 200, or 503 with Retry-After")
	assert.Zero(t, answers["hung"], "no delivery left unanswered")
	assert.Greater(t, answers["200"], 0)
}
