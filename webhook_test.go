package autocall

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const hookKey = "api_key_123"

// cdrEvent is TEL4VN's Autocall API Reference's CDR, as a callback body.
const cdrEvent = `{"campaign_id":"1","code_otp":"M43TUI","created_at":"2021-01-11 11:28:45","duration":15,"ended_at":"2021-01-11 11:29:09","id":"1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321","keypress":"127","param":"{\"customer_name\":\"Nguyễn Văn A\"}","phone_number":"0987654321","started_at":"2021-01-11 11:28:54","status":"ANSWERED","type":"TTS","user_id":"5","new_field":{"x":1}}`

// pbxEvent is a TEL4VN PBX event.
const pbxEvent = `{"call_id":"c-42","sip_call_id":"abc@pbx","domain":"shop.tel4vn.com","direction":"outbound","from_number":"02873001234","to_number":"0912345678","hotline":"02873001234","state":"hangup","duration":"20","billsec":12,"recording_url":"https://rec.example/c-42.mp3","press_key":"1","customer_id":"k9"}`

type hookRecorder struct {
	mu     sync.Mutex
	events []*CallEvent
	fail   error
	panic  bool
}

func (h *hookRecorder) fn(_ context.Context, ev *CallEvent) error {
	if h.panic {
		panic("boom")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, ev)
	return h.fail
}

func (h *hookRecorder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

func deliver(h http.Handler, method, target, body string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestWebhookKeyLocations(t *testing.T) {
	var rec hookRecorder
	h := WebhookHandler(hookKey, rec.fn)
	ok := []struct {
		target string
		header map[string]string
	}{
		{"/hook", map[string]string{"Authorization": hookKey}},
		{"/hook", map[string]string{"Authorization": "Bearer " + hookKey}},
		{"/hook", map[string]string{"Authorization": "bearer " + hookKey}},
		{"/hook", map[string]string{"X-API-Key": hookKey}},
		{"/hook", map[string]string{"apikey": hookKey}},
		{"/hook?apikey=" + hookKey, nil},
		{"/hook", map[string]string{"Authorization": "Bearer wrong", "X-API-Key": hookKey}},
	}
	for i, tc := range ok {
		w := deliver(h, "POST", tc.target, cdrEvent, tc.header)
		assert.Equal(t, 200, w.Code, "case %d", i)
	}
	assert.Equal(t, len(ok), rec.count())

	bad := []struct {
		target string
		header map[string]string
	}{
		{"/hook", nil},
		{"/hook", map[string]string{"Authorization": "wrong"}},
		{"/hook", map[string]string{"Authorization": "Bearer " + hookKey + "x"}},
		{"/hook", map[string]string{"X-API-Key": hookKey[:5]}},
		{"/hook?apikey=", nil},
		{"/hook", map[string]string{"Authorization": "Basic " + hookKey}},
	}
	for i, tc := range bad {
		w := deliver(h, "POST", tc.target, cdrEvent, tc.header)
		assert.Equal(t, 401, w.Code, "case %d", i)
		assert.Equal(t, "missing or wrong API key\n", w.Body.String())
	}
	assert.Equal(t, len(ok), rec.count(), "fn never called for a rejected request")

	empty := WebhookHandler("", rec.fn)
	assert.Equal(t, 401, deliver(empty, "POST", "/hook", cdrEvent, map[string]string{"Authorization": ""}).Code)
	assert.Equal(t, 401, deliver(empty, "POST", "/hook?apikey=", cdrEvent, nil).Code, "an empty key refuses everything")
}

func TestWebhookRejections(t *testing.T) {
	var rec hookRecorder
	h := WebhookHandler(hookKey, rec.fn)
	auth := map[string]string{"X-API-Key": hookKey}
	for _, m := range []string{"GET", "PUT", "DELETE", "HEAD"} {
		w := deliver(h, m, "/hook", cdrEvent, auth)
		assert.Equal(t, 405, w.Code, m)
		assert.Equal(t, "POST", w.Header().Get("Allow"))
	}
	big := `{"x":"` + strings.Repeat("a", MaxWebhookBody) + `"}`
	w := deliver(h, "POST", "/hook", big, auth)
	assert.Equal(t, 413, w.Code)
	justUnder := `{"x":"` + strings.Repeat("a", MaxWebhookBody-9) + `"}`
	require.Equal(t, MaxWebhookBody-1, len(justUnder))
	assert.Equal(t, 200, deliver(h, "POST", "/hook", justUnder, auth).Code)

	for _, body := range []string{"", "Unauthorized", "<html></html>", `[1,2]`, `{"id":"x"`, `"text"`, `null`} {
		w := deliver(h, "POST", "/hook", body, auth)
		assert.Equal(t, 400, w.Code, body)
		assert.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
	}
	assert.Equal(t, 1, rec.count())
}

func TestWebhookFuncFailures(t *testing.T) {
	var logged []error
	var mu sync.Mutex
	logTo := WithWebhookErrorLog(func(_ *http.Request, err error) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, err)
	})
	auth := map[string]string{"X-API-Key": hookKey}

	failing := &hookRecorder{fail: errors.New("database down")}
	w := deliver(WebhookHandler(hookKey, failing.fn, logTo), "POST", "/hook", cdrEvent, auth)
	assert.Equal(t, 500, w.Code, "the provider retries")

	panicking := &hookRecorder{panic: true}
	w = deliver(WebhookHandler(hookKey, panicking.fn, logTo), "POST", "/hook", cdrEvent, auth)
	assert.Equal(t, 500, w.Code)
	require.Len(t, logged, 2)
	assert.EqualError(t, logged[0], "database down")
	var pe *PanicError
	require.ErrorAs(t, logged[1], &pe, "the panic is not lost")
	assert.Equal(t, "boom", pe.Value)
	assert.Contains(t, string(pe.Stack), "webhook_test.go")
}

func TestCallEventShapes(t *testing.T) {
	ev, err := ParseCallEvent([]byte(cdrEvent), nil)
	require.NoError(t, err)
	at := func(h, m, s int) time.Time { return time.Date(2021, 1, 11, h, m, s, 0, vietnam) }
	assert.Equal(t, CallID("1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321"), ev.CallID)
	assert.Equal(t, "1", ev.CampaignID)
	assert.Equal(t, "0987654321", ev.Phone)
	assert.Equal(t, StatusAnswered, ev.Status)
	assert.Equal(t, "127", ev.Keypress)
	assert.Equal(t, 15*time.Second, ev.Duration)
	assert.True(t, at(11, 28, 54).Equal(ev.StartedAt))
	assert.True(t, at(11, 29, 9).Equal(ev.EndedAt))
	assert.Equal(t, map[string]string{"customer_name": "Nguyễn Văn A"}, ev.Params)
	assert.Equal(t, CallTypeTTS, ev.Type)
	assert.Equal(t, "M43TUI", ev.CodeOTP)
	assert.Contains(t, string(ev.Raw), `"new_field":{"x":1}`, "unknown fields are kept")
	assert.True(t, ev.Final())

	ev, err = ParseCallEvent([]byte(pbxEvent), nil)
	require.NoError(t, err)
	assert.Equal(t, CallID("c-42"), ev.CallID)
	assert.Equal(t, "0912345678", ev.Phone, "outbound: the callee is to_number")
	assert.Equal(t, "outbound", ev.Direction)
	assert.Equal(t, "hangup", ev.State)
	assert.Equal(t, 12*time.Second, ev.Duration, "billsec: the talk time")
	assert.Equal(t, "1", ev.Keypress)
	assert.Equal(t, "https://rec.example/c-42.mp3", ev.RecordingURL)
	assert.Equal(t, CallStatus(""), ev.Status)
	assert.True(t, ev.Final())
	assert.Contains(t, string(ev.Raw), `"customer_id":"k9"`)

	in, err := ParseCallEvent([]byte(`{"call_id":"c-1","direction":"inbound","from_number":"0987654321","to_number":"02873001234","state":"ringing","started_at":1610339334}`), nil)
	require.NoError(t, err)
	assert.Equal(t, "0987654321", in.Phone, "inbound: the caller is from_number")
	assert.False(t, in.Final())
	assert.Equal(t, int64(1610339334), in.StartedAt.Unix())

	odd, err := ParseCallEvent([]byte(`{"id":5,"duration":"abc","status":{"x":1},"started_at":"later","param":7}`), nil)
	require.NoError(t, err, "odd types are left zero, not refused")
	assert.Equal(t, CallID("5"), odd.CallID)
	assert.Zero(t, odd.Duration)
	assert.True(t, odd.StartedAt.IsZero())
}

func TestCallEventKey(t *testing.T) {
	a, _ := ParseCallEvent([]byte(cdrEvent), nil)
	b, _ := ParseCallEvent([]byte(cdrEvent), nil)
	assert.Equal(t, a.Key(), b.Key(), "a redelivery has the same key")
	ringing, _ := ParseCallEvent([]byte(`{"call_id":"c-42","state":"ringing"}`), nil)
	hangup, _ := ParseCallEvent([]byte(pbxEvent), nil)
	assert.NotEqual(t, ringing.Key(), hangup.Key(), "another state of the same call is another event")
	x1, _ := ParseCallEvent([]byte(`{"foo": 1, "bar": 2}`), nil)
	x2, _ := ParseCallEvent([]byte(`{"foo":1,"bar":2}`), nil)
	x3, _ := ParseCallEvent([]byte(`{"foo":1,"bar":3}`), nil)
	assert.Equal(t, x1.Key(), x2.Key())
	assert.NotEqual(t, x1.Key(), x3.Key())
	assert.True(t, strings.HasPrefix(x1.Key(), "sha256:"))
}

func TestWebhookConcurrentDeliveries(t *testing.T) {
	var seen sync.Map
	var dups, calls atomic.Int64
	h := WebhookHandler(hookKey, func(_ context.Context, ev *CallEvent) error {
		calls.Add(1)
		if _, loaded := seen.LoadOrStore(ev.Key(), true); loaded {
			dups.Add(1)
		}
		return nil
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"call_id":"c-%d","state":"hangup"}`, i%50) // every event twice
			req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+hookKey)
			resp, err := http.DefaultClient.Do(req)
			if assert.NoError(t, err) {
				assert.Equal(t, 200, resp.StatusCode)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	http.DefaultClient.CloseIdleConnections()
	assert.Equal(t, int64(100), calls.Load())
	assert.Equal(t, int64(50), dups.Load(), "Key recognises every redelivery")
}

func FuzzParseCallEvent(f *testing.F) {
	for _, s := range []string{cdrEvent, pbxEvent, `{}`, `{"id":null}`, `[]`, ``, `{"param":"{\"a\":1}"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseCallEvent(body, nil)
		if err != nil {
			return
		}
		if string(ev.Raw) != string(body) {
			t.Fatal("Raw is not the body")
		}
		if ev.Key() == "" {
			t.Fatal("empty key")
		}
		if ev.Duration < 0 {
			t.Fatal("negative duration")
		}
	})
}

// Beyond WithWebhookConcurrency's bound a delivery is answered 503 with
// Retry-After at once, its body unread; a slot freed takes the next.
func TestWebhookConcurrencyBound(t *testing.T) {
	const bound = 3
	entered := make(chan struct{}, bound)
	release := make(chan struct{})
	h := WebhookHandler(hookKey, func(context.Context, *CallEvent) error {
		entered <- struct{}{}
		<-release
		return nil
	}, WithWebhookConcurrency(bound))
	auth := map[string]string{"X-API-Key": hookKey}

	var wg sync.WaitGroup
	codes := make(chan int, bound)
	for i := 0; i < bound; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- deliver(h, http.MethodPost, "/", cdrEvent, auth).Code
		}()
	}
	for i := 0; i < bound; i++ {
		<-entered // every slot is held
	}
	var read atomic.Bool
	busy := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", readerFunc(func(p []byte) (int, error) { read.Store(true); return 0, errors.New("read") }))
	r.Header.Set("X-API-Key", hookKey)
	h.ServeHTTP(busy, r)
	assert.Equal(t, http.StatusServiceUnavailable, busy.Code)
	assert.Equal(t, "1", busy.Header().Get("Retry-After"))
	assert.False(t, read.Load(), "a delivery beyond the bound is not read")
	assert.Equal(t, http.StatusUnauthorized, deliver(h, http.MethodPost, "/", cdrEvent, nil).Code, "the key is checked first")

	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		assert.Equal(t, http.StatusOK, c)
	}
	go func() { <-entered }()
	assert.Equal(t, http.StatusOK, deliver(h, http.MethodPost, "/", cdrEvent, auth).Code, "the slots are free again")
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
