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
	switch s { // the common case: already the canonical spelling
	case string(StatusAnswered), string(StatusNoAnswer), string(StatusBusy), string(StatusCongestion),
		string(StatusInvalidNumber), string(StatusError), string(StatusCancel), string(StatusFail):
		return CallStatus(s)
	}
	var buf [24]byte
	k := buf[:0]
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '-' || c == '_' || c == '\t':
		case c >= 'a' && c <= 'z':
			k = append(k, c-'a'+'A')
		default:
			k = append(k, c)
		}
		if len(k) > len(buf) {
			return CallStatus(strings.TrimSpace(s))
		}
	}
	switch k := string(k); k {
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

// cdrWire is data of a report answer, read leniently and typed: each
// member is a text (a string or a number's JSON text, trimmed) or nothing,
// never an error, so that one odd field does not fail a report. Member
// names match in any case, as encoding/json matches them ("Status" is
// status); of two spellings of one member, the later in the body wins.
type cdrWire struct {
	ID          text            `json:"id"`
	CampaignID  text            `json:"campaign_id"`
	CodeOTP     text            `json:"code_otp"`
	Keypress    text            `json:"keypress"`
	PhoneNumber text            `json:"phone_number"`
	UserID      text            `json:"user_id"`
	CreatedAt   text            `json:"created_at"`
	StartedAt   text            `json:"started_at"`
	EndedAt     text            `json:"ended_at"`
	Duration    text            `json:"duration"`
	Type        text            `json:"type"`
	Status      text            `json:"status"`
	Param       json.RawMessage `json:"param"`
	Error       errField        `json:"error"`
}

func (w *cdrWire) dataError() bool { return w.Error.set }

func (w *cdrWire) check() error {
	if w.ID == "" && w.Status == "" {
		return errMissing("data.id")
	}
	return nil
}

func (w *cdrWire) cdr(loc *time.Location) *CDR {
	c := &CDR{
		ID: CallID(w.ID), CampaignID: string(w.CampaignID), CodeOTP: string(w.CodeOTP),
		Keypress: string(w.Keypress), PhoneNumber: string(w.PhoneNumber), UserID: string(w.UserID),
		CreatedAt: w.CreatedAt.time(loc), StartedAt: w.StartedAt.time(loc), EndedAt: w.EndedAt.time(loc),
		Duration: time.Duration(w.Duration.int()) * time.Second,
		Type:     CallType(strings.ToUpper(string(w.Type))),
		Status:   ParseCallStatus(string(w.Status)),
	}
	c.RawParam, c.Params = decodeParam(w.Param)
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
