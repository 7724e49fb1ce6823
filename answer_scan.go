package autocall

import (
	"encoding/json"
	"strings"
)

// The plain decoder: the answers to the two call-creating requests timed
// against a hand-written integration (OTP and TTS runs, OMICall's
// execute_by_phone) read by hand, in one pass over the bytes, when they
// are in their plain, documented form. encoding/json's reflection was a
// third of the SDK's own time on a request. Anything it is not sure of — a
// key in another case or escaped, a member given twice, a status or code
// written some other way, an "error" member anywhere, a refusal list —
// it declines, and fastSuccess decodes the answer with encoding/json as
// before. What it accepts it decodes exactly as encoding/json would
// (FuzzFastPath checks both against the exact path).

// plainSuccess decodes raw into out (a *campaignData or an
// *autoCallPayload) and reports whether the answer is plainly a success
// in its plain form; false leaves out zero.
func plainSuccess(p provider, raw []byte, out any) bool {
	var ok bool
	switch o := out.(type) {
	case *campaignData:
		if p != tel4vn || !json.Valid(raw) {
			return false
		}
		ok = plainTEL4VN(raw, o)
		if !ok {
			*o = campaignData{}
		}
	case *autoCallPayload:
		if p != omicall || !json.Valid(raw) {
			return false
		}
		ok = plainOMICall(raw, o)
		if !ok {
			*o = autoCallPayload{}
		}
	}
	return ok
}

// plainTEL4VN: {"data":{…},"status":true,"code":200,"message":"…"}, data
// present, status true or absent, code 2xx or absent, no error member.
func plainTEL4VN(raw []byte, d *campaignData) bool {
	sc := scan{b: raw}
	var data bool
	ok := sc.object([]string{"data", "status", "code", "error", "message", "messsage"}, func(k int) bool {
		switch k {
		case 0:
			data = true
			return sc.campaignData(d)
		case 1:
			return sc.literal("true")
		case 2:
			n, ok := sc.digits()
			return ok && n >= 200 && n <= 299
		case 3:
			return false
		}
		sc.skip() // the message says nothing on a success
		return true
	})
	return ok && data
}

func (sc *scan) campaignData(d *campaignData) bool {
	return sc.object([]string{"campaign_id", "results", "error"}, func(k int) bool {
		switch k {
		case 0:
			s, ok := sc.flex()
			d.CampaignID = flexString(s)
			return ok
		case 1:
			d.Results = new(campaignResults)
			return sc.object([]string{"success", "fail"}, func(k int) bool {
				if k == 0 {
					var ok bool
					d.Results.Success, ok = sc.strings()
					return ok
				}
				// An empty refusal list only: a refusal is a map, and rare.
				ok := sc.emptyArray()
				d.Results.Fail = []map[string]string{}
				return ok
			})
		}
		return false // an error inside data
	})
}

// plainOMICall: {"status_code":9999,"payload":{…},…}.
func plainOMICall(raw []byte, p *autoCallPayload) bool {
	sc := scan{b: raw}
	var code, payload bool
	ok := sc.object([]string{"status_code", "payload", "message"}, func(k int) bool {
		switch k {
		case 0:
			code = true
			if sc.peek() == '"' {
				return sc.literal(`"9999"`)
			}
			n, ok := sc.digits()
			return ok && n == 9999
		case 1:
			payload = true
			return sc.object([]string{"autocall_id", "name", "autocall_uuids"}, func(k int) bool {
				var ok bool
				switch k {
				case 0:
					var s string
					s, ok = sc.flex()
					p.AutocallID = flexString(s)
				case 1:
					if sc.peek() == 'n' {
						return sc.literal("null") // leaves "", as encoding/json does
					}
					p.Name, ok = sc.str()
				default:
					if sc.peek() == 'n' {
						return sc.literal("null")
					}
					p.AutocallUUIDs, ok = sc.strings()
				}
				return ok
			})
		}
		sc.skip()
		return true
	})
	return ok && code && payload
}

// scan walks JSON that json.Valid has accepted.
type scan struct {
	b []byte
	i int
}

func (sc *scan) ws() { sc.i = skipSpace(sc.b, sc.i) }

func (sc *scan) peek() byte {
	sc.ws()
	if sc.i >= len(sc.b) {
		return 0
	}
	return sc.b[sc.i]
}

// object walks an object: each member named exactly one of names is
// handed to f by its index, which reads its value; any other member is
// skipped. A name given twice, or one encoding/json would fold onto one
// of names (another case, an escape, a byte past ASCII), is declined.
func (sc *scan) object(names []string, f func(k int) bool) bool {
	if sc.peek() != '{' {
		return false
	}
	sc.i++
	var seen uint16
	for {
		switch sc.peek() {
		case '}':
			sc.i++
			return true
		case ',':
			sc.i++
			continue
		}
		start := sc.i + 1 // at '"': valid JSON
		j := start
		for ; sc.b[j] != '"'; j++ {
			if sc.b[j] == '\\' || sc.b[j] >= 0x80 {
				return false
			}
		}
		key := sc.b[start:j]
		sc.i = j + 1
		sc.ws()
		sc.i++ // ':'
		k := -1
		for n, name := range names {
			if string(key) == name {
				k = n
				break
			}
			if asciiFold(key, name) {
				return false
			}
		}
		if k < 0 {
			sc.skip()
			continue
		}
		if seen&(1<<k) != 0 {
			return false
		}
		seen |= 1 << k
		sc.ws()
		if !f(k) {
			return false
		}
	}
}

// skip passes over one value.
func (sc *scan) skip() {
	sc.ws()
	sc.i = skipValue(sc.b, sc.i)
}

// literal reads exactly lit (true, null, "9999").
func (sc *scan) literal(lit string) bool {
	sc.ws()
	end := sc.i + len(lit)
	if end > len(sc.b) || string(sc.b[sc.i:end]) != lit {
		return false
	}
	if end < len(sc.b) && lit[0] != '"' && isNumberOrWord(sc.b[end]) {
		return false // 1, not 1.5; true, not a longer word
	}
	sc.i = end
	return true
}

func isNumberOrWord(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '.' || c == 'E' || c == '+' || c == '-'
}

// digits reads a plain non-negative integer of up to 9 digits.
func (sc *scan) digits() (int, bool) {
	sc.ws()
	n, j := 0, sc.i
	for ; j < len(sc.b) && sc.b[j] >= '0' && sc.b[j] <= '9'; j++ {
		n = n*10 + int(sc.b[j]-'0')
	}
	if j == sc.i || j-sc.i > 9 || (j < len(sc.b) && isNumberOrWord(sc.b[j])) {
		return 0, false
	}
	sc.i = j
	return n, true
}

// str reads a string.
func (sc *scan) str() (string, bool) {
	if sc.peek() != '"' {
		return "", false
	}
	start := sc.i
	escaped := false
	j := start + 1
	for ; sc.b[j] != '"'; j++ {
		if sc.b[j] == '\\' {
			escaped = true
			j++
		}
	}
	sc.i = j + 1
	if !escaped {
		return string(sc.b[start+1 : j]), true
	}
	var s string
	return s, json.Unmarshal(sc.b[start:sc.i], &s) == nil
}

// flex reads a flexString: a string trimmed (as envelope.Text trims it:
// an id of blanks is no id), a number as its text, null as "".
func (sc *scan) flex() (string, bool) {
	switch c := sc.peek(); {
	case c == '"':
		s, ok := sc.str()
		return strings.TrimSpace(s), ok
	case c == 'n':
		return "", sc.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		start := sc.i
		for sc.i < len(sc.b) && isNumberOrWord(sc.b[sc.i]) {
			sc.i++
		}
		return string(sc.b[start:sc.i]), true // its text, as flexString keeps it
	}
	return "", false
}

// strings reads an array of strings (no null among them).
func (sc *scan) strings() ([]string, bool) {
	if sc.peek() != '[' {
		return nil, false
	}
	sc.i++
	out := []string{} // [] is an empty slice, not nil, as in encoding/json
	for {
		switch sc.peek() {
		case ']':
			sc.i++
			return out, true
		case ',':
			sc.i++
			continue
		}
		s, ok := sc.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
}

func (sc *scan) emptyArray() bool {
	if sc.peek() != '[' {
		return false
	}
	sc.i++
	if sc.peek() != ']' {
		return false
	}
	sc.i++
	return true
}
