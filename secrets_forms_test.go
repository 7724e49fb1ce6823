package autocall

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	"github.com/autocallvn/autocall-go/internal/secretforms"
)

// secretForm is one way a server may echo a secret: the corpus in
// internal/secretforms, which other modules' tests share.
type secretForm struct {
	name string
	enc  func(string) string
}

var secretForms = func() []secretForm {
	var list []secretForm
	for _, f := range secretforms.All {
		list = append(list, secretForm{f.Name, f.Enc})
	}
	return list
}()

// Secrets with the characters escapes touch ('+', '/', '=', '&') and
// Vietnamese diacritics, given decomposed (NFD) so that NFC differs.
var (
	formsSecretKey = "sk+/mật=khẩu&" + testSecretKey
	formsToken     = "tok/To1+" + testToken // a header value: ASCII
	formsCallback  = norm.NFD.String("cb=Khoá+bí/mật-") + testCallbackKey
)

// echoMode is where the server puts the echo.
type echoMode struct {
	name  string
	serve func(c net.Conn, echo string)
}

var echoModes = []echoMode{
	{"JSON error", func(c net.Conn, echo string) {
		rawAnswer(c, 400, "application/json", `{"messsage":"bad `+echo+`","code":400,"status":false,"data":{"error":"invalid `+echo+`"}}`)
	}},
	{"plain text 500", func(c net.Conn, echo string) { rawAnswer(c, 500, "text/plain", "denied "+echo) }},
	{"per-callee reason", func(c net.Conn, echo string) {
		rawAnswer(c, 200, "application/json", `{"data":{"campaign_id":7,"results":{"success":["1_1_1_7_x_0987654321"],"fail":[{"0912345678":"key `+
			strings.ReplaceAll(echo, `\`, `\\`)+`"},{"`+strings.ReplaceAll(echo, `\`, `\\`)+`":"Wrong Format"}]}}}`)
	}},
	{"malformed header line", func(c net.Conn, echo string) {
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"+echo+"\r\nContent-Length: 2\r\n\r\n{}")
	}},
	{"unparsable Location", func(c net.Conn, echo string) {
		rawAnswer(c, 307, "text/plain", "moved", "Location: http://%zz/"+echo)
	}},
	{"redirect host", func(c net.Conn, echo string) {
		rawAnswer(c, 307, "text/plain", "moved", "Location: http://"+echo+".example.com/x")
	}},
}

// TestSecretFormsEverywhere: every encoding of every kind of secret (the
// fixed credential, the token, the request's callback key) echoed in every
// kind of answer is absent from every place the SDK shows it: err.Error(),
// %+v, each error of the Unwrap chain, APIError.Body/Message/Code, the
// per-callee reasons and the log.
func TestSecretFormsEverywhere(t *testing.T) {
	for _, mode := range echoModes {
		for _, form := range secretForms {
			if strings.HasSuffix(form.name, "LF") && mode.name != "JSON error" && mode.name != "plain text 500" {
				continue // a raw line break ends a header, or the JSON
			}
			t.Run(mode.name+"/"+form.name, func(t *testing.T) {
				sk, tok, cb := formsSecretKey, formsToken, formsCallback
				sep := " "
				switch mode.name {
				case "redirect host": // secrets that can stand in a host name
					sk, tok, cb, sep = testSecretKey, testToken, testCallbackKey, "."
				case "malformed header line":
					sep = "-"
				}
				echo := form.enc(sk) + sep + form.enc(tok) + sep + form.enc(cb)
				s := newRawServer(t, func(s *rawServer, c net.Conn, br *bufio.Reader) {
					for {
						req, err := http.ReadRequest(br)
						if err != nil {
							return
						}
						_, _ = io.Copy(io.Discard, req.Body)
						if req.URL.Path == "/api/v1/users/generate_access_token" {
							rawAnswer(c, 200, "application/json", `{"data":{"access_token":"`+tok+`","expire_at":3600}}`)
							continue
						}
						mode.serve(c, echo)
						return
					}
				})
				var logs logBuffer
				c := newTestClient(t, s.URL(), WithSecretKey(sk), WithLogger(logs.logger()))
				res, err := c.OTP.Send(bg(), "7", &OTPRequest{Caller: "02873001234", Callees: []string{"0987654321", "0912345678"},
					TemplateName: "otp", Code: "1234", CallbackURL: "https://example.com/cb", CallbackAPIKey: cb})

				places := map[string]string{"log": logs.String()}
				if mode.name == "per-callee reason" {
					require.NoError(t, err)
					require.Len(t, res.Rejected, 2)
					for i, r := range res.Rejected {
						places[fmt.Sprintf("Rejected[%d]", i)] = r.Phone + " " + r.Reason + " " + r.Err.Error()
					}
				} else {
					require.Error(t, err)
					places["err.Error()"] = err.Error()
					places["%+v"] = fmt.Sprintf("%+v", err)
					for i, e := range errorChain(err) {
						places[fmt.Sprintf("chain[%d] %T", i, e)] = e.Error()
					}
					var apiErr *APIError
					if errors.As(err, &apiErr) {
						places["APIError.Body"] = string(apiErr.Body)
						places["APIError.Message"] = apiErr.Message
						places["APIError.Code"] = string(apiErr.Code)
					}
					assertTopSentinel(t, err)
				}
				for place, text := range places {
					assertNoSecretForm(t, place, text, echo)
				}
			})
		}
	}
}

// assertNoSecretForm fails if text holds a secret, raw or as it was echoed.
func assertNoSecretForm(t *testing.T, place, text, echo string) {
	t.Helper()
	for _, sec := range []string{formsSecretKey, formsToken, formsCallback, testSecretKey, testToken, testCallbackKey} {
		for _, v := range []string{sec, norm.NFC.String(sec)} {
			require.NotContains(t, text, v, "%s shows a secret", place)
		}
	}
	for _, part := range strings.Fields(strings.NewReplacer("-", " ", ".", " ").Replace(echo)) {
		if len(part) >= 12 {
			require.NotContains(t, text, part, "%s shows an echoed secret", place)
		}
	}
}

// errorChain is every error errors.Is would visit, as an error reporter
// walking Unwrap does.
func errorChain(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, errorChain(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, errorChain(e)...)
		}
	}
	return out
}

func TestRedactedChainKeepsIsAndAs(t *testing.T) {
	r := newRedactor(testSecretKey)
	opErr := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("reset")}
	dirty := fmt.Errorf("malformed MIME header line: %s: %w", url.QueryEscape(testSecretKey), opErr)
	wrapped := fmt.Errorf("outer %s: %w", hex.EncodeToString([]byte(testSecretKey)), errors.Join(dirty, io.ErrUnexpectedEOF))
	err := r.error(&TransportError{Method: "GET", Path: "/x", Attempts: 1, Err: wrapped})

	var te *TransportError
	require.ErrorAs(t, err, &te, "the SDK's own type is kept")
	var op *net.OpError
	require.ErrorAs(t, err, &op, "a clean cause is found by errors.As")
	assert.Same(t, opErr, op)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.ErrorIs(t, err, ErrNetwork)
	chain := errorChain(err)
	require.Greater(t, len(chain), 4)
	for i, e := range chain {
		assertNoSecrets(t, fmt.Sprintf("chain[%d]", i), e.Error())
		assert.NotContains(t, e.Error(), url.QueryEscape(testSecretKey))
	}
	assert.Contains(t, err.Error(), redacted)

	clean := &TransportError{Method: "GET", Path: "/x", Err: io.EOF}
	assert.Same(t, error(clean), r.error(clean), "a clean error is returned as it is")
}

func FuzzRedact(f *testing.F) {
	for _, form := range secretForms {
		f.Add("x " + form.enc(formsSecretKey) + " y")
	}
	f.Add(strings.Repeat(`\\`, 100) + "u0041")
	f.Add(strings.Repeat("%25", 100) + "41&amp;&amp;#x41;&#")
	r := newRedactor(formsSecretKey)
	f.Fuzz(func(t *testing.T, s string) {
		out := r.string(s + formsSecretKey)
		if strings.Contains(out, formsSecretKey) {
			t.Fatalf("%q kept the secret: %q", s, out)
		}
	})
}

// A hostile body (runs of escapes that almost decode) is scanned in time
// linear in its size: the suite's timeout catches anything worse.
func TestRedactHostileBody(t *testing.T) {
	r := newRedactor(formsSecretKey)
	for _, unit := range []string{`\`, "%25", "&amp;", "&#", `\u00`, "+"} {
		s := strings.Repeat(unit, (1<<20)/len(unit))
		assert.Equal(t, s, r.string(s))
	}
}
