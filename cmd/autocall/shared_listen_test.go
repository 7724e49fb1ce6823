package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// listen --journal with the journal down answers 500, so that the
// provider delivers the event again; once it is back the event settles
// the job, and the same event again changes nothing.
func TestListenWithTheJournalDown(t *testing.T) {
	port, dir := freePort(t), t.TempDir()
	redis := startRedis(t, port, dir)
	spec := fmt.Sprintf("redis://127.0.0.1:%d/0?journal=listen&dial_timeout=500ms&max_retries=0", port)
	callID, url, errs := listenToAnUnknownCall(t, spec, "0912300461")
	lines := make(chan string, 100)
	go func() {
		for {
			l, err := errs.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			lines <- l
		}
	}()
	post := func() int { return postEvent(t, url, callID, "0912300461") }

	require.NoError(t, redis.Process.Kill())
	_ = redis.Wait()
	assert.Equal(t, 500, post(), "the settle was dropped: the provider must deliver the event again")
	startRedis(t, port, dir)
	assert.Equal(t, 200, post())
	assert.Equal(t, 200, post(), "a replay")
	time.Sleep(200 * time.Millisecond)
	var settled int
	for done := false; !done; {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, "settled u-1") {
				settled++
			}
		default:
			done = true
		}
	}
	assert.Equal(t, 1, settled, "settled once")
	r := run(t, nil, "--json", "journal", "show", spec)
	assert.Contains(t, r.stdout, `"placed":1`)
}

// listenToAnUnknownCall sends an OTP row journaled in spec whose call is
// placed but its answer lost (unknown, exit 5), then starts listen on that
// journal (interrupted when the test ends). It returns the call's id, the
// URL listen takes events at, and listen's stderr after that first line.
func listenToAnUnknownCall(t *testing.T, spec, phone string) (callID, url string, errs *bufio.Reader) {
	t.Helper()
	srv := sandbox(t)
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Process: true, Reset: true})
	csv := writeFile(t, "pending.csv", "key,phone,code\nu-1,"+phone+",1\n")
	r := run(t, tel4vnEnv(srv), otpCSV(csv, "--journal", spec)...)
	require.Equal(t, 5, r.code, r.stdout+r.stderr)
	calls := srv.Calls()
	require.Len(t, calls, 1)

	cmd := exec.Command(binary, "listen", "--addr", "127.0.0.1:0", "--key", "hook-key", "--journal", spec)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	errs = bufio.NewReader(stderr)
	line, err := errs.ReadString('\n')
	require.NoError(t, err)
	return calls[0].ID, strings.TrimSpace(strings.TrimPrefix(line, "listening for events at ")), errs
}

// postEvent posts the provider's ANSWERED event for callID to listen at
// url and returns listen's status code.
func postEvent(t *testing.T, url, callID, phone string) int {
	t.Helper()
	event := fmt.Sprintf(`{"call_id":%q,"campaign_id":"1","phone_number":%q,"status":"ANSWERED","start_time":%q}`,
		callID, phone, time.Now().In(time.FixedZone("ICT", 7*3600)).Format("2006-01-02 15:04:05"))
	req, _ := http.NewRequest("POST", url, strings.NewReader(event))
	req.Header.Set("X-API-Key", "hook-key")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}
