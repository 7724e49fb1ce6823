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
// envelope member given twice and leaves it to the exact path.

// fastOMICall is OMICall's envelope with the payload decoded in place.
type fastOMICall struct {
	StatusCode lenientCode `json:"status_code"`
	Payload    inPlace     `json:"payload"` // decoded into out
}

// fastTEL4VN is TEL4VN's envelope with data decoded in place.
type fastTEL4VN struct {
	Data   inPlace       `json:"data"` // decoded into out
	Status lenientStatus `json:"status"`
	Code   lenientCode   `json:"code"`
	Error  fastErr       `json:"error"`
}

// inPlace decodes a member into out the first time it is seen and counts
// how often it is: null, or a second member, is no plain success.
type inPlace struct {
	out  any
	n    int
	null bool
}

func (d *inPlace) UnmarshalJSON(b []byte) error {
	d.n++
	if d.n > 1 {
		return nil
	}
	if d.null = string(b) == "null"; d.null {
		return nil
	}
	return json.Unmarshal(b, d.out)
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
	var good bool
	if p == omicall {
		// OMICall's success is status_code 9999, whatever the payload holds.
		env := fastOMICall{Payload: inPlace{out: out}}
		good = json.Unmarshal(raw, &env) == nil && env.StatusCode.set && env.StatusCode.n == envelope.OMICallSuccess &&
			env.StatusCode.seen == 1 && env.Payload.n <= 1
	} else {
		de, typed := out.(dataErrorer)
		if !typed && bytes.Contains(raw, []byte(`"error"`)) {
			return false // may be an error inside data: the exact path looks
		}
		env := fastTEL4VN{Data: inPlace{out: out}}
		good = json.Unmarshal(raw, &env) == nil && !env.Status.bad && !env.Error.set &&
			(!env.Code.set || (env.Code.n >= 200 && env.Code.n <= 299)) && !(typed && de.dataError()) &&
			env.Data.n == 1 && !env.Data.null && env.Status.seen <= 1 && env.Code.seen <= 1 && env.Error.n <= 1
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
