package autocalltest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
)

// A test in any language reads the sandbox clock and moves it to a time,
// as a Go test does with Now and Advance: the hours of an advertising
// campaign are tested without waiting for them.
func TestControlAPIClock(t *testing.T) {
	start := time.Date(2026, 12, 1, 16, 59, 0, 0, time.FixedZone("ICT", 7*3600))
	srv := newSandbox(t, autocalltest.WithControlAPI(), autocalltest.WithStartTime(start))
	ctl := srv.URL + autocalltest.ControlPrefix

	status, body := raw(t, "GET", ctl+"now", "", "")
	require.Equal(t, 200, status)
	assert.Equal(t, "2026-12-01T16:59:00+07:00", body["now"])

	status, body = raw(t, "POST", ctl+"advance", "", `{"to": "2026-12-01T17:00:30+07:00"}`)
	require.Equal(t, 200, status, "%v", body)
	assert.True(t, srv.Now().Equal(start.Add(90*time.Second)), "%v", srv.Now())

	status, body = raw(t, "POST", ctl+"advance", "", `{"to": "2026-12-01T16:00:00+07:00"}`)
	assert.Equal(t, 400, status, "the clock never goes back")
	assert.Contains(t, body["error"], "never goes back")
	status, _ = raw(t, "POST", ctl+"advance", "", `{"to": "2026-12-02T08:00:00+07:00", "seconds": 5}`)
	assert.Equal(t, 400, status, "one or the other")
	assert.True(t, srv.Now().Equal(start.Add(90*time.Second)), "a refused move moves nothing")

	status, _ = raw(t, "POST", ctl+"advance", "", `{"seconds": 30}`)
	require.Equal(t, 200, status)
	_, body = raw(t, "GET", ctl+"now", "", "")
	assert.Equal(t, "2026-12-01T17:01:00+07:00", body["now"])
}
