package autocall

import "testing"

// onlyOnce counts top-level members as encoding/json would match them to
// a field, whatever is nested or written inside strings.
func TestOnlyOnce(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want bool
	}{
		{`{"data":{"id":"x"}}`, true},
		{`{}`, true},
		{`{"data":1,"data":2}`, false},
		{`{"data":1,"DATA":2}`, false},
		{`{"data":1,"Data":null}`, false},
		{`{"data":{"data":{"data":1}},"code":200}`, true},
		{`{"x":"a\"data\":1,","data":[1,{"data":2}],"y":"}"}`, true},
		{`{"x":[{"a":"]"}],"data":1, "data" :2}`, false},
		{`{"d\u0061ta":1}`, false},
		{`{"dÀta":1}`, false},
		{` { "code" : 200 , "data" : null } `, true},
		{`[{"data":1},{"data":2}]`, true},
	} {
		if got := onlyOnce([]byte(tc.raw), "data"); got != tc.want {
			t.Errorf("onlyOnce(%s) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}
