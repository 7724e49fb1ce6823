package autocall

import (
	"net/http"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The plain decoder reads the benchmarked create answers itself, and
// gives the same result as the exact path.
func TestPlainDecoderReadsPlainAnswers(t *testing.T) {
	var d, de campaignData
	require.True(t, plainSuccess(tel4vn, []byte(benchOTP), &d), "the documented OTP answer")
	require.True(t, exactSuccess(tel4vn, []byte(benchOTP), &de))
	assert.Equal(t, de, d)
	var a, ae autoCallPayload
	require.True(t, plainSuccess(omicall, []byte(benchAutoCall), &a), "the documented execute_by_phone answer")
	require.True(t, exactSuccess(omicall, []byte(benchAutoCall), &ae))
	assert.Equal(t, ae, a)

	for _, body := range []string{
		`{"data":{"campaign_id":7,"results":{"success":["1_a\u00e9"],"fail":[]}},"status":true,"code":200,"message":"OK"}`,
		`{"data":{"campaign_id":null,"x":[{"y":"}"}],"results":{"success":["x_1"]}},"code":201}`,
		` { "data" : { "results" : { "success" : [ "a_1" , "b_2" ] } } } `,
	} {
		var p, e campaignData
		require.True(t, plainSuccess(tel4vn, []byte(body), &p), body)
		require.True(t, exactSuccess(tel4vn, []byte(body), &e), body)
		assert.Equal(t, e, p, body)
	}
}

// What it is not sure of, it declines, and leaves its result zero.
func TestPlainDecoderDeclines(t *testing.T) {
	for _, body := range []string{
		`{"data":{"results":{"success":["a_1"]}},"Data":null}`,             // another case
		`{"data":{"results":{"success":["a_1"]}},"d\u0061ta":null}`,        // escaped key
		`{"data":{"results":{"success":["a_1"]}},"data":{"results":{}}}`,   // given twice
		`{"data":{"results":{"success":["a_1"]}},"status":"ok"}`,           // status in words
		`{"data":{"results":{"success":["a_1"]}},"code":"200"}`,            // code as a string
		`{"data":{"results":{"success":["a_1"]}},"code":200.0}`,            // code as a float
		`{"data":{"results":{"success":["a_1"]}},"code":500}`,              // error code
		`{"data":{"results":{"success":["a_1"]}},"error":null}`,            // an error member
		`{"data":{"error":"x","results":{"success":["a_1"]}}}`,             // an error in data
		`{"data":{"results":{"success":["a_1"],"fail":[{"09":"Wrong"}]}}}`, // a refusal
		`{"data":{"results":{"success":[null]}}}`,                          // a null id
		`{"data":{"campaign_id":true,"results":{"success":["a_1"]}}}`,      // an odd id
		`{"data":{"results":{"success":["a_1"]}}} x`,                       // not JSON
		`{"data":{"results":{"success":["a_1"]},"Campaign_ID":"1"}}`,       // a data key in another case
		`{"data":{"results":{"success":["a_1"]},"campaign_\u0130d":"1"}}`,  // not ASCII
		`{"data":null}`,
	} {
		var d campaignData
		assert.False(t, plainSuccess(tel4vn, []byte(body), &d), body)
		assert.Zero(t, d, body)
	}
	for _, body := range []string{
		`{"status_code":9999.0,"payload":{"autocall_id":"a"}}`,
		`{"status_code":"9999 ","payload":{"autocall_id":"a"}}`,
		`{"status_code":9999,"payload":{"autocall_id":"a"},"payload":{"autocall_id":"b"}}`,
		`{"status_code":9999,"Payload":{"autocall_id":"a"}}`,
		`{"status_code":9999,"payload":{"autocall_id":"a","Name":"x"}}`,
		`{"status_code":9999,"payload":{"autocall_id":"a","name":7}}`,
		`{"status_code":9999,"payload":null}`,
		`{"payload":{"autocall_id":"a"}}`,
	} {
		var p autoCallPayload
		assert.False(t, plainSuccess(omicall, []byte(body), &p), body)
		assert.Zero(t, p, body)
	}
}

// FuzzPlainDecoder: whatever the plain decoder accepts, the exact path
// accepts with the same result; what it declines, it leaves zero.
func FuzzPlainDecoder(f *testing.F) {
	for _, s := range []string{benchOTP, benchAutoCall,
		`{"data":{"campaign_id":7,"results":{"success":["1_a\u00e9"],"fail":[]}},"status":true,"code":200,"message":"OK"}`,
		`{"status_code":"9999","payload":{"autocall_id":1,"name":null,"autocall_uuids":["u"]},"message":"x"}`,
		`{"status_code":9999,"payload":{"autocall_id":-1.5e3,"autocall_uuids":null}}`,
		// Hostile forms: ids in blanks, codes written otherwise, a key
		// given twice or escaped, an error member after the data.
		`{"status_code":9999,"payload":{"autocall_id":" "}}`,
		`{"status_code":9999,"payload":{"autocall_id":" a ","name":"x","name":"y"}}`,
		`{"status_code":-0,"payload":{"autocall_id":"a"}}`,
		`{"status_code":9.999e3,"payload":{"autocall_id":"a"}}`,
		`{"status_code":" 9999 ","payload":{"autocall_id":"a"}}`,
		`{"data":{"campaign_id":" 7 ","results":{"success":["a_1"]}}}`,
		`{"data":{"results":{"success":["a_1"]}},"code":2e2}`,
		`{"data":{"results":{"success":["a_1"]}},"code":200,"code":500}`,
		`{"data":{"results":{"success":["a_1"]}},"\u0065rror":"x"}`,
		`{"data":{"results":{"success":["a_1"]}},"message":"ok","error":{"x":1}}`,
		`{"data":{"results":{"success":["a_1"],"fail":[]},"error":null},"status":true}`,
		"\ufeff{\"data\":{\"results\":{\"success\":[\"a_1\"]}}}",
		`{"data":{"results":{"success":["a_1"]}},"x":[[[[[[[[[[{}]]]]]]]]]]}`,
	} {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	f.Fuzz(func(t *testing.T, omi bool, b []byte) {
		if !utf8.Valid(b) {
			return // answer() never decodes what is not UTF-8
		}
		p, newOut := tel4vn, func() any { return new(campaignData) }
		if omi {
			p, newOut = omicall, func() any { return new(autoCallPayload) }
		}
		plain, exact := newOut(), newOut()
		ok := plainSuccess(p, b, plain)
		if !ok {
			if !reflect.ValueOf(plain).Elem().IsZero() {
				t.Fatalf("a declined plain decode left %#v", plain)
			}
			return
		}
		if plain.(checker).check() != nil {
			return // fastSuccess goes on to encoding/json
		}
		if !exactSuccess(p, b, exact) {
			t.Fatalf("the plain decoder accepts what the exact path refuses: %q", b)
		}
		if !reflect.DeepEqual(plain, exact) {
			t.Fatalf("the paths disagree on %q:\nplain %#v\nexact %#v", b, plain, exact)
		}
	})
}

// An id in blanks is read trimmed, as envelope.Text (flexString) reads it
// on the exact path: a session id of blanks is no id, so the answer is a
// garbled success (the calls may have been placed), never a success with
// an id nobody can look up.
func TestPlainDecoderTrimsIDs(t *testing.T) {
	answer := `{"status_code":9999,"payload":{"autocall_id":"  "}}`
	f := newFakeAPI(t)
	f.handle("POST "+byPhonePath, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, 200, answer) })
	c := newTestClient(t, f.URL, WithAccessToken(testToken), WithProvider(OMICall))
	_, err := c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Dialplan: NewDialplan().Text("x"), Phones: []string{"0987654321"}})
	require.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.Equal(t, ClassUnknown, OutcomeOf(err).Class)
	assert.Equal(t, 1, f.count(byPhonePath), "not resent")

	answer = `{"status_code":9999,"payload":{"autocall_id":" a-1 "}}`
	sess, err := c.AutoCall.ExecuteByPhone(bg(), &PhoneCallRequest{Dialplan: NewDialplan().Text("x"), Phones: []string{"0987654321"}})
	require.NoError(t, err)
	assert.Equal(t, "a-1", sess.ID)

	for _, body := range []string{
		`{"data":{"campaign_id":" 7 ","results":{"success":["a_1"]}}}`,
		`{"data":{"campaign_id":"\t7\u0020","results":{"success":["a_1"]}}}`,
	} {
		var p, e campaignData
		require.True(t, plainSuccess(tel4vn, []byte(body), &p), body)
		require.True(t, exactSuccess(tel4vn, []byte(body), &e), body)
		assert.Equal(t, e, p, body)
	}
}
