package autocall

import (
	"fmt"
	"slices"
	"strings"
)

// CampaignResult is what TEL4VN answers to an OTP or TTS run: the calls it
// accepted and the callees not called. Some callees may be refused while
// others are called; that is not an error.
type CampaignResult struct {
	CampaignID string
	Accepted   []CallID    // data.results.success
	Rejected   []Rejection // refused by the SDK before sending, then data.results.fail
}

// CallID identifies one call, e.g.
// "1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321".
type CallID string

// Phone is the callee's number: the last part of the id.
func (id CallID) Phone() string {
	s := string(id)
	return s[strings.LastIndexByte(s, '_')+1:]
}

// Rejection is a callee that was not called, and why. Either the SDK
// refused the number before sending (Phone as given; Err is a
// *ValidationError naming the field, matching ErrInvalidPhone for a number
// that is not a Vietnamese phone), or the provider refused it in its answer
// (Phone as the provider wrote it, Reason its words, "Wrong Format"; Err
// matches ErrRefused, and ErrInvalidPhone when the reason is the number's
// format).
type Rejection struct {
	Phone, Reason string
	Err           error
}

// CalleeError is a callee the provider refused in an answer that placed
// other calls.
type CalleeError struct{ Phone, Reason string }

func (e *CalleeError) Error() string {
	return fmt.Sprintf("autocall: callee %s refused by the provider: %s", e.Phone, e.Reason)
}

// Is matches ErrRefused, and ErrInvalidPhone when the provider says the
// number is malformed ("Wrong Format", "invalid …").
func (e *CalleeError) Is(target error) bool {
	switch target {
	case ErrRefused:
		return true
	case ErrInvalidPhone:
		r := strings.ToLower(e.Reason)
		return strings.Contains(r, "format") || strings.Contains(r, "invalid")
	}
	return false
}

// campaignData is data of an OTP or TTS answer.
type campaignData struct {
	Error      errField         `json:"error"`
	CampaignID flexString       `json:"campaign_id"`
	Results    *campaignResults `json:"results"`
}

// campaignResults is data.results: named, so that the plain decoder
// (answer_scan.go) can fill it too.
type campaignResults struct {
	// []string, not []CallID: encoding/json looks for an Unmarshaler on
	// every element of a named type with methods, a third of the
	// decode's time for 10,000 ids.
	Success []string            `json:"success"`
	Fail    []map[string]string `json:"fail"`
}

func (d *campaignData) dataError() bool { return d.Error.set }

// check: we always send at least one callee, so an answer that accounts
// for none is not a real success, and calls may have been placed.
func (d *campaignData) check() error {
	if d.Results == nil || len(d.Results.Success)+len(d.Results.Fail) == 0 {
		return errMissing("data.results")
	}
	for _, id := range d.Results.Success {
		// An accepted call without its id (null, "") is a garbled answer:
		// the call may have been placed, and nobody could look it up.
		if strings.TrimSpace(id) == "" {
			return errMissing("data.results.success[]")
		}
	}
	return nil
}

// result builds the result; the provider's per-callee words go through
// rd, with the request's own secret extra, since a careless server echoes
// the callback key there too.
func (d *campaignData) result(refused []Rejection, rd *redactor, extra string) *CampaignResult {
	var r *CampaignResult
	if len(d.Results.Success) == 1 {
		// The usual OTP: the result and its one id in one allocation.
		one := &struct {
			res CampaignResult
			ids [1]CallID
		}{}
		r = &one.res
		r.Accepted = one.ids[:]
	} else {
		r = &CampaignResult{Accepted: make([]CallID, len(d.Results.Success))}
	}
	r.CampaignID, r.Rejected = string(d.CampaignID), refused
	for i, id := range d.Results.Success {
		r.Accepted[i] = CallID(id)
	}
	var m *matcher // built once, for the first refusal
	for _, f := range d.Results.Fail {
		keys := make([]string, 0, len(f))
		for k := range f {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if m == nil {
				m = rd.matcherFor(extra)
			}
			phone, reason := m.string(k), m.string(f[k])
			r.Rejected = append(r.Rejected, Rejection{Phone: phone, Reason: reason, Err: &CalleeError{Phone: phone, Reason: reason}})
		}
	}
	return r
}

// campaignBody is the wire form of OTP and TTS runs.
type campaignBody struct {
	Caller         string   `json:"caller"`
	Callees        []string `json:"callees"`
	Params         any      `json:"params"` // otpParams, or the TTS map
	CallbackURL    string   `json:"callback_url,omitempty"`
	CallbackAPIKey string   `json:"callback_apikey,omitempty"`

	otp otpParams // an OTP run's params, which Params points at
}

// campaignCommon checks what OTP and TTS runs share.
func campaignCommon(campaignID, caller string, callees []string, cbURL, cbKey string) (string, *campaignBody, []Rejection, error) {
	seg, err := pathSegment("CampaignID", campaignID)
	if err != nil {
		return "", nil, nil, err
	}
	b := &campaignBody{CallbackURL: cbURL, CallbackAPIKey: cbKey}
	if b.Caller, err = callerNumber("Caller", caller, true); err != nil {
		return "", nil, nil, err
	}
	var rejected []Rejection
	if b.Callees, rejected, err = normalizePhones("Callees", callees); err != nil {
		return "", nil, nil, err
	}
	if err = callbackURL("CallbackURL", cbURL); err != nil {
		return "", nil, nil, err
	}
	if cbKey != "" && cbURL == "" {
		return "", nil, nil, invalid("CallbackAPIKey", "", "set without CallbackURL")
	}
	return seg, b, rejected, nil
}

// String summarises the result for logs: "2 accepted, 1 rejected".
func (r *CampaignResult) String() string {
	return fmt.Sprintf("campaign %s: %d accepted, %d rejected", r.CampaignID, len(r.Accepted), len(r.Rejected))
}
