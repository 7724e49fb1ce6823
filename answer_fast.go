package autocall

import (
	"bytes"
	"encoding/json"
	"reflect"

	"github.com/autocallvn/autocall-go/internal/envelope"
)

// The fast path: an answer that is plainly a success is decoded once,
// straight into the typed result. Anything else, or anything the fast path
// is not sure of, goes the exact, lenient way (envelope, then data), which
// also builds the error. FuzzFastPath checks that the two agree.
//
// Duplicate members: the last one wins, as in encoding/json, on both
// paths. The exact path gets that from encoding/json; the fast path, which
// decodes data in place and so would merge two data members, declines any
// envelope member given twice (onlyOnce, the counters of the others) and
// leaves it to the exact path.

// fastOMICall is OMICall's envelope with the payload decoded in place.
type fastOMICall struct {
	StatusCode lenientCode `json:"status_code"`
	Payload    any         `json:"payload"` // holds out: decoded into it
}

// fastTEL4VN is TEL4VN's envelope with data decoded in place.
type fastTEL4VN struct {
	Data   any           `json:"data"` // holds out; a null member sets it nil
	Status lenientStatus `json:"status"`
	Code   lenientCode   `json:"code"`
	Error  fastErr       `json:"error"`
}

// fastErr is the envelope's error member, counted.
type fastErr struct {
	errField
	n int
}

func (e *fastErr) UnmarshalJSON(b []byte) error {
	e.n++
	return e.errField.UnmarshalJSON(b)
}

// dataErrorer is a TEL4VN result that notes an "error" member inside data,
// which makes the answer an error however it is wrapped.
type dataErrorer interface{ dataError() bool }

// errField notes an error member that says something: anything but null,
// "" or blanks, as the exact path reads it.
type errField struct{ set bool }

func (e *errField) UnmarshalJSON(b []byte) error {
	e.set = envelope.String(b) != ""
	return nil
}

// fastSuccess reports whether raw is plainly a success, having decoded it
// into out; false leaves out zero. out must check itself (checker): a
// missing or null payload then fails the check, and the exact path says so.
func fastSuccess(p provider, raw []byte, out any) bool {
	ch, ok := out.(checker)
	if !ok {
		return false
	}
	if plainSuccess(p, raw, out) {
		if ch.check() == nil {
			return true
		}
		reflect.ValueOf(out).Elem().SetZero()
	}
	var good bool
	if p == omicall {
		// OMICall's success is status_code 9999, whatever the payload holds.
		env := fastOMICall{Payload: out}
		good = json.Unmarshal(raw, &env) == nil && env.StatusCode.set && env.StatusCode.n == envelope.OMICallSuccess &&
			env.StatusCode.seen == 1 && onlyOnce(raw, "payload")
	} else {
		de, typed := out.(dataErrorer)
		if !typed && bytes.Contains(raw, []byte(`"error"`)) {
			return false // may be an error inside data: the exact path looks
		}
		env := fastTEL4VN{Data: out}
		good = json.Unmarshal(raw, &env) == nil && !env.Status.bad && !env.Error.set &&
			(!env.Code.set || (env.Code.n >= 200 && env.Code.n <= 299)) && !(typed && de.dataError()) &&
			env.Data != nil && onlyOnce(raw, "data") && env.Status.seen <= 1 && env.Code.seen <= 1 && env.Error.n <= 1
	}
	if good && ch.check() == nil {
		return true
	}
	reflect.ValueOf(out).Elem().SetZero() // the exact path starts afresh
	return false
}

// lenientCode reads 9999 or "9999", as envelope.OMICall does.
type lenientCode struct {
	n    int
	set  bool
	seen int // members read: more than one is no plain success
}

func (c *lenientCode) UnmarshalJSON(b []byte) error {
	c.n, c.set = envelope.Int(b)
	c.seen++
	return nil
}

// lenientStatus is TEL4VN's status: success is true, "true", "success" or
// "ok"; absent is success too.
type lenientStatus struct {
	bad  bool
	seen int
}

func (s *lenientStatus) UnmarshalJSON(b []byte) error {
	s.bad = !envelope.StatusOK(b)
	s.seen++
	return nil
}

// onlyOnce reports whether the top-level object of raw, valid JSON, has at
// most one member whose name encoding/json would match to name (ASCII
// case folded): a second one would be decoded into the same result and
// merged with the first, where the exact path keeps the last. A name that
// is escaped or not ASCII, which encoding/json may fold onto name too, is
// a no: the exact path reads it. It allocates nothing, unlike a second
// decoder.
func onlyOnce(raw []byte, name string) bool {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return true // no object: the decode has failed already
	}
	seen := 0
	for i++; ; {
		i = skipSpace(raw, i)
		switch {
		case i >= len(raw), raw[i] == '}':
			return seen <= 1
		case raw[i] == ',':
			i++
			continue
		case raw[i] != '"':
			return false
		}
		j := i + 1
		for ; j < len(raw) && raw[j] != '"'; j++ {
			if raw[j] == '\\' || raw[j] >= 0x80 {
				return false
			}
		}
		if j >= len(raw) {
			return false
		}
		if asciiFold(raw[i+1:j], name) {
			seen++
		}
		i = skipSpace(raw, j+1)
		if i >= len(raw) || raw[i] != ':' {
			return false
		}
		i = skipValue(raw, skipSpace(raw, i+1))
	}
}

// skipValue returns the offset just past the JSON value at raw[i:], or of
// the ',' or '}' that ends a scalar.
func skipValue(raw []byte, i int) int {
	depth := 0
	for i < len(raw) {
		switch raw[i] {
		case '"':
			for i++; i < len(raw) && raw[i] != '"'; i++ {
				if raw[i] == '\\' {
					i++
				}
			}
			i++
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// asciiFold: b equals name, ASCII letters in either case.
func asciiFold(b []byte, name string) bool {
	if len(b) != len(name) {
		return false
	}
	for k := range b {
		c := b[k]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[k] {
			return false
		}
	}
	return true
}
