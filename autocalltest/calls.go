package autocalltest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// call is one TEL4VN call and its planned course.
type call struct {
	id, campaignID, phone, typ, param, codeOTP string
	callbackURL, callbackKey                   string

	created  time.Time
	status   string // the final status
	keypress string
	answered bool
	ended    bool // the end has been reached and called back
}

// outcomes maps the callee's last four digits to a final status.
var outcomes = map[string]string{
	"0001": "BUSY", "0002": "NOANWSER", "0003": "CONGESTION", "0004": "ERROR",
	"0005": "CANCEL", "0006": "FAIL", "0007": "INVALIDNUMBER",
}

// plan chooses the call's outcome from the callee's number.
func (c *call) plan() {
	tail := c.phone[len(c.phone)-4:]
	if st, ok := outcomes[tail]; ok {
		c.status = st
		return
	}
	c.status, c.answered, c.keypress = "ANSWERED", true, "127"
	if strings.HasPrefix(tail, "009") {
		c.keypress = tail[3:]
	}
}

func (c *call) startedAt() time.Time { return c.created.Add(RingTime) }

func (c *call) endsAt() time.Time {
	if c.answered {
		return c.startedAt().Add(TalkTime)
	}
	return c.created.Add(RingTime)
}

const cdrLayout = "2006-01-02 15:04:05"

func vnTime(t time.Time) string { return t.In(vietnam).Format(cdrLayout) }

// cdr is the call's report at sandbox time now: no status while it rings
// or talks, then its final status.
func (c *call) cdr(now time.Time) map[string]any {
	m := map[string]any{
		"id": c.id, "campaign_id": c.campaignID, "phone_number": c.phone, "user_id": "1",
		"type": c.typ, "param": c.param, "created_at": vnTime(c.created),
		"started_at": nil, "ended_at": nil, "duration": 0, "keypress": "127", "code_otp": nil, "status": "",
	}
	if c.answered && !now.Before(c.startedAt()) {
		m["started_at"] = vnTime(c.startedAt())
	}
	if now.Before(c.endsAt()) {
		return m
	}
	m["status"] = c.status
	m["ended_at"] = vnTime(c.endsAt())
	if c.answered {
		m["duration"] = int(TalkTime / time.Second)
		m["keypress"] = c.keypress
		if c.codeOTP != "" {
			m["code_otp"] = c.codeOTP
		}
	}
	return m
}

// Call is a sandbox call as the provider sees it now.
type Call struct {
	ID, CampaignID, Phone, Type string
	Status                      string // empty until the call ends
	Keypress                    string
}

// Calls returns every TEL4VN call placed so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, 0, len(s.callOrder))
	for _, id := range s.callOrder {
		c := s.calls[id]
		cdr := c.cdr(s.now)
		out = append(out, Call{ID: c.id, CampaignID: c.campaignID, Phone: c.phone, Type: c.typ,
			Status: cdr["status"].(string), Keypress: cdr["keypress"].(string)})
	}
	return out
}

// settleLocked marks calls that have ended by now and returns those to
// call back.
func (s *Server) settleLocked() []*call {
	var ended []*call
	for _, id := range s.callOrder {
		c := s.calls[id]
		if c.ended || s.now.Before(c.endsAt()) {
			continue
		}
		c.ended = true
		if c.callbackURL != "" && !s.closed {
			ended = append(ended, c)
			s.cbWG.Add(1)
		}
	}
	return ended
}

// Callback is one delivery attempt of a call event.
type Callback struct {
	URL    string
	CallID string
	Body   []byte
	Status int   // the receiver's HTTP status; 0 when it could not be reached
	Err    error // why it could not be reached
}

// Callbacks returns the delivery attempts so far, oldest first.
func (s *Server) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Callback(nil), s.callbacks...)
}

// WaitForCallbacks waits until the callbacks of calls ended so far are
// delivered or given up.
func (s *Server) WaitForCallbacks() { s.cbWG.Wait() }

// callbackAttempts: like the provider, retry a receiver that fails.
const callbackAttempts = 3

func (s *Server) sendCallback(c *call) {
	s.mu.Lock()
	body, _ := json.Marshal(c.cdr(s.now))
	s.mu.Unlock()
	go func() {
		defer s.cbWG.Done()
		for attempt := 1; attempt <= callbackAttempts; attempt++ {
			status, err := s.postCallback(c, body)
			s.mu.Lock()
			s.callbacks = append(s.callbacks, Callback{URL: c.callbackURL, CallID: c.id, Body: body, Status: status, Err: err})
			s.mu.Unlock()
			if err == nil && status < 300 {
				return
			}
			time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
		}
	}()
}

func (s *Server) postCallback(c *call, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, c.callbackURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.callbackKey != "" {
		req.Header.Set("X-API-Key", c.callbackKey)
	}
	resp, err := s.callback.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
