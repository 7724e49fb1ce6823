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

// The statuses document 003 lists. The document and servers spell "no
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

// The types document 003 lists.
const (
	CallTypeOTP     CallType = "OTP"
	CallTypeTTS     CallType = "TTS"
	CallTypeDefault CallType = "DEFAULT"
)

// CDR is a call detail report.
type CDR struct {
	ID, CampaignID string
	CodeOTP        string // empty for failed calls
	Keypress       string // the key pressed; "127" means hang-up
	PhoneNumber    string
	UserID         string

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

type cdrWire struct {
	ID          flexString      `json:"id"`
	CampaignID  flexString      `json:"campaign_id"`
	CodeOTP     flexString      `json:"code_otp"`
	CreatedAt   *string         `json:"created_at"`
	StartedAt   *string         `json:"started_at"`
	EndedAt     *string         `json:"ended_at"`
	Duration    flexInt         `json:"duration"`
	Keypress    flexString      `json:"keypress"`
	PhoneNumber flexString      `json:"phone_number"`
	UserID      flexString      `json:"user_id"`
	Param       json.RawMessage `json:"param"`
	Type        string          `json:"type"`
	Status      string          `json:"status"`
}

func (w *cdrWire) check() error {
	if w.ID == "" && w.Status == "" {
		return errMissing("data.id")
	}
	return nil
}

func (w *cdrWire) cdr(loc *time.Location) *CDR {
	c := &CDR{
		ID: string(w.ID), CampaignID: string(w.CampaignID), CodeOTP: string(w.CodeOTP),
		Keypress: string(w.Keypress), PhoneNumber: string(w.PhoneNumber), UserID: string(w.UserID),
		CreatedAt: parseCDRTime(w.CreatedAt, loc), StartedAt: parseCDRTime(w.StartedAt, loc), EndedAt: parseCDRTime(w.EndedAt, loc),
		Duration: time.Duration(w.Duration) * time.Second,
		Type:     CallType(strings.ToUpper(strings.TrimSpace(w.Type))),
		Status:   ParseCallStatus(w.Status),
	}
	c.RawParam, c.Params = decodeParam(w.Param)
	return c
}

// parseCDRTime reads "2006-01-02 15:04:05" in loc, or RFC 3339. Null,
// empty, zero ("0000-00-00 00:00:00") and unreadable times are zero: a
// wrong time is worse than none.
func parseCDRTime(s *string, loc *time.Location) time.Time {
	if s == nil {
		return time.Time{}
	}
	v := strings.TrimSpace(*s)
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

// Get returns the report of one call (GET /api/v2/report/{callId}). A call
// the provider does not know (yet) is an error matching ErrNotFound.
func (s *CDRService) Get(ctx context.Context, callID string) (*CDR, error) {
	seg, err := pathSegment("CallID", callID)
	if err != nil {
		return nil, err
	}
	var out cdrWire
	if err := s.client.do(ctx, &request{method: http.MethodGet, path: "/api/v2/report/" + seg, provider: tel4vn}, &out); err != nil {
		return nil, err
	}
	return out.cdr(s.client.loc), nil
}
