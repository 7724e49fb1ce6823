package autocall

import (
	"fmt"
	"sync"
	"unicode/utf8"
)

// Target types of a dialplan step, as OMICall names them.
const (
	targetRecording = "Recording"
	targetText      = "Text_variable"
	targetIVRMenu   = "Ivr_menu"
)

// Dialplan is what an auto-call plays, step by step: recordings, spoken
// text and key-press (IVR) menus. Build it with NewDialplan and chain:
//
//	autocall.NewDialplan().Text("Đơn hàng của bạn là").Text("CKHDKD00203").Recording("5ed0c6dffb7b390007e5211")
//
// It becomes the request's template_dialplans and variables: each Text is a
// Text_variable step whose words are the next entry of variables. A
// Dialplan is checked when a request is sent; the builder itself never fails.
//
// A Dialplan is immutable: each call returns a new plan and leaves its
// receiver as it was, so a shared base (a package-level greeting) can be
// extended from many goroutines, and base.Recording("a") and
// base.Recording("b") are two different plans. A nil *Dialplan is empty.
type Dialplan struct {
	steps []dialplanStep

	// The wire form, computed once: a plan never changes after it is built,
	// and one plan is often sent to many customers.
	once   sync.Once
	wSteps []dialplanStep
	wVars  []string
	wErr   error
}

// with returns a new plan: d's steps, then s. The steps are copied, never
// appended in place, so no two plans share a backing array.
func (d *Dialplan) with(s dialplanStep) *Dialplan {
	n := d.Len()
	steps := make([]dialplanStep, n, n+1)
	if n > 0 {
		copy(steps, d.steps)
	}
	return &Dialplan{steps: append(steps, s)}
}

type dialplanStep struct {
	TargetType string `json:"target_type"`
	Target     string `json:"target,omitempty"`
	text       string
}

// NewDialplan returns an empty Dialplan.
func NewDialplan() *Dialplan { return &Dialplan{} }

// Recording plays the recording with this id (OMICall: Tổng đài » Lời chào).
func (d *Dialplan) Recording(id string) *Dialplan {
	return d.with(dialplanStep{TargetType: targetRecording, Target: id})
}

// Text speaks s with the request's voice and speed.
func (d *Dialplan) Text(s string) *Dialplan {
	return d.with(dialplanStep{TargetType: targetText, text: s})
}

// IVRMenu runs the key-press menu with this id (OMICall: Tổng đài » Danh
// sách kịch bản bấm phím).
func (d *Dialplan) IVRMenu(id string) *Dialplan {
	return d.with(dialplanStep{TargetType: targetIVRMenu, Target: id})
}

// Len is the number of steps.
func (d *Dialplan) Len() int {
	if d == nil {
		return 0
	}
	return len(d.steps)
}

// TextChars counts the characters of text the Dialplan speaks, as OMICall's
// per-session limit counts them (code points after NFC).
func (d *Dialplan) TextChars() int {
	if d == nil {
		return 0
	}
	n := 0
	for _, s := range d.steps {
		n += charCount(s.text)
	}
	return n
}

// wire checks the Dialplan and returns template_dialplans and variables,
// the text NFC-normalised.
func (d *Dialplan) wire() ([]dialplanStep, []string, error) {
	if d.Len() == 0 {
		return nil, nil, invalid("Dialplan", "", "no step: add a Recording, Text or IVRMenu")
	}
	d.once.Do(func() { d.wSteps, d.wVars, d.wErr = d.build() })
	if d.wErr != nil {
		// A copy, so that a caller's errors.As target is not shared.
		ve := *d.wErr.(*ValidationError)
		return nil, nil, &ve
	}
	return d.wSteps, d.wVars, nil
}

// build checks the plan and makes its wire form.
func (d *Dialplan) build() ([]dialplanStep, []string, error) {
	steps := make([]dialplanStep, len(d.steps))
	vars := make([]string, 0, len(d.steps)) // sent as [] when empty, as the page's examples do
	chars := 0
	for i, s := range d.steps {
		if s.TargetType == targetText {
			if err := required("", s.text); err != nil {
				return nil, nil, invalid(indexed("Dialplan", i), "", "empty")
			}
			if value, reason := spokenProblem(s.text, false); reason != "" {
				return nil, nil, invalid(indexed("Dialplan", i), value, reason)
			}
			v := nfc(s.text)
			chars += utf8.RuneCountInString(v)
			vars = append(vars, v)
		} else if err := required("", s.Target); err != nil {
			return nil, nil, invalid(indexed("Dialplan", i), "", s.TargetType+" with an empty id")
		}
		steps[i] = dialplanStep{TargetType: s.TargetType, Target: s.Target}
	}
	if chars > MaxSessionChars {
		return nil, nil, &ValidationError{Field: "Dialplan", Value: fmt.Sprintf("%d characters", chars),
			Reason: fmt.Sprintf("more than %d characters of text in one session", MaxSessionChars), also: ErrLimitWordSession}
	}
	return steps, vars, nil
}
