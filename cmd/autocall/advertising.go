package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autocallvn/autocall-go/batch"
	"github.com/autocallvn/autocall-go/batch/csvrows"
)

// adFlags hold a CSV batch to Decree 91/2020/NĐ-CP's rules for
// advertising calls (package batch's Policy).
type adFlags struct {
	purpose, dnc, agreedCol string
}

func (f *adFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.purpose, "purpose", "transactional", "transactional, or advertising: rows held to Decree 91/2020 "+
		"(8:00-17:00 Vietnam time, one call a number in 24 hours, --dnc), for --csv; a help, not legal advice "+
		"(tests set the rules' clock with AUTOCALL_NOW)")
	fl.StringVar(&f.dnc, "dnc", "", "a Do-Not-Call list, one number a line in any form: never called for advertising")
	fl.StringVar(&f.agreedCol, "agreed-column", "", "the CSV column of what each subscriber agreed to past the rules: "+
		"yes/no (có/không), or some of hours,frequency,dnc")
}

// adFlagsNeedCSV refuses the advertising flags on a single call: the rules
// are kept through a batch's journal.
func adFlagsNeedCSV(cmd *cobra.Command) error {
	for _, name := range []string{"purpose", "dnc", "agreed-column"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed && f.Value.String() != "transactional" {
			return usagef("--%s needs --csv: the advertising rules are kept through a batch's journal", name)
		}
	}
	return nil
}

// setup reads the flags into r: the policy, its Do-Not-Call list and the
// clock. It returns the rows' purpose. A bad flag or a Do-Not-Call file
// with a line that is not a number is a usage error: nothing is sent.
func (f *adFlags) setup(a *app, r *batch.Runner) (batch.Purpose, error) {
	purpose, err := batch.ParsePurpose(f.purpose)
	if err != nil {
		return "", usagef("--purpose: %q is neither transactional nor advertising", f.purpose)
	}
	if purpose != batch.Advertising {
		if f.dnc != "" || f.agreedCol != "" {
			return "", usagef("--dnc and --agreed-column apply to --purpose advertising")
		}
		return purpose, nil
	}
	now, err := a.clock()
	if err != nil {
		return "", err
	}
	r.Policy, r.Now = &batch.Policy{}, now
	if f.dnc != "" {
		list, err := batch.LoadDoNotCall(f.dnc)
		var ferr *batch.DoNotCallFileError
		if errors.As(err, &ferr) {
			return "", usagef("--dnc: %v; nothing was sent: a number left out would be called", err)
		}
		if err != nil {
			return "", usagef("--dnc: %v", err)
		}
		r.Policy.DoNotCall = list
	}
	return purpose, nil
}

// need is the CSV columns the flags need.
func (f *adFlags) need() []string {
	if f.agreedCol == "" {
		return nil
	}
	return []string{strings.ToLower(strings.TrimSpace(f.agreedCol))}
}

// agreement reads a row's agreement and takes its column out of the row,
// so that a TTS row does not pass it on as a template value.
func (f *adFlags) agreement(r csvrows.Row) (batch.Agreement, error) {
	if f.agreedCol == "" {
		return 0, nil
	}
	col := strings.ToLower(strings.TrimSpace(f.agreedCol))
	v := r.Get(col)
	delete(r.Values, col)
	a, err := batch.ParseAgreement(v)
	if err != nil {
		return 0, fmt.Errorf("column %s: %q is none of yes, no, hours, frequency, dnc", col, v)
	}
	return a, nil
}

// clock is the advertising rules' clock: the wall clock, or, for tests
// against a sandbox whose clock they set, AUTOCALL_NOW (RFC 3339) moving
// on with the wall clock from then. AUTOCALL_NOW is read only with a base
// URL on this machine (a sandbox): a provider's customers are called by
// the real clock.
func (a *app) clock() (func() time.Time, error) {
	v := a.env("AUTOCALL_NOW")
	if v == "" {
		return time.Now, nil
	}
	base := a.baseURL
	if base == "" {
		base = a.env("AUTOCALL_BASE_URL")
	}
	if u, err := url.Parse(base); err != nil || !loopback(u.Hostname()) {
		return nil, usagef("AUTOCALL_NOW is for tests against a sandbox on this machine, not %q: the rules keep the real time", base)
	}
	t0, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, usagef("AUTOCALL_NOW: %q is not a time such as 2026-12-01T16:59:00+07:00", v)
	}
	start := time.Now()
	return func() time.Time { return t0.Add(time.Since(start)) }, nil
}

// loopback: host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// deferredNote prints the rows the rules deferred and when the first can go.
func (a *app) deferredNote(rep *batch.Report) {
	if len(rep.Deferred) == 0 || a.jsonOut {
		return
	}
	first := rep.Deferred[0].NotBefore
	for _, d := range rep.Deferred {
		if d.NotBefore.Before(first) {
			first = d.NotBefore
		}
	}
	fmt.Fprintf(a.stdout, "%d advertising rows deferred by Decree 91/2020's rules (counted as unsent); the first may go at %s: "+
		"run the same command again then. autocall journal show lists each.\n", len(rep.Deferred), first.Format(timeLayout))
}

const timeLayout = "2006-01-02 15:04 -07:00"

// deferredJSON is the report's list of deferred rows.
func deferredJSON(rep *batch.Report) []map[string]any {
	out := make([]map[string]any, 0, len(rep.Deferred))
	for _, d := range rep.Deferred {
		out = append(out, map[string]any{"key": d.Key, "cause": d.Cause, "not_before": d.NotBefore.Format(time.RFC3339)})
	}
	return out
}

// canGo is when a deferred record may go: its NotBefore, moved into the
// decree's window for an advertising job; zero for a record not deferred.
func canGo(rec batch.Record) time.Time {
	if rec.State != batch.Unsent || rec.NotBefore.IsZero() {
		return time.Time{}
	}
	var p batch.Policy
	return p.NextOpen(rec.NotBefore).In(batch.Vietnam())
}

// showDeferred lists a journal's deferred rows and when each can go.
func (a *app) showDeferred(recs []batch.Record) {
	for _, r := range recs {
		if when := canGo(r); !when.IsZero() {
			fmt.Fprintf(a.stdout, "deferred   %s  %s  %s  can go from %s\n", r.Key, strings.Join(r.Phones, " "), r.Cause, when.Format(timeLayout))
		}
	}
}
