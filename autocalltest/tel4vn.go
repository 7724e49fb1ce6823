package autocalltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
)

var placeholderRE = regexp.MustCompile(`\{\{\s*([^{}\s]+)\s*\}\}`)

type campaignIn struct {
	Caller         string         `json:"caller"`
	Callees        []string       `json:"callees"`
	Params         map[string]any `json:"params"`
	CallbackURL    string         `json:"callback_url"`
	CallbackAPIKey string         `json:"callback_apikey"`
}

func (in *campaignIn) param(k string) string {
	switch v := in.Params[k].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// POST /api/v2/campaigns/{campaignId}/otp and /voice
func (s *Server) campaignRun(typ string) handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if !s.authorize(w, r, tel4vn) {
			return
		}
		campaign := r.PathValue("campaignId")
		var in campaignIn
		if err := json.Unmarshal(body, &in); err != nil {
			tel4vnError(w, http.StatusBadRequest, "invalid body: "+err.Error())
			return
		}
		switch {
		case in.Caller == "":
			tel4vnError(w, http.StatusBadRequest, "caller is required")
			return
		case len(in.Callees) == 0:
			tel4vnError(w, http.StatusBadRequest, "callees is required")
			return
		case in.param("template_name") == "":
			tel4vnError(w, http.StatusBadRequest, "params.template_name is required")
			return
		case typ == "OTP" && in.param("code_otp") == "":
			tel4vnError(w, http.StatusBadRequest, "params.code_otp is required")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		// A TTS run whose template is unknown or whose params miss one of its
		// keys is answered per callee, in results.fail, as VIHAT's tooling
		// shows ("Missing TTS Key"): nobody is called.
		refusal := ""
		if typ == "TTS" {
			content, ok := s.templates[campaign+"/"+in.param("template_name")]
			if !ok {
				refusal = "Template Not Found"
			}
			for _, m := range placeholderRE.FindAllStringSubmatch(content, -1) {
				if _, ok := in.Params[m[1]]; !ok && refusal == "" {
					refusal = "Missing TTS Key"
				}
			}
		}
		var good []string
		fail := []map[string]string{}
		for _, p := range in.Callees {
			switch {
			case !validPhone(p):
				fail = append(fail, map[string]string{p: "Wrong Format"})
			case refusal != "":
				fail = append(fail, map[string]string{p: refusal})
			default:
				good = append(good, p)
			}
		}
		cost := int64(len(good)) * CallPrice
		if s.balance >= 0 && s.balance < cost {
			tel4vnError(w, http.StatusBadRequest, "balance_is_not_enough")
			return
		}
		if s.balance >= 0 {
			s.balance -= cost
		}
		param := paramString(in.Params)
		success := []string{}
		for _, p := range good {
			s.seq++
			c := &call{
				id: fmt.Sprintf("1_1_%s_%d_%s_%s", campaign, s.seq, uuid(), p), campaignID: campaign, phone: p,
				typ: typ, param: param, created: s.now, callbackURL: in.CallbackURL, callbackKey: in.CallbackAPIKey,
			}
			if typ == "OTP" {
				c.codeOTP = in.param("code_otp")
			}
			c.plan()
			s.calls[c.id] = c
			s.callOrder = append(s.callOrder, c.id)
			success = append(success, c.id)
		}
		tel4vnOK(w, map[string]any{"campaign_id": campaign, "results": map[string]any{"success": success, "fail": fail}})
	}
}

// paramString encodes params as the CDR's "param": a JSON object in a
// string, keys sorted (encoding/json sorts map keys).
func paramString(params map[string]any) string {
	b, _ := json.Marshal(params)
	return string(b)
}

// POST /api/v2/campaigns/{campaignId}/voice/import
func (s *Server) importTemplate(w http.ResponseWriter, r *http.Request, body []byte) {
	if !s.authorize(w, r, tel4vn) {
		return
	}
	var in struct{ Name, Content string }
	if err := json.Unmarshal(body, &in); err != nil || in.Name == "" || in.Content == "" {
		tel4vnError(w, http.StatusBadRequest, "name and content are required")
		return
	}
	key := r.PathValue("campaignId") + "/" + in.Name
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.templates[key]; dup {
		tel4vnError(w, http.StatusBadRequest, "template name already exists: "+in.Name)
		return
	}
	s.templates[key] = in.Content
	tel4vnOK(w, map[string]any{"campaign_id": r.PathValue("campaignId"), "name": in.Name})
}

// Templates returns the imported templates of a campaign, by name.
func (s *Server) Templates(campaignID string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.templates {
		if len(k) > len(campaignID) && k[:len(campaignID)+1] == campaignID+"/" {
			out[k[len(campaignID)+1:]] = v
		}
	}
	return out
}

// GET /api/v2/report/{callId}
func (s *Server) report(w http.ResponseWriter, r *http.Request, _ []byte) {
	if !s.authorize(w, r, tel4vn) {
		return
	}
	s.mu.Lock()
	c, ok := s.calls[r.PathValue("callId")]
	var cdr map[string]any
	if ok {
		cdr = c.cdr(s.now)
	}
	s.mu.Unlock()
	if !ok {
		tel4vnError(w, http.StatusNotFound, "resource_not_found")
		return
	}
	tel4vnOK(w, cdr)
}

var phoneRE = regexp.MustCompile(`^(0[35789][0-9]{8}|02[0-9]{9})$`)

// validPhone: a Vietnamese number in national form, as the documents send.
func validPhone(p string) bool { return phoneRE.MatchString(p) }
