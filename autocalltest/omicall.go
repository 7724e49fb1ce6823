package autocalltest

import (
	"encoding/json"
	"golang.org/x/text/unicode/norm"
	"net/http"
	"unicode/utf8"
)

// Session is an OMICall auto-call session the sandbox accepted.
type Session struct {
	ID         string
	Name       string
	Voice      string
	Speed      int
	CID        string
	BrandName  string
	Steps      []Step
	Variables  []string
	Phones     []string
	Extensions []string
	UUIDs      []string
}

// Step is one template_dialplans entry.
type Step struct {
	TargetType string `json:"target_type"`
	Target     string `json:"target,omitempty"`
}

// Sessions returns the auto-call sessions accepted so far.
func (s *Server) Sessions() []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Session(nil), s.sessions...)
}

type autoCallIn struct {
	Name              string   `json:"name"`
	Speed             int      `json:"speed"`
	Voice             string   `json:"voice"`
	CID               string   `json:"cid"`
	BrandName         string   `json:"brand_name"`
	TemplateDialplans []Step   `json:"template_dialplans"`
	Variables         []string `json:"variables"`
	variablesSent     bool     // "variables" was in the body, even as []
	PhoneNumberList   []string `json:"phone_number_list"`
	Extensions        []string `json:"extensions"`
}

// POST /api/auto_call/execute_by_phone and execute_by_extension
func (s *Server) executeAutoCall(byPhone bool) handler {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if !s.authorize(w, r, omicall) {
			return
		}
		var in autoCallIn
		if len(body) == 0 {
			omicallInvalid(w, "request_body_required", "Request body is required")
			return
		}
		if err := json.Unmarshal(body, &in); err != nil {
			omicallInvalid(w, "data_is_required", "Please check your input param: "+err.Error())
			return
		}
		var present map[string]json.RawMessage
		_ = json.Unmarshal(body, &present)
		_, in.variablesSent = present["variables"]
		if !byPhone && !in.variablesSent {
			// The page marks variables required (variables*) for extensions.
			omicallInvalid(w, "data_is_required", "variables is required")
			return
		}
		if msg := checkDialplan(&in); msg != "" {
			omicallInvalid(w, "data_is_required", msg)
			return
		}
		targets := in.PhoneNumberList
		if byPhone {
			if len(targets) == 0 {
				omicallInvalid(w, "data_is_required", "phone_number_list is required")
				return
			}
			for _, p := range targets {
				if !validPhone(p) {
					omicallInvalid(w, "invalid_phone_number", "Invalid phone number: "+p)
					return
				}
			}
		} else {
			targets = in.Extensions
			if len(targets) == 0 || in.CID == "" {
				omicallInvalid(w, "data_is_required", "extensions and cid are required")
				return
			}
		}
		chars := 0
		for _, v := range in.Variables {
			chars += utf8.RuneCountInString(norm.NFC.String(v)) // "ế" is one character however it was typed
		}

		s.mu.Lock()
		defer s.mu.Unlock()
		day := s.now.In(vietnam).Format("2006-01-02")
		cost := int64(len(targets)) * CallPrice
		switch {
		case !s.autoCallOn:
			omicallCode(w, "limit_service")
			return
		case chars > SessionChars:
			omicallCode(w, "limit_word_session")
			return
		case s.chars[day]+chars > DailyChars:
			omicallCode(w, "limit_word")
			return
		case s.balance >= 0 && s.balance < cost:
			omicallCode(w, "balance_is_not_enough")
			return
		}
		s.chars[day] += chars
		if s.balance >= 0 {
			s.balance -= cost
		}
		sess := Session{ID: randomHex(12), Name: in.Name, Voice: in.Voice, Speed: in.Speed, CID: in.CID,
			BrandName: in.BrandName, Steps: in.TemplateDialplans, Variables: in.Variables}
		if byPhone {
			sess.Phones = in.PhoneNumberList
			s.sessions = append(s.sessions, sess)
			omicallOK(w, map[string]any{"autocall_id": sess.ID, "name": sess.Name})
			return
		}
		sess.Extensions = in.Extensions
		for range in.Extensions {
			sess.UUIDs = append(sess.UUIDs, uuid())
		}
		s.sessions = append(s.sessions, sess)
		omicallOK(w, map[string]any{"autocall_id": sess.ID, "autocall_uuids": sess.UUIDs})
	}
}

// checkDialplan returns what is wrong with the steps and variables.
func checkDialplan(in *autoCallIn) string {
	if len(in.TemplateDialplans) == 0 {
		return "template_dialplans is required"
	}
	if in.Speed < -3 || in.Speed > 3 {
		return "speed must be from -3 to 3"
	}
	texts := 0
	for _, st := range in.TemplateDialplans {
		switch st.TargetType {
		case "Text_variable":
			texts++
		case "Recording", "Ivr_menu":
			if st.Target == "" {
				return st.TargetType + " needs a target"
			}
		default:
			return "unknown target_type " + st.TargetType
		}
	}
	if texts != len(in.Variables) {
		return "variables must match the Text_variable steps"
	}
	return ""
}
