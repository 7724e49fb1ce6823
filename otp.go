package autocall

import (
	"context"
	"net/http"
)

// OTPRequest is a voice call that reads a one-time code.
type OTPRequest struct {
	Caller         string   // the provider-assigned number calls come from
	Callees        []string // any form NormalizePhone accepts
	TemplateName   string   // the OTP script (template_name)
	Code           string   // the code read out (code_otp)
	CallbackURL    string   // optional: where call events are POSTed
	CallbackAPIKey string   // optional: sent with each event
}

// otpParams is an OTP request's params: a struct, not a map, so that
// encoding it sorts and allocates nothing.
type otpParams struct {
	CodeOTP      string `json:"code_otp"`
	TemplateName string `json:"template_name"`
}

// Send places OTP calls in a campaign
// (POST /api/v2/campaigns/{campaignId}/otp; the document's "GET" is a
// mistake). It is never sent twice unless the first attempt provably did
// not reach TEL4VN; an error matching ErrOutcomeUnknown means calls may
// have been placed. Callees that are not called are in Rejected, not an error: those the
// SDK refused before sending (a malformed number among good ones) and those
// the provider refused. Only a request with no good callee is refused whole.
func (s *OTPService) Send(ctx context.Context, campaignID string, req *OTPRequest, opts ...CreateOption) (*CampaignResult, error) {
	if req == nil {
		return nil, invalid("OTPRequest", "", "nil")
	}
	seg, body, refused, err := campaignCommon(campaignID, req.Caller, req.Callees, req.CallbackURL, req.CallbackAPIKey)
	if err != nil {
		return nil, err
	}
	if err := required("TemplateName", req.TemplateName); err != nil {
		return nil, err
	}
	if err := required("Code", req.Code); err != nil {
		return nil, err
	}
	if err := spoken("Code", req.Code, false); err != nil {
		return nil, err
	}
	// Held inside body, which is on the heap already: boxing a pointer to
	// it into Params allocates nothing.
	body.otp = otpParams{TemplateName: req.TemplateName, CodeOTP: nfc(req.Code)}
	body.Params = &body.otp
	var out campaignData
	err = (*service)(s).call(ctx, &request{method: http.MethodPost, path: "/api/v2/campaigns/" + seg + "/otp",
		body: body, provider: tel4vn, creates: true, callees: len(body.Callees), limit: answerLimit(len(body.Callees)), secrets: ownSecrets(req.CallbackAPIKey),
		onRateLimit: onRateLimitOf(opts)}, &out)
	if err != nil {
		return nil, err
	}
	return out.result(refused, s.client.redact, req.CallbackAPIKey), nil
}
