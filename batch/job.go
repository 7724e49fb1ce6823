package batch

import (
	"context"

	autocall "github.com/autocallvn/autocall-go"
)

// Job is one call-creating request and the key that makes it happen at
// most once. The key is the user's (an order id, a customer id and a
// date): the journal remembers keys, not phones, so two jobs may call one
// phone and one job is never run twice.
type Job struct {
	Key string
	Op  Op
	// Purpose is Transactional (the default) or Advertising: an
	// advertising job is held to the Runner's Policy (Decree 91/2020).
	Purpose Purpose
	// Agreed is what the subscriber agreed to past the Policy's rules
	// (AgreedHours, AgreedFrequency, AgreedDoNotCall, AgreedAll).
	Agreed Agreement
}

// Op is one call-creating operation of either provider: OTP, TTS,
// ByPhone or ByExtension make one.
type Op interface {
	kind() string
	// provider is the client the operation needs.
	provider() autocall.Provider
	// check validates the request without sending anything.
	check() error
	// describe fills what the journal keeps of the request.
	describe(rec *Record)
	// send places the calls and returns what the journal keeps of them.
	send(ctx context.Context, c *autocall.Client, opt autocall.CreateOption) (placed Record, err error)
}

// OTP sends an OTP call (TEL4VN) in a campaign.
func OTP(campaignID string, req *autocall.OTPRequest) Op { return otpOp{campaignID, req} }

// TTS runs a text-to-speech call (TEL4VN) in a campaign.
func TTS(campaignID string, req *autocall.TTSRequest) Op { return ttsOp{campaignID, req} }

// ByPhone runs an OMICall auto-call session to phones.
func ByPhone(req *autocall.PhoneCallRequest) Op { return phoneOp{req} }

// ByExtension runs an OMICall auto-call session to PBX extensions.
func ByExtension(req *autocall.ExtensionCallRequest) Op { return extOp{req} }

type otpOp struct {
	campaign string
	req      *autocall.OTPRequest
}

func (o otpOp) kind() string                { return "otp" }
func (o otpOp) provider() autocall.Provider { return autocall.TEL4VN }

func (o otpOp) check() error {
	if o.req == nil {
		return &autocall.ValidationError{Field: "OTPRequest", Reason: "nil"}
	}
	if o.req.Code == "" || o.req.TemplateName == "" || o.req.Caller == "" {
		return &autocall.ValidationError{Field: "OTPRequest", Reason: "needs Caller, TemplateName and Code"}
	}
	return checkCallees("Callees", o.req.Callees)
}

func (o otpOp) describe(rec *Record) {
	rec.Campaign, rec.Phones = o.campaign, normalized(o.req.Callees)
}

func (o otpOp) send(ctx context.Context, c *autocall.Client, opt autocall.CreateOption) (Record, error) {
	res, err := c.OTP.Send(ctx, o.campaign, o.req, opt)
	return campaignRecord(res), err
}

type ttsOp struct {
	campaign string
	req      *autocall.TTSRequest
}

func (o ttsOp) kind() string                { return "tts" }
func (o ttsOp) provider() autocall.Provider { return autocall.TEL4VN }

func (o ttsOp) check() error {
	if o.req == nil {
		return &autocall.ValidationError{Field: "TTSRequest", Reason: "nil"}
	}
	if o.req.Template != nil {
		if _, err := o.req.Template.Render(o.req.Params); err != nil {
			return err // a missing template value: a bad row
		}
	}
	return checkCallees("Callees", o.req.Callees)
}

func (o ttsOp) describe(rec *Record) {
	rec.Campaign, rec.Phones = o.campaign, normalized(o.req.Callees)
}

func (o ttsOp) send(ctx context.Context, c *autocall.Client, opt autocall.CreateOption) (Record, error) {
	res, err := c.TTS.Run(ctx, o.campaign, o.req, opt)
	return campaignRecord(res), err
}

type phoneOp struct{ req *autocall.PhoneCallRequest }

func (o phoneOp) kind() string                { return "phone" }
func (o phoneOp) provider() autocall.Provider { return autocall.OMICall }

func (o phoneOp) check() error {
	if o.req == nil {
		return &autocall.ValidationError{Field: "PhoneCallRequest", Reason: "nil"}
	}
	return checkCallees("Phones", o.req.Phones)
}

func (o phoneOp) describe(rec *Record) { rec.Phones = normalized(o.req.Phones) }

func (o phoneOp) send(ctx context.Context, c *autocall.Client, opt autocall.CreateOption) (Record, error) {
	sess, err := c.AutoCall.ExecuteByPhone(ctx, o.req, opt)
	if sess == nil {
		return Record{}, err
	}
	return Record{SessionID: sess.ID}, err
}

type extOp struct {
	req *autocall.ExtensionCallRequest
}

func (o extOp) kind() string                { return "extension" }
func (o extOp) provider() autocall.Provider { return autocall.OMICall }

func (o extOp) check() error {
	if o.req == nil {
		return &autocall.ValidationError{Field: "ExtensionCallRequest", Reason: "nil"}
	}
	return nil
}

func (o extOp) describe(*Record) {}

func (o extOp) send(ctx context.Context, c *autocall.Client, opt autocall.CreateOption) (Record, error) {
	sess, err := c.AutoCall.ExecuteByExtension(ctx, o.req, opt)
	if sess == nil {
		return Record{}, err
	}
	return Record{SessionID: sess.ID, CallIDs: sess.CallUUIDs}, err
}

// checkCallees refuses a row none of whose numbers is a Vietnamese phone:
// the SDK would refuse it too, and nothing would be sent.
func checkCallees(field string, phones []string) error {
	if len(phones) == 0 {
		return &autocall.ValidationError{Field: field, Reason: "no phone number"}
	}
	var first error
	for _, p := range phones {
		_, err := autocall.NormalizePhone(p)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func normalized(phones []string) []string {
	out := make([]string, 0, len(phones))
	for _, p := range phones {
		if n, err := autocall.NormalizePhone(p); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// campaignRecord is what the journal keeps of an OTP or TTS answer: its
// call ids, or, when it accepted no callee, a refusal with its reasons.
func campaignRecord(res *autocall.CampaignResult) Record {
	if res == nil {
		return Record{}
	}
	if len(res.Accepted) == 0 {
		return refusedCallees(res.Rejected)
	}
	rec := Record{CallIDs: make([]string, len(res.Accepted))}
	for i, id := range res.Accepted {
		rec.CallIDs[i] = string(id)
	}
	return rec
}
