package autocall

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// fields reads the loosely typed members of a provider's record: a CDR
// from GET /api/v2/report or a call event POSTed to a callback_url. Values
// of an unexpected type read as zero rather than failing the whole record.
type fields map[string]json.RawMessage

// str returns the first of keys that is a non-empty string or a number,
// as text. The first byte says which: no decode is tried and failed.
func (f fields) str(keys ...string) string {
	for _, k := range keys {
		raw := f[k]
		switch {
		case len(raw) == 0:
		case raw[0] == '"':
			var s string
			if json.Unmarshal(raw, &s) == nil {
				if s = strings.TrimSpace(s); s != "" {
					return s
				}
			}
		case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
			return string(raw) // a number's JSON text is its text
		}
	}
	return ""
}

func (f fields) int(keys ...string) int64 {
	for _, k := range keys {
		if s := f.str(k); s != "" {
			if n, err := strconv.ParseFloat(s, 64); err == nil && n >= 0 && n < 1e9 {
				return int64(n)
			}
		}
	}
	return 0
}

func (f fields) time(loc *time.Location, keys ...string) time.Time {
	for _, k := range keys {
		s := f.str(k)
		if s == "" {
			continue
		}
		if t := parseCDRTime(s, loc); !t.IsZero() {
			return t
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > unixTimeThreshold && n < 1e12 {
			return time.Unix(n, 0).In(loc)
		}
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
	if json.Unmarshal(raw, &s) == nil {
		text = s
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
