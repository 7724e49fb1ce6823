package autocall

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Voice is a text-to-speech voice. The set is open: other names the
// provider offers can be used as Voice("name").
type Voice string

// The voices OMICall's API gọi tự động page names.
const (
	VoiceBanMai Voice = "banmai" // female, Northern
	VoiceLeMinh Voice = "leminh" // male, Northern
	VoiceLanNhi Voice = "lannhi" // female, Southern
)

// PhoneCallRequest is an auto-call session to customers' phones.
// Zero fields are left out, so the provider's defaults apply.
type PhoneCallRequest struct {
	Name     string    // the session's name
	Voice    Voice     // for Text steps
	Speed    int       // -3 (slow) … 3 (fast); 0 is normal
	CID      string    // caller number; default: the provider's choice
	Dialplan *Dialplan // what is played
	Phones   []string  // any form NormalizePhone accepts; sent in national form

	NumRetry        int           // calls again when not answered; default 0
	NumPerCall      int           // calls placed at once; default 15
	DistancePerCall time.Duration // between calls, whole seconds; default 30s
	DistanceRetry   time.Duration // between retries, whole seconds; default 0
}

// ExtensionCallRequest is an auto-call to extensions of the company's PBX.
type ExtensionCallRequest struct {
	Extensions []string  // extension numbers ("101")
	CID        string    // hotline shown to the extension; required
	BrandName  string    // shown instead of the hotline
	Name       string    // the session's name
	Voice      Voice     // for Text steps
	Speed      int       // -3 … 3
	Dialplan   *Dialplan // what is played
}

// AutoCallSession is a session the provider accepted.
type AutoCallSession struct {
	ID        string   // autocall_id
	Name      string   // name, when the provider echoes it
	CallUUIDs []string // autocall_uuids (by extension)
	// Rejected: numbers of PhoneCallRequest.Phones that the SDK did not
	// send (malformed, or given twice); the others were.
	Rejected []Rejection
}

// autoCallBody is the wire form of both requests.
type autoCallBody struct {
	Name              string         `json:"name,omitempty"`
	Speed             int            `json:"speed,omitempty"`
	Voice             Voice          `json:"voice,omitempty"`
	CID               string         `json:"cid,omitempty"`
	BrandName         string         `json:"brand_name,omitempty"`
	TemplateDialplans []dialplanStep `json:"template_dialplans"`
	Variables         []string       `json:"variables"`
	PhoneNumberList   []string       `json:"phone_number_list,omitempty"`
	Extensions        []string       `json:"extensions,omitempty"`
	NumRetry          int            `json:"num_retry,omitempty"`
	NumPerCall        int            `json:"num_per_call,omitempty"`
	DistancePerCall   int64          `json:"distance_per_call,omitempty"`
	DistanceRetry     int64          `json:"distance_retry,omitempty"`
}

type autoCallPayload struct {
	AutocallID    flexString `json:"autocall_id"`
	Name          string     `json:"name"`
	AutocallUUIDs []string   `json:"autocall_uuids"`
}

// check: a success without its id may still have placed calls.
func (p *autoCallPayload) check() error {
	if p.AutocallID == "" {
		return errMissing("payload.autocall_id")
	}
	return nil
}

func (p *autoCallPayload) session() *AutoCallSession {
	return &AutoCallSession{ID: string(p.AutocallID), Name: p.Name, CallUUIDs: p.AutocallUUIDs}
}

// ExecuteByPhone creates an auto-call session to req.Phones and starts it
// (POST /api/auto_call/execute_by_phone). It is never sent twice unless the
// first attempt provably did not reach OMICall; an error matching
// ErrOutcomeUnknown means calls may have been placed. A malformed or
// repeated number among good ones is left out and listed in the session's
// Rejected; only a list with no good number is refused whole.
func (s *AutoCallService) ExecuteByPhone(ctx context.Context, req *PhoneCallRequest, opts ...CreateOption) (*AutoCallSession, error) {
	if req == nil {
		return nil, invalid("PhoneCallRequest", "", "nil")
	}
	body, err := voiceAndPlan(req.Name, req.Voice, req.Speed, req.Dialplan)
	if err != nil {
		return nil, err
	}
	var refused []Rejection
	if body.PhoneNumberList, refused, err = normalizePhones("Phones", req.Phones); err != nil {
		return nil, err
	}
	if body.CID, err = callerNumber("CID", req.CID, false); err != nil {
		return nil, err
	}
	if err = nonNegative("NumRetry", req.NumRetry); err != nil {
		return nil, err
	}
	if err = nonNegative("NumPerCall", req.NumPerCall); err != nil {
		return nil, err
	}
	body.NumRetry, body.NumPerCall = req.NumRetry, req.NumPerCall
	if body.DistancePerCall, err = wholeSeconds("DistancePerCall", req.DistancePerCall); err != nil {
		return nil, err
	}
	if body.DistanceRetry, err = wholeSeconds("DistanceRetry", req.DistanceRetry); err != nil {
		return nil, err
	}
	sess, err := s.execute(ctx, "/api/auto_call/execute_by_phone", body, opts)
	if sess != nil {
		sess.Rejected = refused
	}
	return sess, err
}

// ExecuteByExtension creates an auto-call to PBX extensions and starts it
// (POST /api/auto_call/execute_by_extension), with the same guarantee as
// ExecuteByPhone.
func (s *AutoCallService) ExecuteByExtension(ctx context.Context, req *ExtensionCallRequest, opts ...CreateOption) (*AutoCallSession, error) {
	if req == nil {
		return nil, invalid("ExtensionCallRequest", "", "nil")
	}
	body, err := voiceAndPlan(req.Name, req.Voice, req.Speed, req.Dialplan)
	if err != nil {
		return nil, err
	}
	if body.CID, err = callerNumber("CID", req.CID, true); err != nil {
		return nil, err
	}
	if len(req.Extensions) == 0 {
		return nil, invalid("Extensions", "", "no extension")
	}
	if err := maxCallees("Extensions", len(req.Extensions)); err != nil {
		return nil, err
	}
	seen := make(map[string]int, len(req.Extensions))
	for i, ext := range req.Extensions {
		if required("", ext) != nil {
			return nil, invalid(indexed("Extensions", i), "", "empty")
		}
		if j, dup := seen[ext]; dup {
			return nil, invalid(indexed("Extensions", i), ext, "same extension as "+indexed("Extensions", j))
		}
		seen[ext] = i
	}
	body.Extensions = req.Extensions
	body.BrandName = nfc(req.BrandName)
	return s.execute(ctx, "/api/auto_call/execute_by_extension", body, opts)
}

func voiceAndPlan(name string, voice Voice, speed int, plan *Dialplan) (*autoCallBody, error) {
	if speed < -3 || speed > 3 {
		return nil, invalid("Speed", fmt.Sprint(speed), "must be from -3 to 3")
	}
	if err := spoken("Name", name, false); err != nil {
		return nil, err
	}
	steps, vars, err := plan.wire()
	if err != nil {
		return nil, err
	}
	return &autoCallBody{Name: nfc(name), Speed: speed, Voice: voice, TemplateDialplans: steps, Variables: vars}, nil
}

func (s *AutoCallService) execute(ctx context.Context, path string, body *autoCallBody, opts []CreateOption) (*AutoCallSession, error) {
	var out autoCallPayload
	err := (*service)(s).call(ctx, &request{method: http.MethodPost, path: path, body: body, provider: omicall, creates: true,
		limit: answerLimit(len(body.PhoneNumberList) + len(body.Extensions)), onRateLimit: onRateLimitOf(opts)}, &out)
	if err != nil {
		return nil, err
	}
	return out.session(), nil
}
