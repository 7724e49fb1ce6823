package autocall

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A create answered with a server error in any form, or with something
// that is no answer (a redirect, 101), may have been carried out: it is
// unknown, never a refusal, and it is sent once.
func TestCreateAnsweredByServerErrorInAnyFormIsUnknown(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		extra  []string
		only   Provider // 0: both providers answer so
	}{
		{"tel4vn code 500 under 200", 200, `{"code":500,"status":false}`, nil, 0},
		{"tel4vn code 502 under 200", 200, `{"messsage":"Bad Gateway","code":502,"status":false,"data":{"error":"upstream"}}`, nil, 0},
		{"tel4vn code 503 as text", 200, `{"code":"503","status":false}`, nil, 0},
		{"tel4vn code 504 under 400", 400, `{"code":504,"status":false}`, nil, TEL4VN},
		{"omicall status_code 500", 200, `{"status_code":500,"message":"internal_error"}`, nil, 0},
		{"omicall status_code 503 as text", 200, `{"status_code":"503","payload":null}`, nil, 0},
		{"duplicated code, the last 5xx", 200, `{"data":{"results":{"success":["1_1_1_1_u_0912000003"]}},"code":200,"status":true,"code":500}`, nil, 0},
		{"302", 302, ``, []string{"Location: https://login.example/next"}, 0},
		{"303", 303, ``, []string{"Location: /elsewhere"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, func(s *rawServer, c net.Conn, br *bufio.Reader) {
				for s.readRequest(br) {
					rawAnswer(c, tc.status, "application/json", tc.body, tc.extra...)
				}
			})
			for _, p := range []Provider{TEL4VN, OMICall} {
				if tc.only != 0 && p != tc.only {
					continue
				}
				before := srv.requests.Load()
				c := newTestClient(t, srv.URL(), WithAccessToken(testToken), WithProvider(p))
				r := createReq()
				r.provider = p
				var out testResult
				err := c.do(bg(), r, &out)
				require.ErrorIs(t, err, ErrOutcomeUnknown, "%v: %v", p, err)
				assert.NotErrorIs(t, err, ErrRefused, "a server error is no refusal")
				assert.Equal(t, int64(1), srv.requests.Load()-before, "%v: the create is sent once", p)
			}
		})
	}
}

// 101 Switching Protocols answering a create is no answer: unknown, once.
func TestCreateAnswered101IsUnknown(t *testing.T) {
	srv := newRawServer(t, func(s *rawServer, c net.Conn, br *bufio.Reader) {
		if s.readRequest(br) {
			_, _ = c.Write([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n"))
		}
	})
	c := newTestClient(t, srv.URL(), WithAccessToken(testToken))
	_, err := doCreate(c)
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, int64(1), srv.requests.Load())
}

// A read answered 200 with a 5xx code is a server error, retried like one.
func TestReadAnsweredCode500IsServerError(t *testing.T) {
	f := newFakeAPI(t)
	f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		writeJSON(w, 200, `{"code":500,"status":false}`)
	})
	c := newTestClient(t, f.URL, WithAccessToken(testToken))
	_, err := doRead(c)
	require.ErrorIs(t, err, ErrServer)
	assert.NotErrorIs(t, err, ErrRefused)
	assert.NotErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, 3, f.count(readPath), "retried as a 5xx is")
}

// An import answered with no data is no silent success: the template may
// or may not exist, so it is unknown, after one request.
func TestImportTemplateWithoutDataIsUnknown(t *testing.T) {
	for _, body := range []string{`{"data":null}`, `{"status":true}`, `{"code":200}`, `{"data":{}}`, `{"data":{"name":"t"},"data":null}`} {
		f := newFakeAPI(t)
		f.handle("POST /api/v2/campaigns/1/voice/import", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			writeJSON(w, 200, body)
		})
		c := newTestClient(t, f.URL, WithAccessToken(testToken))
		err := c.TTS.ImportTemplate(bg(), "1", &Template{Name: "t", Content: "Chào {{tên}}"})
		require.ErrorIs(t, err, ErrOutcomeUnknown, body)
		assert.Equal(t, 1, f.count("/api/v2/campaigns/1/voice/import"), body)
	}
	// What the sandbox and the document answer is a success.
	for _, body := range []string{`{"data":{"campaign_id":"1","name":"t"}}`, string(readTestdata(t, "tel4vn/tts_import_response.json"))} {
		f := newFakeAPI(t)
		f.handle("POST /api/v2/campaigns/1/voice/import", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			writeJSON(w, 200, body)
		})
		c := newTestClient(t, f.URL, WithAccessToken(testToken))
		require.NoError(t, c.TTS.ImportTemplate(bg(), "1", &Template{Name: "t", Content: "Chào {{tên}}"}))
	}
}

// A create whose token could not be had never left: ErrNotSent, with the
// cause's sentinels, and no request reached the create endpoint.
func TestCreateWithoutTokenIsNotSent(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter){
		"secret refused": func(w http.ResponseWriter) {
			writeJSON(w, 401, `{"messsage":"Unauthorized","code":401,"status":false,"data":{"error":"auth_invalid"}}`)
		},
		"token endpoint 503": func(w http.ResponseWriter) { writeJSON(w, 503, `<html>busy</html>`) },
		"token garbled":      func(w http.ResponseWriter) { writeJSON(w, 200, `{"data":null}`) },
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			var creates atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/v1/users/generate_access_token" {
					answer(w)
					return
				}
				creates.Add(1)
				writeJSON(w, 200, okCreate)
			}))
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv.URL, WithSecretKey(testSecretKey))
			_, err := c.OTP.Send(bg(), "1", &OTPRequest{Caller: "02873001234", Callees: []string{"0912000003"}, TemplateName: "otp", Code: "1234"})
			require.ErrorIs(t, err, ErrNotSent)
			assert.NotErrorIs(t, err, ErrOutcomeUnknown)
			var te *TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, "/api/v2/campaigns/1/otp", te.Path)
			assert.Zero(t, creates.Load(), "nothing reached the create endpoint")
			assertNoSecrets(t, "the error", err.Error())
			if name == "secret refused" {
				assert.ErrorIs(t, err, ErrUnauthorized)
			}
		})
	}
	// A TokenSource's own error.
	f := newFakeAPI(t)
	c := newTestClient(t, f.URL, WithProvider(TEL4VN), WithTokenSource(TokenSourceFunc(func(context.Context) (Token, error) {
		return Token{}, errors.New("redis down")
	})))
	_, err := c.OTP.Send(bg(), "1", &OTPRequest{Caller: "02873001234", Callees: []string{"0912000003"}, TemplateName: "otp", Code: "1234"})
	require.ErrorIs(t, err, ErrNotSent)
	assert.Contains(t, err.Error(), "redis down")
	assert.Zero(t, f.count(otpPath))
}
