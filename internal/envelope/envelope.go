// Package envelope decodes the two providers' response envelopes into one
// shape, leniently: the documents disagree with themselves (a misspelt
// "messsage", codes in two places), so each field is looked for where it
// has been seen. Of a member given twice, the last wins, as in
// encoding/json; the SDK's fast decode path follows the same rule.
package envelope

import (
	"bytes"
	"encoding/json"
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
	msg := lenientString(e.Message)
	perr, pmsg := innerError(r.Data)
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
	derr, dmsg := innerError(r.Data)
	r.Code = firstNonEmpty(derr, lenientString(e.Error))
	if r.Code != "" {
		r.OK = false
	}
	if !r.OK {
		r.Message = firstNonEmpty(dmsg, lenientString(e.Message), lenientString(e.Messsage))
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

// innerError reads {"error": "...", "message": "..."} from a payload.
func innerError(data json.RawMessage) (code, msg string) {
	if len(data) == 0 || data[0] != '{' {
		return "", ""
	}
	var p struct {
		Error   json.RawMessage `json:"error"`
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(data, &p) != nil {
		return "", ""
	}
	return lenientString(p.Error), lenientString(p.Message)
}

// StatusOK reports whether TEL4VN's status member says success.
func StatusOK(raw json.RawMessage) bool {
	switch strings.TrimSpace(string(raw)) {
	case "true", `"true"`, `"success"`, `"ok"`:
		return true
	}
	return false
}

// String reads an error or message member as the decoders here do: a JSON
// string, trimmed, or any other value's JSON text; "" for null.
func String(raw json.RawMessage) string { return lenientString(raw) }

// Int reads an envelope's code as the decoders here do: 9999, "9999" or
// -9999; ok is false for anything else, null included.
func Int(raw json.RawMessage) (n int, ok bool) { return lenientInt(raw) }

// lenientInt reads 9999, "9999" or -9999.
func lenientInt(raw json.RawMessage) (int, bool) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// lenientString reads a JSON string; other JSON values are kept as text,
// since a provider may put an object where the document shows a string.
func lenientString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(string(raw))
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
