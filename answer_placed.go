package autocall

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/autocallvn/autocall-go/internal/envelope"
)

// showsWork reports whether a create's answer, raw, carries a sign that
// the provider did work: an accepted call id (TEL4VN's
// data.results.success) or a session (OMICall's payload.autocall_id or
// autocall_uuids). An answer that says so next to an error status, code
// or HTTP status contradicts itself; calls may have been placed, so it is
// never read as a refusal or a rate limit, either of which would let the
// call go again.
//
// Of two readings the one that shows work wins, so every member that
// encoding/json or a looser reader could take for one of those is looked
// at: a member given twice (encoding/json keeps the later, which may be
// empty), a key in another case or escaped, a list written as a string,
// an object or a count, a body that is not UTF-8 or starts with a BOM.
// It runs only on a create's failure.
func showsWork(p provider, raw []byte) bool {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if !json.Valid(raw) { // not UTF-8 is valid JSON to encoding/json
		return false
	}
	if p == omicall {
		return members(raw, func(k string, v json.RawMessage) bool {
			return strings.EqualFold(k, "payload") && members(v, func(k string, v json.RawMessage) bool {
				switch {
				case strings.EqualFold(k, "autocall_id"):
					return envelope.String(v) != "" // an id in any shape, false too
				case strings.EqualFold(k, "autocall_uuids"):
					return listsAny(v)
				}
				return false
			})
		})
	}
	return members(raw, func(k string, v json.RawMessage) bool {
		return strings.EqualFold(k, "data") && members(v, func(k string, v json.RawMessage) bool {
			return strings.EqualFold(k, "results") && members(v, func(k string, v json.RawMessage) bool {
				return strings.EqualFold(k, "success") && listsAny(v)
			})
		})
	})
}

// members calls f with each member of obj, in order, duplicates included,
// until it says yes; false when obj is not an object.
func members(obj []byte, f func(k string, v json.RawMessage) bool) bool {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		k, _ := t.(string)
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return false
		}
		if f(k, v) {
			return true
		}
	}
	return false
}

// listsAny: a list of accepted calls that names at least one, in any
// shape: an array with any element (null too: in doubt, the call may have
// been placed), a non-empty object, a non-blank string, a count other
// than 0, true. null, [], {}, "", 0 and false list none.
func listsAny(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return false
	}
	switch v[0] {
	case '[':
		var l []json.RawMessage
		return json.Unmarshal(v, &l) == nil && len(l) > 0
	case '{':
		return members(v, func(string, json.RawMessage) bool { return true })
	case '"':
		return envelope.String(v) != ""
	case 'n', 'f':
		return false
	case 't':
		return true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return err != nil || f != 0
}

// unaccounted is why a TEL4VN create's success does not account for the
// n callees sent: it accepted none and refused fewer than n distinct
// phones (an entry without a phone, {}, or a phone named twice, names no
// other). The unnamed callees may have been called, so the answer is
// garbled, not a refusal. nil when out is no campaign answer.
func unaccounted(out any, n int) error {
	d, ok := out.(*campaignData)
	if !ok || n == 0 || d.Results == nil || len(d.Results.Success) > 0 {
		return nil
	}
	// Distinct names: a callee refused twice does not stand for another.
	names := make(map[string]struct{}, n)
	for _, f := range d.Results.Fail {
		for phone := range f {
			if phone != "" {
				names[phone] = struct{}{}
			}
		}
	}
	named := len(names)
	if named >= n {
		return nil
	}
	return &gapError{sent: n, named: named}
}

type gapError struct{ sent, named int }

func (e *gapError) Error() string {
	return "the answer accepts no callee and refuses " + strconv.Itoa(e.named) + " of the " +
		strconv.Itoa(e.sent) + " sent: the others may have been called"
}
