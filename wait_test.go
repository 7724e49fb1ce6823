package autocall

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/autocalltest"
)

var fastPoll = WithPollInterval(2*time.Millisecond, 10*time.Millisecond)

func TestWaitAgainstTheSandboxClock(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	c := newTestClient(t, srv.URL, WithSecretKey(autocalltest.SecretKey))
	res, err := c.OTP.Send(bg(), "1", &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321", "0912340002"}, TemplateName: "otp", Code: "1"})
	require.NoError(t, err)

	// The sandbox clock moves only when told: the call rings until then.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for srv.Count("/api/v2/report/"+string(res.Accepted[0])) < 3 {
			time.Sleep(time.Millisecond)
		}
		srv.Advance(autocalltest.RingTime + autocalltest.TalkTime)
	}()
	cdr, err := c.CDR.Wait(bg(), res.Accepted[0], fastPoll)
	<-done
	require.NoError(t, err)
	assert.Equal(t, StatusAnswered, cdr.Status)
	assert.GreaterOrEqual(t, srv.Count("/api/v2/report/"+string(res.Accepted[0])), 3, "pending answers were polled past")

	cdr, err = c.CDR.Wait(bg(), res.Accepted[1], fastPoll)
	require.NoError(t, err)
	assert.Equal(t, StatusNoAnswer, cdr.Status)
}

func TestWaitTreatsNotFoundAsPending(t *testing.T) {
	f := newFakeAPI(t)
	var n atomic.Int64
	f.handle("GET /api/v2/report/c1", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		switch n.Add(1) {
		case 1, 2:
			writeJSON(w, 404, `{"messsage":"Not Found","code":404,"status":false,"data":{"error":"resource_not_found"}}`)
		case 3:
			writeJSON(w, 200, `{"data":{"id":"c1","status":""}}`)
		default:
			writeJSON(w, 200, `{"data":{"id":"c1","status":"BUSY"}}`)
		}
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	cdr, err := c.CDR.Wait(bg(), "c1", fastPoll)
	require.NoError(t, err)
	assert.Equal(t, StatusBusy, cdr.Status)
	assert.Equal(t, int64(4), n.Load())
}

// ringingForever serves a call c1 that never ends.
func ringingForever(t *testing.T) (*fakeAPI, *Client) {
	f := newFakeAPI(t)
	f.handle("GET /api/v2/report/c1", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 200, `{"data":{"id":"c1","status":""}}`)
	})
	return f, newTestClient(t, f.URL, WithAccessToken(testToken))
}

func TestWaitEndsWithItsContext(t *testing.T) {
	f, c := ringingForever(t)
	ctx, cancel := context.WithTimeout(bg(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	cdr, err := c.CDR.Wait(ctx, "c1", WithPollInterval(time.Hour, time.Hour))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(begin), 5*time.Second, "an hour's poll interval does not hold it")
	require.NotNil(t, cdr, "the last CDR seen is returned")
	assert.Equal(t, CallID("c1"), cdr.ID)
	assert.Equal(t, 1, f.count("/api/v2/report/c1"))
}

func TestWaitReturnsOtherErrorsAndValidates(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("GET /api/v2/report/c1", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 403, `{"messsage":"Forbidden","code":403,"status":false,"data":{"error":"permission_denied"}}`)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	_, err := c.CDR.Wait(bg(), "c1", fastPoll)
	require.ErrorIs(t, err, ErrUnauthorized)

	for _, opt := range []WaitOption{WithPollInterval(0, time.Second), WithPollInterval(time.Second, time.Millisecond)} {
		_, err = c.CDR.Wait(bg(), "c1", opt)
		require.ErrorIs(t, err, ErrValidation)
	}
	_, err = c.CDR.Wait(bg(), "", fastPoll)
	require.ErrorIs(t, err, ErrValidation)
	assert.Equal(t, 1, f.count("/api/v2/report/c1"))
}

func TestWaitBackoffGrows(t *testing.T) {
	f := newFakeAPI(t)
	var mu sync.Mutex
	var times []time.Time
	f.handle("GET /api/v2/report/c1", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		if n < 5 {
			writeJSON(w, 200, `{"data":{"id":"c1","status":""}}`)
			return
		}
		writeJSON(w, 200, `{"data":{"id":"c1","status":"ANSWERED"}}`)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	_, err := c.CDR.Wait(bg(), "c1", WithPollInterval(20*time.Millisecond, 80*time.Millisecond))
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, times, 5)
	// 20, 40, 80, 80 ms: each gap at least its planned wait.
	for i, want := range []time.Duration{20, 40, 80, 80} {
		assert.GreaterOrEqual(t, times[i+1].Sub(times[i]), want*time.Millisecond, "gap %d", i)
	}
}

func TestWaitStartsAtOneSecondByDefault(t *testing.T) {
	assert.Equal(t, time.Second, DefaultPollMin)
	assert.Equal(t, 15*time.Second, DefaultPollMax)
	f, c := ringingForever(t)
	ctx, cancel := context.WithTimeout(bg(), 1500*time.Millisecond)
	defer cancel()
	_, err := c.CDR.Wait(ctx, "c1")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 2, f.count("/api/v2/report/c1"), "looked up at once, then after 1s, and the next is 2s later")
}

// A call id the provider never knows: Wait returns the not-found error
// after the grace period, even with a context that never ends.
func TestWaitGivesUpOnAnUnknownID(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("GET /api/v2/report/nobody", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 404, `{"messsage":"Not Found","code":404,"status":false,"data":{"error":"resource_not_found"}}`)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	begin := time.Now()
	_, err := c.CDR.Wait(context.Background(), "nobody", fastPoll, WithNotFoundGrace(50*time.Millisecond))
	require.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), "still unknown to the provider after 50ms")
	assert.Less(t, time.Since(begin), 2*time.Second)
	assert.GreaterOrEqual(t, f.count("/api/v2/report/nobody"), 2, "not-found is pending during the grace period")

	_, err = c.CDR.Wait(bg(), "nobody", WithNotFoundGrace(-time.Second))
	require.ErrorIs(t, err, ErrValidation)
}

// When ctx ends, the error says why the look-ups were not enough.
func TestWaitKeepsTheLastErrorWhenContextEnds(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("GET /api/v2/report/c9", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 503, `{"messsage":"down","code":503,"status":false,"data":{"error":"maintenance"}}`)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	ctx, cancel := context.WithTimeout(bg(), 100*time.Millisecond)
	defer cancel()
	_, err := c.CDR.Wait(ctx, "c9", fastPoll)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, ErrServer, "the last look-up's error is kept")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.HTTPStatus)
}
