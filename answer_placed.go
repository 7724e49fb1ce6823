package autocall

import (
	"encoding/json"
	"strconv"

	"github.com/autocallvn/autocall-go/internal/envelope"
)

// showsWork reports whether a create's answer carries a sign that the
// provider did work: an accepted call id (TEL4VN's data.results.success)
// or a session (OMICall's payload.autocall_id or autocall_uuids). An
// answer that says so next to an error status, code or HTTP status
// contradicts itself; calls may have been placed, so it is never read as
// a refusal or a rate limit, either of which would let the call go again.
func showsWork(p provider, data json.RawMessage) bool {
	if len(data) == 0 || data[0] != '{' {
		return false
	}
	if p == omicall {
		var w struct {
			ID    json.RawMessage   `json:"autocall_id"`
			UUIDs []json.RawMessage `json:"autocall_uuids"`
		}
		_ = json.Unmarshal(data, &w) // a payload of another shape shows nothing
		return envelope.String(w.ID) != "" || len(w.UUIDs) > 0
	}
	var w struct {
		Results struct {
			Success []json.RawMessage `json:"success"`
		} `json:"results"`
	}
	// Any element counts, null too: in doubt, the call may have been placed.
	_ = json.Unmarshal(data, &w)
	return len(w.Results.Success) > 0
}

// unaccounted is why a TEL4VN create's success does not account for the
// n callees sent: it accepted none and refused fewer than n distinct
// phones (an entry without a phone, {}, or a phone named twice, names no
// other). The unnamed callees may have been called, so the answer is
// garbled, not a refusal. nil when out is no campaign answer.
func unaccounted(out any, n int) error {
	d, ok := out.(*campaignData)
	if !ok || n == 0 || d.Results == nil || len(d.Results.Success) > 0 {
		return nil
	}
	// Distinct names: a callee refused twice does not stand for another.
	names := make(map[string]struct{}, n)
	for _, f := range d.Results.Fail {
		for phone := range f {
			if phone != "" {
				names[phone] = struct{}{}
			}
		}
	}
	named := len(names)
	if named >= n {
		return nil
	}
	return &gapError{sent: n, named: named}
}

type gapError struct{ sent, named int }

func (e *gapError) Error() string {
	return "the answer accepts no callee and refuses " + strconv.Itoa(e.named) + " of the " +
		strconv.Itoa(e.sent) + " sent: the others may have been called"
}
