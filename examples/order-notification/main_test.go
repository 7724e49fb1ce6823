package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func setup(t *testing.T) (*autocalltest.Server, *httptest.Server, *syncBuffer) {
	srv := autocalltest.NewServer()
	t.Cleanup(srv.Close)
	c, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey))
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	var logs syncBuffer
	s := &service{client: c, campaignID: "1", caller: "02873001234", callbackKey: "cb-key",
		log: slog.New(slog.NewTextHandler(&logs, nil))}
	app := httptest.NewServer(s.routes())
	t.Cleanup(app.Close)
	s.callbackURL = app.URL + "/hooks/call"
	require.NoError(t, c.TTS.ImportTemplate(context.Background(), "1", &reminder))
	return srv, app, &logs
}

func postOrder(t *testing.T, app *httptest.Server, body string) (*http.Response, map[string]any) {
	resp, err := http.Post(app.URL+"/orders", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}

func TestOrderIsCalledAndItsOutcomeLogged(t *testing.T) {
	srv, app, logs := setup(t)
	resp, m := postOrder(t, app, `{"order_id":"A1","phone":"+84 91 234 0093","customer_name":"Nguyễn Văn A","amount":10410000,"due_date":"2021-01-30"}`)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Len(t, m["call_ids"], 1)

	calls := srv.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, "0912340093", calls[0].Phone)
	body := string(srv.Requests()[len(srv.Requests())-1].Body)
	assert.Contains(t, body, `"amount":"10.410.000"`)
	assert.Contains(t, body, `"due_date":"30/01/2021"`)
	assert.Contains(t, body, `"callback_url":"`+app.URL+`/hooks/call"`)

	srv.Advance(autocalltest.RingTime + autocalltest.TalkTime)
	srv.WaitForCallbacks()
	require.Len(t, srv.Callbacks(), 1)
	assert.Equal(t, 200, srv.Callbacks()[0].Status)
	out := logs.String()
	assert.Contains(t, out, `msg="call outcome"`)
	assert.Contains(t, out, "status=ANSWERED answered=true keypress=3 duration=15s")

	// The provider delivers the same event again: logged once.
	cb := srv.Callbacks()[0]
	req, _ := http.NewRequest("POST", cb.URL, bytes.NewReader(cb.Body))
	req.Header.Set("X-API-Key", "cb-key")
	again, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	again.Body.Close()
	assert.Equal(t, 200, again.StatusCode)
	assert.Equal(t, 1, strings.Count(logs.String(), `msg="call outcome"`))
}

func TestOrderFailures(t *testing.T) {
	srv, app, logs := setup(t)
	resp, _ := postOrder(t, app, `{"order_id":"A2","phone":"12345","customer_name":"B","amount":1,"due_date":"2021-01-30"}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "a bad phone: nothing sent")
	resp, _ = postOrder(t, app, `{"order_id":"A2"}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	srv.FailNext("/api/v2/campaigns/1/voice", 1, autocalltest.Fault{Process: true, Reset: true})
	resp, _ = postOrder(t, app, `{"order_id":"A3","phone":"0987654321","customer_name":"C","amount":1000,"due_date":"2021-01-30"}`)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Contains(t, logs.String(), "order call outcome unknown")
	assert.Len(t, srv.Calls(), 1, "placed once, not retried")

	req, _ := http.NewRequest("POST", app.URL+"/hooks/call", strings.NewReader(`{"id":"x","status":"BUSY"}`))
	req.Header.Set("X-API-Key", "wrong")
	hook, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	hook.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, hook.StatusCode)
	assert.NotContains(t, logs.String(), `msg="call outcome"`)
}
