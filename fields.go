package autocall

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/autocallvn/autocall-go/internal/envelope"
)

// fields reads the loosely typed members of a provider's record: a CDR
// from GET /api/v2/report or a call event POSTed to a callback_url. Values
// of an unexpected type read as zero rather than failing the whole record.
type fields map[string]json.RawMessage

// str returns the first of keys that is a non-empty string or a number,
// as text (see text).
func (f fields) str(keys ...string) string {
	for _, k := range keys {
		var t text
		_ = t.UnmarshalJSON(f[k])
		if t != "" {
			return string(t)
		}
	}
	return ""
}

func (f fields) int(keys ...string) int64 {
	for _, k := range keys {
		if n := text(f.str(k)).int(); n != 0 {
			return n
		}
	}
	return 0
}

func (f fields) time(loc *time.Location, keys ...string) time.Time {
	for _, k := range keys {
		if t := text(f.str(k)).time(loc); !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// text is a member read leniently (envelope.Text): a JSON string
// (trimmed) or a number's JSON text; any other value (null, true, an
// object) is "", as a record's field of an unexpected type reads as zero.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	*t = ""
	if s, scalar := envelope.Text(b); scalar {
		*t = text(s)
	}
	return nil
}

// flexString is an id read leniently (envelope.Text): ids arrive as
// strings or numbers ("campaign_id": "1" or 1), and any other value keeps
// its JSON text, so that an id in an unexpected shape still reads as set.
// null is "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	v, _ := envelope.Text(b)
	*s = flexString(v)
	return nil
}

// int reads a count of seconds: a non-negative number under 10^9.
func (t text) int() int64 {
	if t == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(string(t), 64); err == nil && n >= 0 && n < 1e9 {
		return int64(n)
	}
	return 0
}

// time reads "2006-01-02 15:04:05" in loc, RFC 3339, or a Unix time.
func (t text) time(loc *time.Location) time.Time {
	if t == "" {
		return time.Time{}
	}
	if v := parseCDRTime(string(t), loc); !v.IsZero() {
		return v
	}
	if n, err := strconv.ParseInt(string(t), 10, 64); err == nil && n > unixTimeThreshold && n < 1e12 {
		return time.Unix(n, 0).In(loc)
	}
	return time.Time{}
}

// parseCDRTime reads "2006-01-02 15:04:05" in loc, or RFC 3339. Null,
// empty, zero ("0000-00-00 00:00:00") and unreadable times are zero: a
// wrong time is worse than none.
func parseCDRTime(s string, loc *time.Location) time.Time {
	v := strings.TrimSpace(s)
	if v == "" || strings.HasPrefix(v, "0000") {
		return time.Time{}
	}
	if t, err := time.ParseInLocation(cdrTimeLayout, v, loc); err == nil {
		return t
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.In(loc)
	}
	return time.Time{}
}

// decodeParam reads param: a JSON object encoded as a string (as the
// document shows), or the object itself. Values that are not strings keep
// their JSON text. A param that is neither gives nil Params.
func decodeParam(raw json.RawMessage) (string, map[string]string) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	text := string(raw)
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		text = s
	}
	// The common case, every value a string, in one decode.
	var strs map[string]string
	if json.Unmarshal([]byte(text), &strs) == nil {
		if strs == nil {
			return text, nil
		}
		return text, strs
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(text), &obj) != nil || obj == nil {
		return text, nil
	}
	params := make(map[string]string, len(obj))
	for k, v := range obj {
		var str string
		if json.Unmarshal(v, &str) == nil {
			params[k] = str
		} else {
			params[k] = string(v)
		}
	}
	return text, params
}
