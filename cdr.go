package autocall

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// CallStatus is a call's disposition. Statuses the SDK does not know are
// kept as they came.
type CallStatus string

// The statuses TEL4VN's Autocall API Reference lists. The document and servers spell "no
// answer" NOANWSER; both spellings become StatusNoAnswer.
const (
	StatusAnswered      CallStatus = "ANSWERED"
	StatusNoAnswer      CallStatus = "NOANSWER"
	StatusBusy          CallStatus = "BUSY"
	StatusCongestion    CallStatus = "CONGESTION"
	StatusInvalidNumber CallStatus = "INVALIDNUMBER"
	StatusError         CallStatus = "ERROR"
	StatusCancel        CallStatus = "CANCEL"
	StatusFail          CallStatus = "FAIL"
)

// ParseCallStatus reads a status as a provider writes it: any case, either
// spelling of "no answer", spaces and dashes ignored ("NO ANSWER").
func ParseCallStatus(s string) CallStatus {
	k := strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "_", "").Replace(strings.TrimSpace(s)))
	switch k {
	case "NOANWSER", "NOANSWER":
		return StatusNoAnswer
	case string(StatusAnswered), string(StatusBusy), string(StatusCongestion), string(StatusInvalidNumber),
		string(StatusError), string(StatusCancel), string(StatusFail):
		return CallStatus(k)
	}
	return CallStatus(strings.TrimSpace(s))
}

// Final reports whether the status is one a call ends with. Unknown and
// empty statuses are not final.
func (s CallStatus) Final() bool {
	switch s {
	case StatusAnswered, StatusNoAnswer, StatusBusy, StatusCongestion, StatusInvalidNumber, StatusError, StatusCancel, StatusFail:
		return true
	}
	return false
}

// CallType is what kind of call a CDR records.
type CallType string

// The types TEL4VN's Autocall API Reference lists.
const (
	CallTypeOTP     CallType = "OTP"
	CallTypeTTS     CallType = "TTS"
	CallTypeDefault CallType = "DEFAULT"
)

// CDR is a call detail report.
type CDR struct {
	ID          CallID
	CampaignID  string
	CodeOTP     string // empty for failed calls
	Keypress    string // the key pressed; "127" means hang-up
	PhoneNumber string
	UserID      string

	CreatedAt, StartedAt, EndedAt time.Time // in the Client's location; zero when absent
	Duration                      time.Duration

	// Params is "param" decoded. Nil when param is absent or not a JSON
	// object; RawParam keeps it as it came.
	Params   map[string]string
	RawParam string

	Type   CallType
	Status CallStatus
}

// Answered reports whether the callee picked up.
func (c *CDR) Answered() bool { return c.Status == StatusAnswered }

// KeypressHangup is the keypress value that means no key, the callee hung up.
const KeypressHangup = "127"

// cdrTimeLayout is how TEL4VN writes times, in Vietnam time.
const cdrTimeLayout = "2006-01-02 15:04:05"

// cdrWire is data of a report answer, read leniently.
type cdrWire struct{ f fields }

func (w *cdrWire) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &w.f) }

func (w *cdrWire) check() error {
	if w.f.str("id") == "" && w.f.str("status") == "" {
		return errMissing("data.id")
	}
	return nil
}

func (w *cdrWire) cdr(loc *time.Location) *CDR {
	f := w.f
	c := &CDR{
		ID: CallID(f.str("id")), CampaignID: f.str("campaign_id"), CodeOTP: f.str("code_otp"),
		Keypress: f.str("keypress"), PhoneNumber: f.str("phone_number"), UserID: f.str("user_id"),
		CreatedAt: f.time(loc, "created_at"), StartedAt: f.time(loc, "started_at"), EndedAt: f.time(loc, "ended_at"),
		Duration: time.Duration(f.int("duration")) * time.Second,
		Type:     CallType(strings.ToUpper(f.str("type"))),
		Status:   ParseCallStatus(f.str("status")),
	}
	c.RawParam, c.Params = decodeParam(f["param"])
	return c
}

// Get returns the report of one call (GET /api/v2/report/{callId}). A call
// the provider does not know (yet) is an error matching ErrNotFound.
func (s *CDRService) Get(ctx context.Context, callID CallID) (*CDR, error) {
	seg, err := pathSegment("CallID", string(callID))
	if err != nil {
		return nil, err
	}
	var out cdrWire
	if err := (*service)(s).call(ctx, &request{method: http.MethodGet, path: "/api/v2/report/" + seg, provider: tel4vn}, &out); err != nil {
		return nil, err
	}
	return out.cdr(s.client.loc), nil
}
