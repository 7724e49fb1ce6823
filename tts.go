package autocall

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// TTSRequest is a text-to-speech call from an imported template.
type TTSRequest struct {
	Caller       string   // the provider-assigned number calls come from
	Callees      []string // any form NormalizePhone accepts
	TemplateName string   // the imported template; may be left empty when Template is set
	// Template, when set, is checked against Params before sending: Params
	// must fill exactly its placeholders.
	Template       *Template
	Params         map[string]string // placeholder → value, sent in NFC; blank is refused; see Money, Number, Digits, Date
	CallbackURL    string            // optional: where call events are POSTed
	CallbackAPIKey string            // optional: sent with each event
}

// reservedParam is the key the template's name travels under in params.
const reservedParam = "template_name"

// ImportTemplate creates a text-to-speech template in a campaign
// (POST /api/v2/campaigns/{campaignId}/voice/import). Names are unique, so
// it is not resent after an unclear failure either: an error matching
// ErrOutcomeUnknown means the template may exist. A success must carry
// data: {"data":null}, {"status":true} or {"code":200} alone is unknown.
func (s *TTSService) ImportTemplate(ctx context.Context, campaignID string, t *Template, opts ...CreateOption) error {
	if t == nil {
		return invalid("Template", "", "nil")
	}
	seg, err := pathSegment("CampaignID", campaignID)
	if err != nil {
		return err
	}
	if err := required("Template.Name", t.Name); err != nil {
		return err
	}
	if err := required("Template.Content", t.Content); err != nil {
		return err
	}
	if err := spoken("Template.Content", t.Content, true); err != nil {
		return err
	}
	for _, k := range t.Placeholders() {
		if k == reservedParam {
			return invalid("Template.Content", "{{"+k+"}}", "template_name is reserved for the template's name")
		}
	}
	var out importData
	return (*service)(s).call(ctx, &request{method: http.MethodPost, path: "/api/v2/campaigns/" + seg + "/voice/import",
		body: map[string]string{"name": t.Name, "content": nfc(t.Content)}, provider: tel4vn, creates: true, onRateLimit: onRateLimitOf(opts)}, &out)
}

// importData is the data of an import's answer. The document shows a copy
// of a campaign result, the sandbox {"campaign_id", "name"}: either way an
// object that says something. {"data":null}, a bare {"status":true} or
// {"code":200} proves nothing was made, so it is no success (and, for a
// create, ErrOutcomeUnknown: the template may exist).
type importData struct{ members int }

func (d *importData) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	d.members = len(m)
	return nil
}

func (d *importData) check() error {
	if d.members == 0 {
		return errMissing("data")
	}
	return nil
}

// Run places text-to-speech calls (POST /api/v2/campaigns/{campaignId}/voice;
// the document's curl points at /voice/import by mistake). It is never sent
// twice unless the first attempt provably did not reach TEL4VN; an error
// matching ErrOutcomeUnknown means calls may have been placed. Callees the
// SDK or the provider refuses are in Rejected, not an error (see OTP.Send).
func (s *TTSService) Run(ctx context.Context, campaignID string, req *TTSRequest, opts ...CreateOption) (*CampaignResult, error) {
	if req == nil {
		return nil, invalid("TTSRequest", "", "nil")
	}
	seg, body, refused, err := campaignCommon(campaignID, req.Caller, req.Callees, req.CallbackURL, req.CallbackAPIKey)
	if err != nil {
		return nil, err
	}
	// Keys and values go in NFC, the form the imported template's keys are
	// stored in: a key typed in NFD would be "Missing TTS Key" at TEL4VN.
	params, err := nfcParams(req.Params)
	if err != nil {
		return nil, err
	}
	name := req.TemplateName
	if req.Template != nil {
		switch {
		case name == "":
			name = req.Template.Name
		case req.Template.Name != "" && name != req.Template.Name:
			return nil, invalid("TemplateName", name, "differs from Template.Name "+req.Template.Name)
		}
		if err := req.Template.checkParams(params); err != nil {
			return nil, err
		}
	}
	if err := required("TemplateName", name); err != nil {
		return nil, err
	}
	for k, v := range req.Params {
		switch {
		case k == "":
			return nil, invalid("Params", "", "empty key")
		case k == reservedParam:
			return nil, invalid("Params."+k, v, "reserved: set TemplateName instead")
		}
		if value, reason := spokenProblem(v, false); reason != "" {
			return nil, invalid("Params."+k, value, reason)
		}
		if strings.TrimSpace(v) == "" {
			return nil, invalid("Params."+k, v, "empty: the customer would hear nothing there")
		}
	}
	params[reservedParam] = name
	body.Params = params
	var out campaignData
	err = (*service)(s).call(ctx, &request{method: http.MethodPost, path: "/api/v2/campaigns/" + seg + "/voice",
		body: body, provider: tel4vn, creates: true, callees: len(body.Callees), limit: answerLimit(len(body.Callees)), secrets: ownSecrets(req.CallbackAPIKey),
		onRateLimit: onRateLimitOf(opts)}, &out)
	if err != nil {
		return nil, err
	}
	return out.result(refused, s.client.redact, req.CallbackAPIKey), nil
}
