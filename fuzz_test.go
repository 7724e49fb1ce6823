package autocall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/autocallvn/autocall-go/internal/envelope"
)

// Fuzz targets for every parser of provider data that lives in this
// package: each endpoint's answer (through the whole pipeline), the token
// answers, template placeholders and spoken readings. scripts/fuzz runs
// them, and those of internal/envelope, internal/vnnum, events and phones,
// for a given time each.

// fuzzClient answers every request with status and body, counting them.
func fuzzClient(t *testing.T, p Provider, status int, body []byte, calls *atomic.Int64) *Client {
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
	})
	c, err := NewClient("http://provider.invalid", WithAccessToken(testToken), WithProvider(p),
		WithHTTPClient(&http.Client{Transport: rt}), WithRetryPolicy(RetryPolicy{MaxAttempts: 2, BaseDelay: time.Microsecond, MaxDelay: time.Microsecond}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func FuzzAnswers(f *testing.F) {
	for _, e := range matrixEndpoints[:6] {
		f.Add(uint8(0), 200, []byte(e.ok))
	}
	for i, s := range []string{`{}`, `{"data":null}`, `{"status_code":9999,"payload":null}`, `<html>`, `{"data":{"results":{"success":[1],"fail":[{"a":1}]}}}`,
		`{"data":{"id":1,"status":"NOANWSER","duration":"abc","param":"{\"a\":{\"b\":1}}","created_at":"0000-00-00 00:00:00"}}`,
		`{"status_code":"9999","payload":{"autocall_id":123}}`, `{"messsage":"x","code":401,"status":false,"data":{"error":"` + testToken + `"}}`} {
		f.Add(uint8(i), 200, []byte(s))
	}
	f.Add(uint8(2), 500, []byte(`{"status_code":429,"message":"rate_limit_exceeded"}`))
	f.Add(uint8(5), 429, []byte(``))
	f.Fuzz(func(t *testing.T, which uint8, status int, body []byte) {
		if status < 100 || status > 599 {
			status = 200
		}
		e := matrixEndpoints[int(which)%6]
		var calls atomic.Int64
		c := fuzzClient(t, e.provider, status, body, &calls)
		err := e.call(context.Background(), c)
		if err == nil {
			if status < 200 || status > 299 {
				t.Fatalf("%s: success on HTTP %d", e.name, status)
			}
			return
		}
		assertTopSentinelF(t, err)
		if e.creates && calls.Load() > 1 && status != 429 && !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("%s: create sent %d times on HTTP %d: %v", e.name, calls.Load(), status, err)
		}
		if strings.Contains(err.Error(), testToken) || strings.Contains(apiBody(err), testToken) {
			t.Fatalf("%s: the token leaks: %v", e.name, err)
		}
	})
}

func FuzzTokenAnswer(f *testing.F) {
	f.Add(true, []byte(matrixEndpoints[6].ok))
	f.Add(false, []byte(matrixEndpoints[7].ok))
	for _, s := range []string{`{"data":{"access_token":"a","expire_at":"3600s"}}`, `{"data":{"access_token":"a","expire_at":"2026-01-01T00:00:00Z"}}`,
		`{"data":{"access_token":"a\r\nb"}}`, `{"status_code":9999,"payload":{"access_token":""}}`, `{"data":{"access_token":"a","expire_at":1e300}}`} {
		f.Add(true, []byte(s))
		f.Add(false, []byte(s))
	}
	f.Fuzz(func(t *testing.T, secret bool, body []byte) {
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
		})
		cred := WithAPIKey(testAPIKey)
		if secret {
			cred = WithSecretKey(testSecretKey)
		}
		c, err := NewClient("http://provider.invalid", cred, WithHTTPClient(&http.Client{Transport: rt}),
			WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Authenticate(context.Background()); err != nil {
			assertTopSentinelF(t, err)
			return
		}
		c.tokens.mu.Lock()
		tok := c.tokens.tok
		c.tokens.mu.Unlock()
		if checkToken(tok.Value) != nil {
			t.Fatalf("cached a token that cannot travel in a header: %q", tok.Value)
		}
		if tok.Expiry.IsZero() {
			t.Fatal("a fetched token has no expiry")
		}
	})
}

func FuzzTemplate(f *testing.F) {
	f.Add("Chào bạn {{customer_name}} vui lòng thanh toán khoản nợ {{due_amount}} trước ngày {{due_date}}", "10.410.000")
	f.Add("{{a}}{{ a }}{{b}}{{", "30/02/2021")
	f.Add("Nguye\u0302\u0303n {{x}}", "#-15")
	f.Fuzz(func(t *testing.T, content, value string) {
		tmpl := Template{Name: "t", Content: content}
		keys := tmpl.Placeholders()
		params := make(map[string]string, len(keys))
		for _, k := range keys {
			params[k] = value
		}
		text, err := tmpl.Render(params)
		if len(keys) > 0 && strings.TrimSpace(nfc(value)) == "" {
			if !errors.Is(err, ErrValidation) {
				t.Fatalf("Render with a blank value: %v", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Render with every placeholder filled: %v", err)
		}
		if _, err := tmpl.Preview(params); err != nil {
			t.Fatalf("Preview: %v", err)
		}
		if len(keys) == 0 && text != nfc(content) {
			t.Fatalf("a template without placeholders changed: %q", text)
		}
	})
}

func FuzzSpeak(f *testing.F) {
	for _, s := range []string{"10.410.000", "#15", "0987654321", "30/01/2021", "31/02/2021", "Nguyễn Văn A", "#-9223372036854775808", "999.999.999.999.999.999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		out := Speak(v)
		if out == "" && strings.TrimSpace(v) != "" {
			t.Fatalf("%q is read as nothing", v)
		}
	})
}

func assertTopSentinelF(t *testing.T, err error) {
	t.Helper()
	for _, s := range topSentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("%v matches no sentinel", err)
}

// FuzzFastPath: the one-pass decode of a plain success and the exact,
// lenient path agree. Whatever the fast path accepts, the exact path
// accepts too, with the same typed result; what it declines, it leaves zero.
// Each body is tried again with one envelope member given a second time
// (the last one wins on both paths).
func FuzzFastPath(f *testing.F) {
	for _, s := range []string{benchCDR, benchOTP, benchAutoCall, matrixEndpoints[6].ok, matrixEndpoints[7].ok,
		`{"data":{"id":"x","status":"BUSY"},"status":true,"code":200}`, `{"data":{"id":"x","Status":"BUSY"},"status":"ok"}`,
		`{"status_code":"9999","payload":{"autocall_id":1}}`, `{"status_code":9999,"payload":null}`, `{"data":{"id":"x"},"status":false}`,
		`{"data":{"id":"x"},"code":404}`, `{"data":{"id":"x"},"status":null}`, `{"data":[1]}`, `null`, `[]`, `{"data":{"id":"x"}}{}`,
		`{"data":{"id":"x"},"data":null}`, `{"data":{"id":"x"},"DATA":{"status":"BUSY"}}`, `{"data":{"id":"x"},"code":200,"code":500}`} {
		for w := uint8(0); w < 5; w++ {
			f.Add(w, []byte(s), w, []byte(`null`))
		}
	}
	f.Add(uint8(1), []byte(benchOTP), uint8(0), []byte(`{"results":{"success":["1_1_1_1_u_0912000003"]}}`))
	f.Add(uint8(0), []byte(benchAutoCall), uint8(4), []byte(`500`))
	f.Add(uint8(4), []byte(benchCDR), uint8(2), []byte(`"503"`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte, member uint8, value []byte) {
		newOut := []func() any{
			func() any { return new(autoCallPayload) }, func() any { return new(campaignData) },
			func() any { return new(tel4vnToken) }, func() any { return new(omicallToken) }, func() any { return new(cdrWire) },
		}[which%5]
		for _, b := range [][]byte{body, withMemberAgain(body, member, value)} {
			for _, p := range []provider{omicall, tel4vn} {
				fast, exact := newOut(), newOut()
				okFast := utf8.Valid(b) && fastSuccess(p, b, fast)
				okExact := exactSuccess(p, b, exact)
				if okFast && !okExact {
					t.Fatalf("%v: the fast path accepts what the exact path refuses: %q", p, b)
				}
				if okFast && !reflect.DeepEqual(fast, exact) {
					t.Fatalf("%v: the paths disagree on %q:\nfast  %#v\nexact %#v", p, b, fast, exact)
				}
				if !okFast && !reflect.ValueOf(fast).Elem().IsZero() {
					t.Fatalf("%v: a declined fast path left %#v", p, fast)
				}
			}
		}
	})
}

// withMemberAgain appends to a JSON object one of the envelopes' members,
// which it may already have, with value; body as it is if not an object.
func withMemberAgain(body []byte, member uint8, value []byte) []byte {
	names := []string{"data", "payload", "code", "status", "status_code", "error", "Data", "CODE"}
	b := bytes.TrimSpace(body)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return body
	}
	sep := ","
	if len(bytes.TrimSpace(b[1:len(b)-1])) == 0 {
		sep = ""
	}
	out := append([]byte(nil), b[:len(b)-1]...)
	out = append(out, sep+`"`+names[int(member)%len(names)]+`":`...)
	out = append(out, value...)
	return append(out, '}')
}

// Duplicate envelope members: the last wins on both paths, and the fast
// path never merges two data members into one result.
func TestDuplicateMembersLastWinsOnBothPaths(t *testing.T) {
	for _, body := range []string{
		`{"data":{"results":{"success":["1_1_1_1_u_0912000003"]}},"data":null}`,
		`{"data":{"campaign_id":"1","results":{"success":["1_1_1_1_u_0912000003"]}},"data":{"results":{"fail":[{"0912000013":"Wrong Format"}]}}}`,
		`{"data":{"results":{"success":["1_1_1_1_u_0912000003"]}},"code":200,"code":500}`,
		`{"data":{"results":{"success":["1_1_1_1_u_0912000003"]}},"status":true,"status":false}`,
	} {
		fast, exact := new(campaignData), new(campaignData)
		okFast := fastSuccess(tel4vn, []byte(body), fast)
		okExact := exactSuccess(tel4vn, []byte(body), exact)
		assert.False(t, okFast, "%s: a member given twice is left to the exact path", body)
		if okExact {
			assert.Nil(t, exact.Results.Success, "%s: the last data member wins", body)
		}
	}
	// The last data member null: no success on either path.
	assert.False(t, exactSuccess(tel4vn, []byte(`{"data":{"results":{"success":["a_0912000003"]}},"data":null}`), new(campaignData)))
}

// exactSuccess is the exact path's verdict on a 200.
func exactSuccess(p provider, raw []byte, out any) bool {
	if !utf8.Valid(raw) {
		return false
	}
	env := envelope.TEL4VN(raw)
	if p == omicall {
		env = envelope.OMICall(raw)
	}
	return env.Decoded && env.OK && decodeData(env.Data, out) == nil
}

// Keys in another case: encoding/json matches them, and so does the
// report reader (the map it replaced did not); of two spellings, the later
// in the body wins.
func TestCDRKeysInAnotherCase(t *testing.T) {
	var w cdrWire
	require.NoError(t, json.Unmarshal([]byte(`{"ID":"a","Status":"busy","DURATION":"15"}`), &w))
	c := w.cdr(vietnam)
	assert.Equal(t, CallID("a"), c.ID)
	assert.Equal(t, StatusBusy, c.Status)
	assert.Equal(t, 15*time.Second, c.Duration)
	w = cdrWire{}
	require.NoError(t, json.Unmarshal([]byte(`{"id":"a","status":"ANSWERED","STATUS":"busy"}`), &w))
	assert.Equal(t, StatusBusy, w.cdr(vietnam).Status)
	// Odd types read as nothing, never fail the report.
	w = cdrWire{}
	require.NoError(t, json.Unmarshal([]byte(`{"id":7,"status":true,"duration":"abc","started_at":{"x":1},"keypress":null}`), &w))
	c = w.cdr(vietnam)
	assert.Equal(t, CallID("7"), c.ID)
	assert.Equal(t, CallStatus(""), c.Status)
	assert.Zero(t, c.Duration)
	assert.True(t, c.StartedAt.IsZero())
}
