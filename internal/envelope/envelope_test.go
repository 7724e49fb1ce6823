package envelope

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOMICall(t *testing.T) {
	cases := []struct {
		name, body string
		want       Result
	}{
		{"document success", `{"status_code": 9999, "payload": {"autocall_id": "91d3"}}`,
			Result{Decoded: true, OK: true, StatusCode: 9999, Data: []byte(`{"autocall_id": "91d3"}`)}},
		{"string status", `{"status_code":"9999","payload":{}}`,
			Result{Decoded: true, OK: true, StatusCode: 9999, Data: []byte(`{}`)}},
		{"code in message", `{"status_code":-9999,"message":"limit_word"}`,
			Result{Decoded: true, StatusCode: -9999, Code: "limit_word", Message: "limit_word"}},
		{"code in payload.error", `{"status_code":-9999,"message":"Bad request","payload":{"status":"fail","error":"data_is_required","message":"Please check your input param"}}`,
			Result{Decoded: true, StatusCode: -9999, Code: "data_is_required", Message: "Please check your input param",
				Data: []byte(`{"status":"fail","error":"data_is_required","message":"Please check your input param"}`)}},
		{"sentence is not a code", `{"status_code":401,"message":"Unauthorized"}`,
			Result{Decoded: true, StatusCode: 401, Message: "Unauthorized"}},
		{"object message", `{"status_code":-1,"message":{"x":1}}`,
			Result{Decoded: true, StatusCode: -1, Message: `{"x":1}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := OMICall([]byte(tc.body))
			if tc.want.Data == nil {
				got.Data = nil
			}
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{``, `Unauthorized`, `<html>502</html>`, `{"status_code":9999,"payload":{`, `[]`, `{"payload":{}}`, `{"status_code":"abc"}`, `null`} {
		assert.False(t, OMICall([]byte(bad)).Decoded, bad)
	}
}

func TestTEL4VN(t *testing.T) {
	cases := []struct {
		name, body string
		ok         bool
		status     int
		code, msg  string
	}{
		{"document: data only", `{"data":{"campaign_id":"1"}}`, true, 0, "", ""},
		{"full success", `{"message":"OK","code":200,"status":true,"data":{"a":1}}`, true, 200, "", ""},
		{"failure with messsage", `{"messsage":"Bad Request","code":400,"status":false,"data":{"error":"campaign_not_found"}}`, false, 400, "campaign_not_found", "Bad Request"},
		{"status false alone", `{"status":false,"data":null}`, false, 0, "", ""},
		{"code 500 only", `{"code":500,"message":"Internal"}`, false, 500, "", "Internal"},
		{"data.error in a 200 envelope", `{"code":200,"status":true,"data":{"error":"limit_word","message":"quota"}}`, false, 200, "limit_word", "quota"},
		{"top-level error", `{"code":401,"error":"token_expired"}`, false, 401, "token_expired", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := TEL4VN([]byte(tc.body))
			assert.True(t, got.Decoded)
			assert.Equal(t, tc.ok, got.OK)
			assert.Equal(t, tc.status, got.StatusCode)
			assert.Equal(t, tc.code, got.Code)
			assert.Equal(t, tc.msg, got.Message)
		})
	}
	for _, bad := range []string{``, `Unauthorized`, `<!doctype html><title>502</title>`, `{"data":{"campaign_id":"1"`, `{"foo":1}`, `"data"`} {
		assert.False(t, TEL4VN([]byte(bad)).Decoded, bad)
	}
}

func FuzzEnvelopes(f *testing.F) {
	for _, s := range []string{`{"status_code":9999,"payload":{}}`, `{"data":{"error":"x"},"code":"400"}`, `{"messsage":"x","status":false}`, `<html>`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, r := range []Result{OMICall(body), TEL4VN(body)} {
			if !r.Decoded && (r.OK || r.Data != nil || r.Code != "") {
				t.Fatalf("undecoded body reported content: %+v", r)
			}
			if r.OK && r.Code != "" {
				t.Fatalf("success with an error code: %+v", r)
			}
		}
	})
}

// Of a member given twice, the last wins.
func TestDuplicateMembersLastWins(t *testing.T) {
	r := TEL4VN([]byte(`{"data":{"id":"x"},"code":200,"status":true,"code":500}`))
	assert.False(t, r.OK)
	assert.Equal(t, 500, r.StatusCode)
	r = TEL4VN([]byte(`{"data":{"id":"x"},"data":null}`))
	assert.True(t, r.OK)
	assert.Nil(t, r.Data)
	r = OMICall([]byte(`{"status_code":9999,"payload":{"id":"x"},"status_code":503}`))
	assert.False(t, r.OK)
	assert.Equal(t, 503, r.StatusCode)
}

// Status words as servers write them: a success read as a failure would
// turn an answer listing accepted calls into a refusal.
func TestStatusOKForms(t *testing.T) {
	for _, s := range []string{`true`, `1`, `"1"`, `"true"`, `"TRUE"`, `"ok"`, `"OK"`, `"Success"`, `"success"`, `" ok "`} {
		assert.True(t, StatusOK([]byte(s)), s)
	}
	for _, s := range []string{`false`, `0`, `"0"`, `"false"`, `"fail"`, `null`, `"okay"`, `2`, `{}`} {
		assert.False(t, StatusOK([]byte(s)), s)
	}
}

// A 5xx written as a float is still a 5xx; a fraction is no code.
func TestIntFloats(t *testing.T) {
	for raw, want := range map[string]int{`500`: 500, `500.0`: 500, `5e2`: 500, `"502.0"`: 502, `-9999`: -9999, `9999.00`: 9999} {
		n, ok := Int([]byte(raw))
		assert.True(t, ok, raw)
		assert.Equal(t, want, n, raw)
	}
	for _, raw := range []string{`500.5`, `1e40`, `"x"`, `null`, `NaN`, `true`} {
		_, ok := Int([]byte(raw))
		assert.False(t, ok, raw)
	}
	r := TEL4VN([]byte(`{"status":false,"data":{"code":500,"error":"internal_error"}}`))
	assert.Equal(t, 500, r.StatusCode, "a failure's 5xx inside data is the server's")
	r = TEL4VN([]byte(`{"status":true,"data":{"code":500,"results":{}}}`))
	assert.True(t, r.OK, "a success's data is not reread for a code")
}

// Text is the one reading of a loosely typed member: every decoder of the
// SDK (envelopes, ids, CDRs, call events, token lifetimes) goes through it.
func TestText(t *testing.T) {
	for _, c := range []struct {
		raw    string
		want   string
		scalar bool
	}{
		{``, "", true},
		{`null`, "", true},
		{` null `, "", true},
		{`"abc"`, "abc", true},
		{`"  abc  "`, "abc", true},
		{` "abc" `, "abc", true},
		{`"Nguyễn Văn A"`, "Nguyễn Văn A", true},
		{`"Nguye\u0302\u0303n"`, "Nguye\u0302\u0303n", true}, // NFD kept as sent
		{`"a\"b"`, `a"b`, true},
		{`"tab\there"`, "tab\there", true},
		{`123`, "123", true},
		{`-5`, "-5", true},
		{`1.5e3`, "1.5e3", true},
		{`true`, "true", false},
		{`{"id":1}`, `{"id":1}`, false},
		{`[1]`, `[1]`, false},
		{`"unterminated`, `"unterminated`, false},
		{`"bad \x escape"`, `"bad \x escape"`, false},
	} {
		s, scalar := Text([]byte(c.raw))
		assert.Equal(t, c.want, s, c.raw)
		assert.Equal(t, c.scalar, scalar, c.raw)
		assert.Equal(t, c.want, String([]byte(c.raw)), c.raw)
	}
}

// A code is read as Text reads any member: a string trimmed, unescaped.
// " 500 " was no code at all, so a create answered with it under a 4xx
// read as a refusal, and a 5xx in the envelope must never be one.
func TestIntReadsAsText(t *testing.T) {
	for raw, want := range map[string]int{
		`9999`: 9999, `"9999"`: 9999, `" 9999 "`: 9999, `"\t500\n"`: 500, `"\u0035\u0030\u0030"`: 500,
		` 500 `: 500, `5e2`: 500, `"500.0"`: 500, `-0`: 0, `-9999`: -9999,
	} {
		n, ok := Int([]byte(raw))
		assert.True(t, ok, raw)
		assert.Equal(t, want, n, raw)
	}
	for _, raw := range []string{`null`, `""`, `" "`, `true`, `{"a":500}`, `[500]`, `"500 Internal"`, `500.5`, `1e400`, `"NaN"`, `"Inf"`} {
		_, ok := Int([]byte(raw))
		assert.False(t, ok, raw)
	}
	assert.Equal(t, 500, TEL4VN([]byte(`{"code":" 500 ","status":false}`)).StatusCode)
	assert.Equal(t, 503, TEL4VN([]byte(`{"status":false,"data":{"error":"x","code":" 503 "}}`)).StatusCode)
	assert.Equal(t, Result{Decoded: true, OK: true, StatusCode: 9999}, OMICall([]byte(`{"status_code":" 9999 "}`)))
}
