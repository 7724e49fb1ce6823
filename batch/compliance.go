package batch

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	autocall "github.com/autocallvn/autocall-go"
)

// Purpose is why a job calls. Decree 91/2020/NĐ-CP's rules bind
// advertising calls only.
type Purpose string

const (
	// Transactional calls (OTP, order and delivery notices, debt
	// reminders) are the default: no rule of the Policy applies.
	Transactional Purpose = ""
	// Advertising calls are held to the Policy: the hours, one call per
	// number per interval, the Do-Not-Call list.
	Advertising Purpose = "advertising"
)

// ParsePurpose reads "advertising" (or "quảng cáo") and "transactional"
// (or "", "giao dịch"), in any case.
func ParsePurpose(s string) (Purpose, error) {
	switch strings.ToLower(norm.NFC.String(strings.TrimSpace(s))) {
	case "", "transactional", "giao dịch":
		return Transactional, nil
	case "advertising", "quảng cáo":
		return Advertising, nil
	}
	return "", &autocall.ValidationError{Field: "Purpose", Value: s, Reason: "neither transactional nor advertising"}
}

// Agreement is what a subscriber agreed to, past the decree's rules: the
// decree lets each rule yield to an agreement with the subscriber. A job
// carries the agreement of the subscriber it calls.
type Agreement uint8

const (
	// AgreedHours: calls outside the window.
	AgreedHours Agreement = 1 << iota
	// AgreedFrequency: more than one advertising call within the interval.
	AgreedFrequency
	// AgreedDoNotCall: calls although the number is on the Do-Not-Call list.
	AgreedDoNotCall
	// AgreedAll: every rule yields.
	AgreedAll = AgreedHours | AgreedFrequency | AgreedDoNotCall
)

// ParseAgreement reads a spreadsheet cell: "", "no", "false", "0",
// "không" are no agreement; "yes", "true", "1", "x", "có", "all" agree to
// every rule; otherwise a list of "hours", "frequency", "dnc" separated by
// commas, spaces, "+" or "|" agrees to those.
func ParseAgreement(s string) (Agreement, error) {
	v := strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
	switch v {
	case "", "no", "n", "false", "0", "không", "khong":
		return 0, nil
	case "yes", "y", "true", "1", "x", "có", "co", "all":
		return AgreedAll, nil
	}
	var a Agreement
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '+' || r == '|' || r == ';' }) {
		switch f {
		case "hours":
			a |= AgreedHours
		case "frequency", "daily":
			a |= AgreedFrequency
		case "dnc", "do-not-call":
			a |= AgreedDoNotCall
		default:
			return 0, &autocall.ValidationError{Field: "Agreed", Value: s, Reason: fmt.Sprintf("%q is none of yes, no, hours, frequency, dnc", f)}
		}
	}
	return a, nil
}

// Errors of the Policy. A deferred job's error is a *Deferral, which
// matches ErrOutsideHours or ErrTooSoon.
var (
	// ErrDoNotCall: an advertising job to a number on the Do-Not-Call
	// list. It is refused and never sent.
	ErrDoNotCall = errors.New("batch: the number is on the Do-Not-Call list")
	// ErrOutsideHours: an advertising job outside the hours the Policy
	// allows; it is deferred, Unsent, until the window opens.
	ErrOutsideHours = errors.New("batch: advertising calls are not allowed at this hour")
	// ErrTooSoon: an advertising job to a number that had an advertising
	// call within the interval; it is deferred, Unsent, until the interval
	// has passed.
	ErrTooSoon = errors.New("batch: the number had an advertising call too recently")
)

// Deferral is why an advertising job was held back, and when it may go.
type Deferral struct {
	Cause     string    // CauseHours or CauseFrequency
	Phone     string    // the number that was called too recently (CauseFrequency)
	NotBefore time.Time // when the job may go
}

func (d *Deferral) Error() string {
	when := d.NotBefore.Format("2006-01-02 15:04:05 -07:00")
	if d.Cause == CauseFrequency {
		return fmt.Sprintf("%v: %s, deferred until %s", ErrTooSoon, d.Phone, when)
	}
	return fmt.Sprintf("%v: deferred until %s", ErrOutsideHours, when)
}

// Unwrap makes a Deferral match ErrOutsideHours or ErrTooSoon.
func (d *Deferral) Unwrap() error {
	if d.Cause == CauseFrequency {
		return ErrTooSoon
	}
	return ErrOutsideHours
}

// DoNotCallError is the error of a job refused for a listed number; it
// matches ErrDoNotCall.
type DoNotCallError struct{ Phone string }

func (e *DoNotCallError) Error() string { return fmt.Sprintf("%v: %s", ErrDoNotCall, e.Phone) }

// Unwrap makes a DoNotCallError match ErrDoNotCall.
func (e *DoNotCallError) Unwrap() error { return ErrDoNotCall }

// The decree's defaults: calls from 8:00 to 17:00, one a number a day.
const (
	DefaultOpens    = 8 * time.Hour
	DefaultCloses   = 17 * time.Hour
	DefaultInterval = 24 * time.Hour
)

// Policy holds advertising jobs to Decree 91/2020/NĐ-CP (Article 13): calls
// only between 8:00 and 17:00, at most one advertising call to a number
// within 24 hours, none to a number on the Do-Not-Call list, each unless
// the subscriber agreed otherwise (Job.Agreed). Its zero value is the
// decree's rules with no Do-Not-Call list: a change in the law is a change
// of these settings. It is a help to keep the rules, not legal advice.
type Policy struct {
	// Location is where the window's hours are read (default
	// Asia/Ho_Chi_Minh, from zone data built into the package).
	Location *time.Location
	// Opens and Closes are the window, as times of day: a job may go from
	// Opens up to, not including, Closes. Both zero: 8:00 to 17:00.
	Opens, Closes time.Duration
	// Interval is the least time between two advertising calls to one
	// number (default 24 hours).
	Interval time.Duration
	// DoNotCall is the list of numbers never to call for advertising (nil:
	// none). Load the national list ("Danh sách không quảng cáo") with
	// LoadDoNotCall, or plug in a service of your own.
	DoNotCall DoNotCall
}

// DoNotCall is a Do-Not-Call list. Listed is asked with a number in
// national form ("0987654321"), before the job is claimed; an error stops
// the job (it stays Unsent) rather than risk the call.
type DoNotCall interface {
	Listed(ctx context.Context, phone string) (bool, error)
}

//go:embed tzdata/Asia_Ho_Chi_Minh
var vietnamTZif []byte

// vietnam is Asia/Ho_Chi_Minh from the 236-byte zone file of tzdata 2025c
// (Go's lib/time/zoneinfo.zip), so that a container without tzdata works.
// Importing time/tzdata instead would add some 450 KB for one zone.
var vietnam = func() *time.Location {
	loc, err := time.LoadLocationFromTZData("Asia/Ho_Chi_Minh", vietnamTZif)
	if err != nil {
		panic("batch: the built-in Asia/Ho_Chi_Minh zone is damaged: " + err.Error())
	}
	return loc
}()

// Vietnam returns the Asia/Ho_Chi_Minh zone the Policy uses by default.
func Vietnam() *time.Location { return vietnam }

func (p *Policy) location() *time.Location {
	if p.Location != nil {
		return p.Location
	}
	return vietnam
}

func (p *Policy) window() (opens, closes time.Duration) {
	if p.Opens == 0 && p.Closes == 0 {
		return DefaultOpens, DefaultCloses
	}
	return p.Opens, p.Closes
}

func (p *Policy) interval() time.Duration {
	if p.Interval <= 0 {
		return DefaultInterval
	}
	return p.Interval
}

// Check validates the settings; Runner.Run calls it before any job.
func (p *Policy) Check() error {
	opens, closes := p.window()
	switch {
	case opens < 0 || opens >= 24*time.Hour:
		return &autocall.ValidationError{Field: "Policy.Opens", Value: opens.String(), Reason: "not a time of day"}
	case closes <= opens || closes > 24*time.Hour:
		return &autocall.ValidationError{Field: "Policy.Closes", Value: closes.String(), Reason: "not a time of day after Opens"}
	case p.Interval < 0:
		return &autocall.ValidationError{Field: "Policy.Interval", Value: p.Interval.String(), Reason: "negative"}
	}
	return nil
}

// dayWindow is the window of t's day, in the Policy's zone. Times of day
// are counted from the day's midnight on the clock, so a zone's daylight
// saving shift moves them with the clock, as people read them.
func (p *Policy) dayWindow(t time.Time, days int) (from, to time.Time) {
	opens, closes := p.window()
	t = t.In(p.location())
	y, m, d := t.Date()
	at := func(off time.Duration) time.Time {
		return time.Date(y, m, d+days, int(off/time.Hour), int(off%time.Hour/time.Minute),
			int(off%time.Minute/time.Second), int(off%time.Second), p.location())
	}
	return at(opens), at(closes)
}

// Open reports whether an advertising call may go at t.
func (p *Policy) Open(t time.Time) bool {
	from, to := p.dayWindow(t, 0)
	return !t.Before(from) && t.Before(to)
}

// NextOpen returns t when the window is open at t, else when it opens next.
func (p *Policy) NextOpen(t time.Time) time.Time {
	from, to := p.dayWindow(t, 0)
	switch {
	case t.Before(from):
		return from
	case t.Before(to):
		return t
	}
	from, _ = p.dayWindow(t, 1)
	return from
}

// ClosesAt returns when the window open at t closes (t itself when it is
// shut): a run stops taking advertising jobs then.
func (p *Policy) ClosesAt(t time.Time) time.Time {
	if !p.Open(t) {
		return t
	}
	_, to := p.dayWindow(t, 0)
	return to
}

// hours holds a job back outside the window: nil, or its Deferral.
func (p *Policy) hours(now time.Time, agreed Agreement) *Deferral {
	if agreed&AgreedHours != 0 || p.Open(now) {
		return nil
	}
	return &Deferral{Cause: CauseHours, NotBefore: p.NextOpen(now)}
}

// doNotCall refuses a job any of whose numbers is listed.
func (p *Policy) doNotCall(ctx context.Context, phones []string, agreed Agreement) error {
	if p.DoNotCall == nil || agreed&AgreedDoNotCall != 0 {
		return nil
	}
	for _, ph := range phones {
		listed, err := p.DoNotCall.Listed(ctx, ph)
		if err != nil {
			return fmt.Errorf("batch: checking the Do-Not-Call list: %w", err)
		}
		if listed {
			return &DoNotCallError{Phone: ph}
		}
	}
	return nil
}
