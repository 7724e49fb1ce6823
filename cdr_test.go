package autocall

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCDRGetDocumentExample(t *testing.T) {
	f := tel4vnAPI(t)
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey))
	cdr, err := c.CDR.Get(bg(), cdrID)
	require.NoError(t, err)
	at := func(h, m, s int) time.Time { return time.Date(2021, 1, 11, h, m, s, 0, vietnam) }
	assert.Equal(t, &CDR{
		ID: cdrID, CampaignID: "1", CodeOTP: "M43TUI", Keypress: "127", PhoneNumber: "0987654321", UserID: "5",
		CreatedAt: at(11, 28, 45), StartedAt: at(11, 28, 54), EndedAt: at(11, 29, 9),
		Duration: 15 * time.Second,
		Params: map[string]string{"customer_name": "Nguyễn Văn A", "due_amount": "10.410.000", "due_days": "#15",
			"template_name": "thong_bao_no_cuoc_1"},
		RawParam: `{"customer_name":"Nguyễn Văn A","due_amount":"10.410.000","due_days":"#15","template_name":"thong_bao_no_cuoc_1"}`,
		Type:     CallTypeTTS, Status: StatusAnswered,
	}, cdr)
	assert.True(t, cdr.Answered())
	assert.Equal(t, "2021-01-11T04:28:45Z", cdr.CreatedAt.UTC().Format(time.RFC3339), "Vietnam time is UTC+7")
	assert.Equal(t, testToken, f.last("/api/v2/report/"+cdrID).Auth)
}

func TestCDRDecoding(t *testing.T) {
	c, mt := mockClient(t)
	get := func(body string) *CDR {
		t.Helper()
		mockJSON(mt, "GET", "https://api.example.test/api/v2/report/x", 200, []byte(body))
		cdr, err := c.CDR.Get(bg(), "x")
		require.NoError(t, err, body)
		return cdr
	}
	failed := get(`{"data":{"id":"x","code_otp":null,"created_at":"2021-01-11 11:28:45","started_at":null,"ended_at":"","duration":0,"status":"NOANWSER","type":"OTP","param":null}}`)
	assert.Equal(t, StatusNoAnswer, failed.Status, "the document's spelling")
	assert.True(t, failed.StartedAt.IsZero())
	assert.True(t, failed.EndedAt.IsZero())
	assert.Empty(t, failed.CodeOTP)
	assert.Nil(t, failed.Params)
	assert.False(t, failed.Answered())
	assert.Equal(t, CallTypeOTP, failed.Type)

	assert.Equal(t, StatusNoAnswer, get(`{"data":{"id":"x","status":"NOANSWER"}}`).Status)
	assert.Equal(t, StatusBusy, get(`{"data":{"id":"x","status":"busy"}}`).Status)
	assert.Equal(t, CallStatus("VOICEMAIL"), get(`{"data":{"id":"x","status":"VOICEMAIL"}}`).Status, "unknown statuses are kept")

	bad := get(`{"data":{"id":"x","status":"ANSWERED","param":"{not json","duration":"12","user_id":5,"campaign_id":1,"created_at":"0000-00-00 00:00:00","started_at":"yesterday"}}`)
	assert.Nil(t, bad.Params, "a bad param reports no params")
	assert.Equal(t, "{not json", bad.RawParam)
	assert.Equal(t, StatusAnswered, bad.Status, "and the CDR is kept")
	assert.Equal(t, 12*time.Second, bad.Duration)
	assert.Equal(t, "5", bad.UserID)
	assert.True(t, bad.CreatedAt.IsZero())
	assert.True(t, bad.StartedAt.IsZero(), "an unreadable time is zero, not wrong")

	odd := get(`{"data":{"id":"x","status":"BUSY","duration":"abc","keypress":{"k":1},"ended_at":1610339349}}`)
	assert.Equal(t, StatusBusy, odd.Status, "a field of an odd type does not lose the report")
	assert.Zero(t, odd.Duration)
	assert.Empty(t, odd.Keypress)
	assert.Equal(t, time.Unix(1610339349, 0).In(vietnam), odd.EndedAt, "Unix seconds, as some events carry")

	obj := get(`{"data":{"id":"x","param":{"amount":10410000,"name":"A"},"started_at":"2021-01-11T04:28:54Z"}}`)
	assert.Equal(t, map[string]string{"amount": "10410000", "name": "A"}, obj.Params)
	assert.Equal(t, time.Date(2021, 1, 11, 11, 28, 54, 0, vietnam), obj.StartedAt)

	for _, body := range []string{`{"data":{}}`, `{"data":null}`, `<html></html>`} {
		mockJSON(mt, "GET", "https://api.example.test/api/v2/report/x", 200, []byte(body))
		_, err := c.CDR.Get(bg(), "x")
		require.ErrorIs(t, err, ErrUnexpectedResponse, body)
	}
	mockJSON(mt, "GET", "https://api.example.test/api/v2/report/x", 404, []byte(`{"messsage":"Not Found","code":404,"status":false,"data":{"error":"resource_not_found"}}`))
	_, err := c.CDR.Get(bg(), "x")
	require.ErrorIs(t, err, ErrNotFound)

	_, err = c.CDR.Get(bg(), "")
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "CallID", ve.Field)
}

func TestCDRLocationAndEscaping(t *testing.T) {
	f := tel4vnAPI(t)
	f.handle("GET /api/v2/report/{id}", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		writeJSON(w, 200, `{"data":{"id":"`+r.PathValue("id")+`","created_at":"2021-01-11 11:28:45"}}`)
	})
	c := newTestClient(t, f.URL, WithSecretKey(testSecretKey), WithLocation(time.UTC))
	cdr, err := c.CDR.Get(bg(), "a/b c")
	require.NoError(t, err)
	assert.Equal(t, CallID("a/b c"), cdr.ID, "the id is escaped into one path segment")
	assert.Equal(t, time.Date(2021, 1, 11, 11, 28, 45, 0, time.UTC), cdr.CreatedAt)
}

func TestParseCallStatus(t *testing.T) {
	for in, want := range map[string]CallStatus{
		"ANSWERED": StatusAnswered, "NOANWSER": StatusNoAnswer, "NOANSWER": StatusNoAnswer, "no answer": StatusNoAnswer,
		"BUSY": StatusBusy, "CONGESTION": StatusCongestion, "INVALIDNUMBER": StatusInvalidNumber, "ERROR": StatusError,
		"CANCEL": StatusCancel, "FAIL": StatusFail, "Ringing": "Ringing", "": "",
	} {
		assert.Equal(t, want, ParseCallStatus(in), in)
	}
	assert.True(t, StatusBusy.Final())
	assert.False(t, CallStatus("Ringing").Final())
	assert.False(t, CallStatus("").Final())
}
