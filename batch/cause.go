package batch

import autocall "github.com/autocallvn/autocall-go"

// Cause sorts why a job is Refused or Unsent into one word: Record.Cause
// holds it, as the string the journals on disk keep, and Runner.RetryCauses
// selects refused jobs by it. Causes lists every one.
//
// The constants are untyped so that they fit Record.Cause, a string.
type Cause string

// The causes. Their values are stored in journals: they never change.
const (
	CauseQuota    = "quota"    // the plan, balance or daily quota is spent
	CauseRate     = "rate"     // the provider asked to slow down
	CauseTemplate = "template" // the TTS template or one of its values is missing or wrong
	CausePhone    = "phone"    // no callee is a phone the provider or the SDK takes
	CauseCaller   = "caller"   // the calling number is not one the account may use
	CauseAuth     = "auth"     // the credential was refused
	CauseInvalid  = "invalid"  // another bad field of the row
	CauseNetwork  = "network"  // unsent: no connection reached the provider
	CauseToken    = "token"    // unsent: no token could be had
	CauseOther    = "other"

	// Causes of a job the Policy held back (Deferral) or refused.
	CauseHours     = "hours"       // outside the window: deferred until it opens
	CauseFrequency = "frequency"   // the number had an advertising call within the interval
	CauseDoNotCall = "do_not_call" // the number is on the Do-Not-Call list: refused
)

// causes is the one list: each cause, and whether a Refused job carries it
// (the rest are an Unsent job's, which the next run sends anyway).
var causes = []struct {
	cause   Cause
	refusal bool
}{
	{CauseQuota, true},
	{CauseRate, true}, // Unsent now; Refused in journals of 0.2
	{CauseTemplate, true},
	{CausePhone, true},
	{CauseCaller, true},
	{CauseAuth, true},
	{CauseInvalid, true},
	{CauseOther, true},
	{CauseDoNotCall, true},
	{CauseNetwork, false},
	{CauseToken, false},
	{CauseHours, false},
	{CauseFrequency, false},
}

// Causes returns every cause, those a Refused job may carry first.
func Causes() []Cause {
	out := make([]Cause, len(causes))
	for i, c := range causes {
		out[i] = c.cause
	}
	return out
}

// RefusalCauses returns the causes a Refused job may carry: those
// Runner.RetryCauses (the command's --retry-refused) selects by.
func RefusalCauses() []Cause {
	var out []Cause
	for _, c := range causes {
		if c.refusal {
			out = append(out, c.cause)
		}
	}
	return out
}

// sdkCauses is the journal's word for each cause the SDK gives
// (autocall.Outcome.Cause). The words are the same; the table says which
// the journal knows, and anything else is CauseOther.
var sdkCauses = map[autocall.Cause]Cause{
	autocall.CauseAuth:     CauseAuth,
	autocall.CauseQuota:    CauseQuota,
	autocall.CauseRate:     CauseRate,
	autocall.CauseTemplate: CauseTemplate,
	autocall.CausePhone:    CausePhone,
	autocall.CauseCaller:   CauseCaller,
	autocall.CauseInvalid:  CauseInvalid,
	autocall.CauseNetwork:  CauseNetwork,
	autocall.CauseToken:    CauseToken,
	autocall.CauseOther:    CauseOther,
}

// causeFromSDK is the journal's cause for the SDK's.
func causeFromSDK(c autocall.Cause) string {
	if jc, ok := sdkCauses[c]; ok {
		return string(jc)
	}
	return CauseOther
}
