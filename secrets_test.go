package autocall

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoSecrets answers every request with an error that quotes back whatever
// credential it was given, the way careless servers do.
func echoSecrets(w http.ResponseWriter, r *http.Request, body []byte) {
	echo := strings.ReplaceAll(string(body), `"`, `'`) + " auth=" + r.Header.Get("Authorization") + " query=" + r.URL.RawQuery
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte(echo))
}

func TestNoSecretInErrorsLogsOrBodies(t *testing.T) {
	var logs logBuffer
	var collected []string
	collect := func(err error) {
		require.Error(t, err)
		collected = append(collected, err.Error())
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			collected = append(collected, string(apiErr.Body), apiErr.Message, string(apiErr.Code), apiErr.Path)
		}
	}

	t.Run("token endpoints echo the credential", func(t *testing.T) {
		f := newFakeAPI(t)
		f.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			echoSecrets(w, r, f.record(r))
		})
		for _, opt := range []Option{WithSecretKey(testSecretKey), WithAPIKey(testAPIKey)} {
			c := newTestClient(t, f.URL, opt, WithLogger(logs.logger()))
			collect(c.do(bg(), readReq(), &testResult{}))
		}
	})
	t.Run("JSON error echoing the token and the secret", func(t *testing.T) {
		f := newFakeAPI(t)
		f.handle("GET "+readPath, func(w http.ResponseWriter, r *http.Request, _ []byte) {
			writeJSON(w, 400, `{"messsage":"bad token `+r.Header.Get("Authorization")+`","code":400,"status":false,"data":{"error":"`+testSecretKey+`","access_token":"someone-elses-token"}}`)
		})
		c := newTestClient(t, f.URL, WithSecretKey(testSecretKey), WithLogger(logs.logger()))
		err := c.do(bg(), readReq(), &testResult{})
		collect(err)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.NotContains(t, string(apiErr.Body), "someone-elses-token", "credential fields are hidden even when unknown")
		assert.Contains(t, string(apiErr.Body), redacted)
	})
	t.Run("garbled token answer holding the token", func(t *testing.T) {
		f := newFakeAPI(t)
		f.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, `{"data":{"id":"`+testSecretKey+`","access_token":"`+testToken+`","expire_at":`)
		})
		c := newTestClient(t, f.URL, WithSecretKey(testSecretKey), WithLogger(logs.logger()))
		collect(c.do(bg(), readReq(), &testResult{}))
	})
	t.Run("transport errors carry no query string", func(t *testing.T) {
		c := newTestClient(t, refusedURL(t), WithAPIKey(testAPIKey), WithLogger(logs.logger()))
		collect(c.do(bg(), readReq(), &testResult{}))
		s := newRawServer(t, func(s *rawServer, c net.Conn, br *bufio.Reader) {
			if s.readRequest(br) {
				<-s.done
			}
		})
		c = newTestClient(t, s.URL(), WithAPIKey(testAPIKey), WithTimeout(50*time.Millisecond), WithLogger(logs.logger()))
		collect(c.do(bg(), readReq(), &testResult{}))
	})
	t.Run("static token rejected with an echo", func(t *testing.T) {
		f := newFakeAPI(t)
		f.handle("POST "+createPath, echoSecrets)
		c := newTestClient(t, f.URL, WithAccessToken(testToken), WithLogger(logs.logger()))
		err := c.do(bg(), createReq(), &testResult{})
		require.ErrorIs(t, err, ErrOutcomeUnknown)
		collect(err)
	})

	require.NotEmpty(t, collected)
	all := strings.Join(collected, "\n")
	assertNoSecrets(t, "errors", all)
	require.Contains(t, logs.String(), "autocall request")
	assertNoSecrets(t, "logs", logs.String())
}

func TestLogLines(t *testing.T) {
	var logs logBuffer
	f := newFakeAPI(t)
	f.handle("GET "+readPath, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, okRead) })
	c := newTestClient(t, f.URL, WithAPIKey(testAPIKey), WithLogger(logs.logger()))
	_, err := doRead(c)
	require.NoError(t, err)
	out := logs.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out) // the token, then the read
	assert.Contains(t, lines[0], "method=GET path=/api/auth status=200 attempt=1 duration=")
	assert.Contains(t, lines[1], "method=GET path="+readPath+" status=200 attempt=1")
	assert.Contains(t, lines[1], "level=DEBUG")
	assertNoSecrets(t, "logs", out)
}

func TestRedactorForgetsOldTokensButNotKeys(t *testing.T) {
	r := newRedactor(testSecretKey)
	for i := 0; i < 20; i++ {
		r.addToken(tokenN(int64(i + 10)))
	}
	assert.Equal(t, redacted, r.string(testSecretKey))
	assert.Equal(t, redacted, r.string(tokenN(29)))
	assert.Len(t, r.secrets, 1+maxKnownTokens)
	assert.Equal(t, `{"apiKey":"`+redacted+`"}`, r.string(`{"apiKey":"abc"}`))
	assert.Equal(t, `GET /api/auth?apiKey=`+redacted+`&x=1`, r.string(`GET /api/auth?apiKey=abc&x=1`))
	assert.Equal(t, `{"callback_apikey":"`+redacted+`"}`, r.string(`{"callback_apikey":"k\"q"}`))
}

// A token answer with bytes past its Content-Length (which echo the
// secret) must not reach net/http's "Unsolicited response" log line, which
// goes to log.Default and so to slog.Default.
func TestTokenAnswerTailNeverLogged(t *testing.T) {
	for _, e := range []matrixEndpoint{matrixEndpoints[6], matrixEndpoints[7]} {
		t.Run(e.name, func(t *testing.T) {
			var logs logBuffer
			prevOut, prevFlags := log.Writer(), log.Flags()
			log.SetOutput(&logs)
			defer func() { log.SetOutput(prevOut); log.SetFlags(prevFlags) }()

			closed := make(chan struct{})
			s := newRawServer(t, func(s *rawServer, c net.Conn, br *bufio.Reader) {
				if !s.readRequest(br) {
					return
				}
				tail := `{"id":"` + testSecretKey + `","apiKey":"` + testAPIKey + `"}`
				_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s%s", len(e.ok), e.ok, tail)
				_, _ = io.Copy(io.Discard, c) // until the client closes
				close(closed)
			})
			cred := WithSecretKey(testSecretKey)
			if e.provider == omicall {
				cred = WithAPIKey(testAPIKey)
			}
			c := newTestClient(t, s.URL(), cred)
			require.NoError(t, c.Authenticate(bg()))
			select {
			case <-closed: // the client closed the connection: nothing more can be read or logged
			case <-time.After(10 * time.Second):
				t.Fatal("the token request's connection was kept open")
			}
			assertNoSecrets(t, "log.Default", logs.String())
			assert.NotContains(t, logs.String(), "Unsolicited")
		})
	}
}
