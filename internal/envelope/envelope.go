// Package envelope decodes the two providers' response envelopes into one
// shape, leniently: the documents disagree with themselves (a misspelt
// "messsage", codes in two places), so each field is looked for where it
// has been seen. Of a member given twice, the last wins, as in
// encoding/json; the SDK's fast decode path follows the same rule.
package envelope

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Result is a decoded envelope.
type Result struct {
	// Decoded: the body was a JSON object in the provider's envelope.
	// False for HTML, plain text, truncated JSON, or an unrelated object.
	Decoded    bool
	OK         bool // the envelope reports success
	StatusCode int  // status_code (OMICall) or code (TEL4VN); 0 when absent
	Code       string
	Message    string
	Data       json.RawMessage // payload (OMICall) or data (TEL4VN); nil when absent or null
}

// OMICallSuccess is OMICall's status_code for success.
const OMICallSuccess = 9999

// OMICall decodes {"status_code": 9999, "payload": {...}, "message": ...}.
// The error code is in message or payload.error, the text in payload.message.
func OMICall(body []byte) Result {
	var e struct {
		StatusCode json.RawMessage `json:"status_code"`
		Message    json.RawMessage `json:"message"`
		Payload    json.RawMessage `json:"payload"`
	}
	if !decodeObject(body, &e) {
		return Result{}
	}
	code, ok := lenientInt(e.StatusCode)
	if !ok {
		return Result{}
	}
	r := Result{Decoded: true, StatusCode: code, OK: code == OMICallSuccess, Data: nonNull(e.Payload)}
	msg := String(e.Message)
	perr, pmsg, _ := innerError(r.Data)
	if !r.OK {
		r.Code = firstNonEmpty(perr, codeLike(msg))
		r.Message = firstNonEmpty(pmsg, msg)
	}
	return r
}

// TEL4VN decodes {"data": {...}, "status": true, "code": 200, "message": "OK"}
// and its failure form {"messsage": "...", "code": 400, "status": false,
// "data": {"error": "..."}}. The documents' examples carry only "data".
func TEL4VN(body []byte) Result {
	var e struct {
		Data     json.RawMessage `json:"data"`
		Status   json.RawMessage `json:"status"`
		Code     json.RawMessage `json:"code"`
		Message  json.RawMessage `json:"message"`
		Messsage json.RawMessage `json:"messsage"`
		Error    json.RawMessage `json:"error"`
	}
	if !decodeObject(body, &e) {
		return Result{}
	}
	if e.Data == nil && e.Status == nil && e.Code == nil {
		return Result{}
	}
	r := Result{Decoded: true, OK: true, Data: nonNull(e.Data)}
	if e.Status != nil && !StatusOK(e.Status) {
		r.OK = false
	}
	if code, ok := lenientInt(e.Code); ok {
		r.StatusCode = code
		if code < 200 || code > 299 {
			r.OK = false
		}
	}
	derr, dmsg, dcode := innerError(r.Data)
	r.Code = firstNonEmpty(derr, String(e.Error))
	if r.Code != "" {
		r.OK = false
	}
	if !r.OK && dcode >= 500 && dcode <= 599 && (r.StatusCode < 500 || r.StatusCode > 599) {
		// A failure whose data carries a 5xx is the server failing all the
		// same: that code wins over the outer one, so a create it answers
		// is no refusal. A success is not reread for it.
		r.StatusCode = dcode
	}
	if !r.OK {
		r.Message = firstNonEmpty(dmsg, String(e.Message), String(e.Messsage))
	}
	return r
}

// decodeObject reports whether body is one complete JSON object.
func decodeObject(body []byte, v any) bool {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' || !json.Valid(body) {
		return false
	}
	return json.Unmarshal(body, v) == nil
}

// innerError reads {"error": "...", "message": "...", "code": 500} from a
// payload; status is 0 when there is no code.
func innerError(data json.RawMessage) (code, msg string, status int) {
	if len(data) == 0 || data[0] != '{' {
		return "", "", 0
	}
	var p struct {
		Error   json.RawMessage `json:"error"`
		Message json.RawMessage `json:"message"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(data, &p) != nil {
		return "", "", 0
	}
	status, _ = lenientInt(p.Code)
	return String(p.Error), String(p.Message), status
}

// StatusOK reports whether TEL4VN's status member says success: true, 1,
// or the words true, success, ok or 1 in any case. Servers write "OK" and
// "Success" as often as "ok"; reading those as failures would call an
// answer that lists accepted calls a refusal.
func StatusOK(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	if s == "true" || s == "1" {
		return true
	}
	var word string
	if json.Unmarshal(raw, &word) != nil {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(word)) {
	case "true", "success", "ok", "1":
		return true
	}
	return false
}

// String reads an error or message member as the decoders here do: a JSON
// string, trimmed, or any other value's JSON text; "" for null.
func String(raw json.RawMessage) string {
	s, _ := Text(raw)
	return s
}

// Int reads an envelope's code as the decoders here do: 9999, "9999",
// -9999, or an integral float (500.0, 5e2); ok is false for anything
// else, null included.
func Int(raw json.RawMessage) (n int, ok bool) { return lenientInt(raw) }

// lenientInt reads 9999, "9999", " 9999 ", -9999, 500.0 or 5e2: the text
// Text reads (a string trimmed and unescaped), as a number. A float is
// read when it is a whole number: a 5xx written as 500.0 or " 500 " is
// still a server error, and must not read as a code-less refusal.
func lenientInt(raw json.RawMessage) (int, bool) {
	s, scalar := Text(raw)
	if !scalar || s == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<31 {
		return 0, false
	}
	return int(f), true
}

// Text is the one reading of a loosely typed member, for the envelopes,
// the answers' ids and the records of CDRs and call events: a JSON string
// trimmed (unescaped only when it has escapes), a number as its JSON
// text; scalar is false for any other value (true, an object, bytes that
// are not JSON), which is returned as its trimmed text, since a provider
// may put an object where the document shows a string. null is "".
func Text(raw []byte) (s string, scalar bool) {
	if len(raw) > 0 && (raw[0] <= ' ' || raw[len(raw)-1] <= ' ') {
		raw = bytes.TrimSpace(raw)
	}
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", true
	case raw[0] == '"':
		if len(raw) >= 2 && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
			return strings.TrimSpace(string(raw[1 : len(raw)-1])), true
		}
		var v string
		if json.Unmarshal(raw, &v) == nil {
			return strings.TrimSpace(v), true
		}
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		return string(raw), true
	}
	return string(raw), false
}

// codeLike keeps a message only if it looks like a machine code
// (limit_word), not a sentence or a status text ("Unauthorized").
func codeLike(s string) string {
	if s == "" || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')) {
			return ""
		}
	}
	return s
}

func nonNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
