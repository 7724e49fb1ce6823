package autocalltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ControlPrefix is where WithControlAPI serves the sandbox's own API.
const ControlPrefix = "/_sandbox/"

// WithControlAPI serves the sandbox's own state and fault scripting over
// HTTP under ControlPrefix, so that a test in any language can do what a
// Go test does with Calls, Requests and FailNext (`autocall sandbox` turns
// it on). Bodies are JSON; the API is unauthenticated, for a sandbox on
// loopback, and its requests are neither recorded nor faulted.
//
//	GET    /_sandbox/calls     {"calls": [{"id", "campaign_id", "phone", "type", "status", "keypress"}]}
//	                           every TEL4VN call placed, oldest first; status is "" until the call ends
//	GET    /_sandbox/sessions  {"sessions": [{"id", "name", "phones", "extensions", "steps", "uuids", …}]}
//	                           every OMICall auto-call session accepted
//	GET    /_sandbox/requests  {"requests": [{"method", "path", "query", "header", "body", "time"}]}
//	                           what the sandbox received, oldest first, secrets redacted;
//	                           ?path=/api/v2/campaigns/1/otp keeps one path's (a trailing
//	                           "*" keeps a prefix's, as for faults)
//	POST   /_sandbox/faults    {"path": "/api/v2/campaigns/1/otp", "count": 1, "process": true, "reset": true}
//	                           scripts the next count (default 1) requests to path (a trailing
//	                           "*" matches a prefix) as Fault says: delay_ms, process, reset,
//	                           html, status, body, content_type, header ({"Name": "value"});
//	                           a fault that would do nothing, or whose fields conflict (reset
//	                           with status, html with body…), is refused
//	DELETE /_sandbox/faults    drops every fault not used yet
//	POST   /_sandbox/advance   {"seconds": 25}: moves the clock, as Advance;
//	                           {"to": "2026-12-01T16:59:00+07:00"} moves it to a time (never back)
//	GET    /_sandbox/now       {"now": "2026-12-01T16:59:00+07:00"}: the sandbox clock
//
// A mistake (an unknown field, no path, a fault doing nothing, conflicting
// fields) is answered 400 with {"error": "…"} naming it.
func WithControlAPI() Option { return func(s *Server) { s.control = true } }

// faultIn is a fault as POST /_sandbox/faults takes it.
type faultIn struct {
	Path        string            `json:"path"`
	Count       *int              `json:"count"`
	DelayMS     int               `json:"delay_ms"`
	Process     bool              `json:"process"`
	Reset       bool              `json:"reset"`
	HTML        bool              `json:"html"`
	Status      int               `json:"status"`
	Body        string            `json:"body"`
	ContentType string            `json:"content_type"`
	Header      map[string]string `json:"header"`
}

// serveControl answers a request under ControlPrefix.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request, body []byte) {
	switch route := r.Method + " " + strings.TrimPrefix(r.URL.Path, ControlPrefix); route {
	case "GET calls":
		controlJSON(w, http.StatusOK, map[string]any{"calls": s.callsOut()})
	case "GET sessions":
		controlJSON(w, http.StatusOK, map[string]any{"sessions": s.sessionsOut()})
	case "GET requests":
		controlJSON(w, http.StatusOK, map[string]any{"requests": s.requestsOut(r.URL.Query().Get("path"))})
	case "POST faults":
		var in faultIn
		if err := decodeStrict(body, &in); err != nil {
			controlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		n, err := in.check()
		if err != nil {
			controlJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		f := Fault{Delay: time.Duration(in.DelayMS) * time.Millisecond, Process: in.Process, Reset: in.Reset, HTML: in.HTML,
			Status: in.Status, Body: in.Body, ContentType: in.ContentType}
		if len(in.Header) > 0 {
			f.Header = http.Header{}
			for k, v := range in.Header {
				f.Header.Set(k, v)
			}
		}
		s.FailNext(in.Path, n, f)
		controlJSON(w, http.StatusCreated, map[string]any{"path": in.Path, "count": n})
	case "DELETE faults":
		s.mu.Lock()
		s.faults = map[string][]Fault{}
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case "GET now":
		controlJSON(w, http.StatusOK, map[string]any{"now": s.Now().Format(time.RFC3339Nano)})
	case "POST advance":
		var in struct {
			Seconds float64   `json:"seconds"`
			To      time.Time `json:"to"`
		}
		err := decodeStrict(body, &in)
		var d time.Duration
		if err == nil && !in.To.IsZero() {
			d = in.To.Sub(s.Now())
		} else {
			d = time.Duration(in.Seconds * float64(time.Second))
		}
		if err != nil || d < 0 || (in.Seconds != 0 && !in.To.IsZero()) {
			controlJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"seconds": N}, N >= 0, or {"to": "2026-12-01T16:59:00+07:00"}, not before now: the clock never goes back`})
			return
		}
		s.Advance(d)
		controlJSON(w, http.StatusOK, map[string]any{"now": s.Now().Format(time.RFC3339Nano)})
	default:
		controlJSON(w, http.StatusNotFound, map[string]string{"error": "no such sandbox endpoint: " + route +
			" (GET calls, sessions, requests, now; POST faults, advance; DELETE faults)"})
	}
}

func (in faultIn) check() (int, error) {
	n := 1
	if in.Count != nil {
		n = *in.Count
	}
	switch {
	case !strings.HasPrefix(in.Path, "/"):
		return 0, fmt.Errorf(`"path" must be a request path such as "/api/v2/campaigns/1/otp", not %q`, in.Path)
	case strings.HasPrefix(in.Path, ControlPrefix):
		return 0, fmt.Errorf("the sandbox's own endpoints cannot be faulted")
	case n < 1 || n > 1_000_000:
		return 0, fmt.Errorf(`"count" must be 1 to 1000000, not %d`, n)
	case in.DelayMS < 0 || in.DelayMS > 600_000:
		return 0, fmt.Errorf(`"delay_ms" must be 0 to 600000, not %d`, in.DelayMS)
	case in.Status != 0 && (in.Status < 100 || in.Status > 599):
		return 0, fmt.Errorf(`"status" must be an HTTP status, not %d`, in.Status)
	}
	return n, in.checkBehaviour()
}

// checkBehaviour refuses a fault that would do nothing, or would silently
// drop part of what was asked: a test scripting it would pass for the
// wrong reason.
func (in faultIn) checkBehaviour() error {
	var with []string // what a reset or an HTML page would ignore
	for _, f := range []struct {
		name string
		set  bool
	}{{"status", in.Status != 0}, {"body", in.Body != ""}, {"content_type", in.ContentType != ""}, {"header", len(in.Header) > 0}} {
		if f.set {
			with = append(with, `"`+f.name+`"`)
		}
	}
	switch {
	case in.Reset && in.HTML:
		return fmt.Errorf(`"reset" and "html" conflict: a reset connection sends no page; give one`)
	case in.Reset && len(with) > 0:
		return fmt.Errorf(`"reset" conflicts with %s: a reset connection sends no answer; give one or the other`, strings.Join(with, ", "))
	case in.HTML && (in.Body != "" || in.ContentType != ""):
		return fmt.Errorf(`"html" conflicts with "body" and "content_type": the page is the sandbox's own; use "status" with "body" for an answer of yours`)
	case in.Status == 0 && !in.HTML && (in.Body != "" || in.ContentType != ""):
		return fmt.Errorf(`"body" and "content_type" need "status": the answer's status`)
	case !in.Reset && !in.HTML && in.Status == 0 && in.DelayMS == 0 && len(in.Header) == 0:
		return fmt.Errorf(`the fault does nothing: give "reset", "html", "status" (with "body"), "delay_ms" or "header"` +
			` ("process" alone places the call and answers as usual)`)
	}
	return nil
}

// decodeStrict decodes one JSON object and refuses unknown fields: a
// misspelt "proces" must not script a different fault silently.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("the body must be one JSON object: %v", err)
	}
	if dec.More() {
		return fmt.Errorf("the body must be one JSON object")
	}
	return nil
}

func controlJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (s *Server) callsOut() []map[string]string {
	calls := s.Calls()
	out := make([]map[string]string, len(calls))
	for i, c := range calls {
		out[i] = map[string]string{"id": c.ID, "campaign_id": c.CampaignID, "phone": c.Phone, "type": c.Type,
			"status": c.Status, "keypress": c.Keypress}
	}
	return out
}

func (s *Server) sessionsOut() []map[string]any {
	sessions := s.Sessions()
	out := make([]map[string]any, len(sessions))
	for i, x := range sessions {
		out[i] = map[string]any{"id": x.ID, "name": x.Name, "voice": x.Voice, "speed": x.Speed, "cid": x.CID,
			"brand_name": x.BrandName, "steps": nonNil(x.Steps), "variables": nonNil(x.Variables),
			"phones": nonNil(x.Phones), "extensions": nonNil(x.Extensions), "uuids": nonNil(x.UUIDs)}
	}
	return out
}

func (s *Server) requestsOut(path string) []map[string]any {
	out := []map[string]any{}
	for _, r := range s.Requests() {
		if prefix, ok := strings.CutSuffix(path, "*"); ok {
			if !strings.HasPrefix(r.Path, prefix) {
				continue
			}
		} else if path != "" && r.Path != path {
			continue
		}
		out = append(out, map[string]any{"method": r.Method, "path": r.Path, "query": r.Query, "header": r.Header,
			"body": string(r.Body), "time": r.Time.Format(time.RFC3339Nano)})
	}
	return out
}

// nonNil makes an absent list [] in JSON, not null: simpler for any client.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
