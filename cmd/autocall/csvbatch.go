package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
	"github.com/autocallvn/autocall-go/batch/csvrows"
)

// rest is every column of r but those named: a TTS row's placeholder
// values.
func rest(r csvrows.Row, skip ...string) map[string]string {
	out := map[string]string{}
	for k, v := range r.Values {
		if !slices.Contains(skip, k) {
			out[k] = v
		}
	}
	return out
}

// causeNames are the causes --retry-refused takes: those a refused row
// may carry, from the batch package's one list.
func causeNames() []string {
	causes := batch.RefusalCauses()
	names := make([]string, len(causes))
	for i, c := range causes {
		names[i] = string(c)
	}
	return names
}

// addRetry adds --retry-refused: alone, every refused row goes again; with
// causes, only the rows refused for one of them.
func (b *batchFlags) addRetry(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&b.retry, "retry-refused", nil, "send again the rows the journal holds as refused, once the cause is fixed: "+
		"all of them, or --retry-refused="+strings.Join(causeNames(), ",")+" (some of these causes)")
	f.Lookup("retry-refused").NoOptDefVal = "all"
}

// retryOf sets the runner's choice of refused rows from --retry-refused.
func (b *batchFlags) retryOf(r *batch.Runner) error {
	for _, c := range b.retry {
		c = strings.ToLower(strings.TrimSpace(c))
		switch {
		case c == "all":
			r.RetryRefused = true
		case slices.Contains(batch.RefusalCauses(), batch.Cause(c)):
			r.RetryCauses = append(r.RetryCauses, c)
		default:
			return usagef("--retry-refused: no cause %q (all, or some of %s)", c, strings.Join(causeNames(), ","))
		}
	}
	return nil
}

// dryRunJournal is --dry-run's journal: a batch.MemJournal holding a copy
// of the records of the journal at path, if there is one (read without
// its lock), so that the dry run skips and defers what the real run
// would; it writes nothing to disk.
func dryRunJournal(_ context.Context, path string, opts []batch.JournalOption) (*batch.MemJournal, error) {
	m, live, err := batch.MemJournalFromFile(path, opts...)
	if errors.Is(err, fs.ErrNotExist) {
		return batch.NewMemJournal(opts...), nil
	}
	if err != nil {
		return nil, err
	}
	if live {
		// The real run would stop here; its rows in flight are not unknown.
		return nil, &codeError{exitOther, fmt.Sprintf("%s: another autocall is running this batch (dry run: nothing was sent)", path)}
	}
	return m, nil
}

// batchJournal opens the journal a CSV run writes: a file (locked: one run
// at a time) or a shared one; a dry run gets a copy in memory.
func (a *app) batchJournal(ctx context.Context, spec string, keep keepFlags) (batch.Journal, error) {
	ret, err := keep.retention()
	if err != nil {
		return nil, err
	}
	jopts := []batch.JournalOption{batch.WithRetention(ret)}
	shared := kindOf(spec) != fileJournal
	switch {
	case a.dryRun && !shared:
		return dryRunJournal(ctx, spec, jopts)
	case a.dryRun:
		real, err := openShared(ctx, spec, ret, readOnly)
		if err != nil {
			return nil, err
		}
		defer real.Close()
		return copyJournal(ctx, real, jopts)
	case shared:
		return openShared(ctx, spec, ret, writing)
	}
	fj, err := batch.OpenFile(spec, jopts...)
	if errors.Is(err, batch.ErrLocked) {
		return nil, &codeError{exitOther, fmt.Sprintf("%v: another autocall is running this batch", err)}
	}
	return fj, err
}

// copyJournal is a dry run's copy of a shared journal's records. Its
// forgotten keys are not copied: a dry run may show as sent a row the real
// run would refuse as forgotten.
func copyJournal(ctx context.Context, real batch.Journal, jopts []batch.JournalOption) (*batch.MemJournal, error) {
	recs, err := real.Records(ctx)
	if err != nil {
		return nil, err
	}
	m := batch.NewMemJournal(jopts...)
	for _, r := range recs {
		if err := m.Settle(ctx, r); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// runCSV runs every row through the batch journal.
func (a *app) runCSV(ctx context.Context, p autocall.Provider, bf batchFlags, need []string, op func(csvrows.Row) (batch.Op, error)) error {
	file, err := readCSV(bf.csv, append(need, bf.ad.need()...), bf.heldGrace)
	if err != nil {
		return err
	}
	var r batch.Runner
	if err := bf.retryOf(&r); err != nil {
		return err
	}
	if _, err := bf.keep.retention(); err != nil { // a bad flag stops the run before anything is read
		return err
	}
	r.AllowForgotten = bf.keep.allowForgotten
	purpose, err := bf.ad.setup(a, &r)
	if err != nil {
		return err
	}
	if purpose == batch.Advertising && bf.journal == "" {
		// The default journal is the CSV's own, and the one-call-a-day rule
		// sees only the calls of its journal: tomorrow's CSV would call
		// today's numbers again.
		return usagef("--purpose advertising needs --journal: the one-call-a-day rule sees only the calls recorded " +
			"in that journal, so give every advertising CSV the same one (keys unique across them); nothing was sent")
	}
	m, stopMetrics, err := a.serveMetrics(bf.metrics)
	if err != nil {
		return err
	}
	defer stopMetrics() // after the journal's Close: a last scrape reads the end
	a.observer = m.clientOption()
	m.observeRunner(&r)
	c, err := a.client(p)
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()
	jobs := make([]batch.Job, 0, len(file.Rows))
	lines := make(map[string]int, len(file.Rows))
	for _, r := range file.Rows {
		agreed, err := bf.ad.agreement(r)
		if err != nil {
			file.Refused = append(file.Refused, csvrows.Refusal{Line: r.Line, Key: r.Get("key"), Reason: err.Error()})
			continue
		}
		o, err := op(r)
		if err != nil {
			file.Refused = append(file.Refused, csvrows.Refusal{Line: r.Line, Key: r.Get("key"), Reason: err.Error()})
			continue
		}
		jobs = append(jobs, batch.Job{Key: r.Get("key"), Op: o, Purpose: purpose, Agreed: agreed})
		lines[r.Get("key")] = r.Line
	}
	a.fileNotes(file)
	spec := bf.journal
	if spec == "" {
		spec = bf.csv + ".journal"
	}
	path := shownJournal(spec) // a shared journal's URL, without its password
	if len(jobs) == 0 {
		return a.report(&batch.Report{}, path, file, nil, nil)
	}
	j, err := a.batchJournal(ctx, spec, bf.keep)
	if err != nil {
		return err
	}
	defer j.Close()
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	pr := a.newProgress(len(jobs), lines)
	pr.reason = func(key string) string {
		rec, ok, err := j.Get(ctx, key)
		if err != nil || !ok {
			return ""
		}
		return rec.Reason
	}
	r.Journal, r.Workers = j, bf.workers
	if p == autocall.OMICall {
		r.OMICall = c
	} else {
		r.TEL4VN = c
	}
	if bf.rate > 0 {
		r.Rate, r.Burst = rate.Limit(bf.rate), 1
	}
	tally := unsentTally{}
	ended := map[string]batch.State{} // each job's end in this run, for a journal that cannot be read after it
	r.Progress = func(p batch.Progress) { tally.note(p); pr.update(p); ended[p.LastKey] = p.LastState }
	rep, err := r.Run(ctx, jobs)
	pr.finish()
	if rep == nil {
		return err // bad arguments, or no lease: nothing was sent
	}
	if err != nil && rep.Stopped == nil {
		rep.Stopped = err // the journal failed after the last job (its lease's end)
	}
	// The journal failing mid-run still has a report: its unknown rows
	// (a call may have been placed, its outcome not written) make it exit 5.
	return a.report(rep, path, file, a.rowsOf(j, jobs, rep, ended), tally)
}

// jsonRow is a row of a CSV run's --json report: where its job stands,
// and whether this run or an earlier one settled it.
type jsonRow struct {
	Key       string    `json:"key"`
	State     string    `json:"state"`
	SettledBy string    `json:"settled_by"` // "this run", "an earlier run", or "" when unsettled
	Phones    []string  `json:"phones,omitempty"`
	CallIDs   []string  `json:"call_ids,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	Cause     string    `json:"cause,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	ClaimedAt time.Time `json:"claimed,omitzero"`
}

// rowsOf reads each job's record after a run, for --json. A record the
// journal cannot give (it failed) is as this run ended the job, and
// unknown when this run did not reach it: an earlier run may have sent
// it, and "unsent" would invite a resend.
func (a *app) rowsOf(j batch.Journal, jobs []batch.Job, rep *batch.Report, ended map[string]batch.State) []jsonRow {
	if !a.jsonOut || a.dryRun {
		return nil
	}
	rows := make([]jsonRow, 0, len(jobs))
	for _, job := range jobs {
		rec, ok, err := j.Get(context.Background(), job.Key)
		switch {
		case err != nil:
			row := jsonRow{Key: job.Key, State: string(batch.Unknown), Reason: "the journal could not be read: " + err.Error()}
			if st := ended[job.Key]; st != "" && st != batch.Claimed {
				row.State = string(st)
			}
			rows = append(rows, row)
		case !ok:
			rows = append(rows, jsonRow{Key: job.Key, State: string(batch.Unsent)})
		default:
			rows = append(rows, recordRow(rec, rep.RunID))
		}
	}
	return rows
}

func recordRow(rec batch.Record, runID string) jsonRow {
	row := jsonRow{Key: rec.Key, State: string(rec.State), Phones: rec.Phones, CallIDs: rec.CallIDs, SessionID: rec.SessionID,
		Cause: rec.Cause, Reason: rec.Reason, ClaimedAt: rec.ClaimedAt}
	if rec.State == batch.Claimed {
		row.State = string(batch.Unknown)
	}
	switch {
	case rec.State == batch.Claimed || rec.State == batch.Unsent:
	case runID != "" && rec.Run == runID:
		row.SettledBy = "this run"
	default:
		row.SettledBy = "an earlier run"
	}
	return row
}

// report prints a batch's end and sets the exit code.
func (a *app) report(rep *batch.Report, journal string, file *csvFile, rows []jsonRow, tally unsentTally) error {
	fileRefused := len(file.Refused)
	if a.dryRun {
		// The code the real run would exit with, for what it can judge
		// without the provider: the journal's unknown rows, and the rows it
		// would refuse.
		switch {
		case len(rep.UnknownKeys) > 0:
			a.code = exitUnknown
		case rep.Refused+fileRefused > 0:
			a.code = exitPartial
		case len(rep.Deferred) > 0:
			a.code = exitLater
		}
		if a.jsonOut {
			a.printJSON(map[string]any{"report": map[string]any{"nothing_sent": true, "total": rep.Total + fileRefused,
				"would_send": rep.Placed, "refused": rep.Refused + fileRefused, "held_line": file.Held,
				"already_placed": rep.AlreadyPlaced, "already_refused": rep.AlreadyRefused, "still_unknown": rep.StillUnknown,
				"unknown_keys": nonNilStrings(rep.UnknownKeys), "deferred": deferredJSON(rep)}})
			return nil
		}
		fmt.Fprintf(a.stdout, "dry run: nothing was sent; %d rows would be sent, %d refused", rep.Placed, rep.Refused+fileRefused)
		if len(rep.Deferred) > 0 {
			fmt.Fprintf(a.stdout, ", %d deferred by the advertising rules", len(rep.Deferred))
		}
		if rep.AlreadyPlaced+rep.AlreadyRefused+rep.StillUnknown > 0 {
			fmt.Fprintf(a.stdout, "; as earlier runs left them %d placed, %d refused, %d unknown",
				rep.AlreadyPlaced, rep.AlreadyRefused, rep.StillUnknown)
		}
		fmt.Fprintln(a.stdout)
		return nil
	}
	var stopped string
	if rep.Stopped != nil {
		stopped = rep.Stopped.Error()
	}
	var later time.Time
	a.code, later = batchCode(rep, fileRefused, tally)
	runAfter := "" // exit 8's time: the earliest a run may succeed
	if a.code == exitLater {
		runAfter = later.Format(time.RFC3339)
	}
	if a.jsonOut {
		a.printJSON(map[string]any{"report": map[string]any{
			"total": rep.Total, "placed": rep.Placed, "refused": rep.Refused, "unknown": rep.Unknown, "unsent": rep.Unsent,
			"already_placed": rep.AlreadyPlaced, "already_refused": rep.AlreadyRefused, "still_unknown": rep.StillUnknown,
			"forgotten": rep.Forgotten, "unknown_keys": nonNilStrings(rep.UnknownKeys), "stopped": stopped, "journal": journal, "seconds": rep.Elapsed.Seconds(),
			"refused_rows": fileRefused, "held_line": file.Held, "ignored_fields_lines": nonNilInts(file.Extra),
			"elsewhere": rep.Elsewhere, "elsewhere_keys": nonNilStrings(rep.ElsewhereKeys), "deferred": deferredJSON(rep),
			"run_after": runAfter,
		}, "rows": rows})
	} else {
		fmt.Fprintf(a.stdout, "%d rows: %d placed, %d refused, %d unknown, %d unsent; from earlier runs %d placed, %d refused, %d unknown (%s)\n",
			rep.Total, rep.Placed, rep.Refused, rep.Unknown, rep.Unsent, rep.AlreadyPlaced, rep.AlreadyRefused, rep.StillUnknown,
			rep.Elapsed.Round(time.Millisecond))
		if fileRefused > 0 {
			fmt.Fprintf(a.stdout, "%d rows refused as written in %s: not in the journal; fix them and they go with the next run\n", fileRefused, file.path)
		}
	}
	if len(rep.UnknownKeys) > 0 && !a.jsonOut {
		fmt.Fprintf(a.stderr, "Outcome unknown for %s: these are never resent. Once you know, run\n  autocall journal resolve %s KEY placed|unsent\n",
			strings.Join(rep.UnknownKeys, ", "), journal)
	}
	if rep.Refused+rep.AlreadyRefused > rep.Forgotten && !a.jsonOut {
		fmt.Fprintf(a.stderr, "Refused rows are not sent again. Once the cause is fixed, run with --retry-refused (or --retry-refused=CAUSE,…), "+
			"or mark one to go with the next run: autocall journal resolve %s KEY unsent\n", journal)
	}
	a.deferredNote(rep)
	a.forgottenNote(rep)
	interrupted := errors.Is(rep.Stopped, context.Canceled) || errors.Is(rep.Stopped, context.DeadlineExceeded)
	if interrupted && !a.jsonOut {
		fmt.Fprintf(a.stderr, "Interrupted: %d rows not sent. Run the same command again to resume; nobody is phoned twice.\n", rep.Unsent)
	} else if rep.Stopped != nil && !a.jsonOut {
		fmt.Fprintf(a.stderr, "Stopped: %v\nThe rows not sent go with the next run.\n", rep.Stopped)
	}
	if a.code == exitLater && !a.jsonOut {
		fmt.Fprintf(a.stderr, "Nothing wrong: rows wait for a time. Run the same command again after %s.\n", later.Format(timeLayout))
	}
	return nil
}

// inFlight is how journal show names a claimed job, in its rows and its
// counts alike.
const inFlight batch.State = "in_flight"

// showJournal prints a journal read without its lock. live: a run holds
// it, and its claims are in flight.
func (a *app) showJournal(path string, recs []batch.Record, live bool) error {
	counts := map[batch.State]int{}
	var lastRun string
	var lastClaim time.Time
	for _, r := range recs {
		if r.State == batch.Claimed {
			counts[inFlight]++ // as the rows say it
		} else {
			counts[r.State]++
		}
		if r.Run != "" && r.ClaimedAt.After(lastClaim) {
			lastRun, lastClaim = r.Run, r.ClaimedAt
		}
	}
	if a.jsonOut {
		rows := make([]map[string]any, 0, len(recs))
		var unknown []string
		for _, r := range recs {
			row := recordRow(r, lastRun)
			if r.State == batch.Claimed {
				row.State = string(inFlight)
			}
			if row.State == string(batch.Unknown) {
				unknown = append(unknown, r.Key)
			}
			rows = append(rows, map[string]any{"key": row.Key, "state": row.State, "phones": nonNilStrings(row.Phones), "call_ids": nonNilStrings(row.CallIDs),
				"session_id": row.SessionID, "cause": row.Cause, "reason": row.Reason, "claimed": row.ClaimedAt, "run": r.Run,
				"by_last_run": lastRun != "" && r.Run == lastRun, "purpose": r.Purpose})
			if when := canGo(r); !when.IsZero() {
				rows[len(rows)-1]["can_go"] = when.Format(time.RFC3339)
			}
		}
		sort.Strings(unknown)
		a.printJSON(map[string]any{"jobs": len(recs), "counts": counts, "unknown": nonNilStrings(unknown), "in_use": live, "last_run": lastRun, "rows": rows,
			"remembers": rememberedJSON(path)})
		return nil
	}
	fmt.Fprintf(a.stdout, "%d jobs: %d placed, %d refused, %d unsent, %d unknown", len(recs),
		counts[batch.Placed], counts[batch.Refused], counts[batch.Unsent], counts[batch.Unknown])
	if live {
		fmt.Fprintf(a.stdout, ", %d in flight (a run holds the journal)", counts[inFlight])
	}
	fmt.Fprintln(a.stdout)
	a.showRemembered(path)
	a.showDeferred(recs)
	unknown := 0
	for _, r := range recs {
		what := ""
		switch r.State {
		case batch.Unknown:
			what, unknown = "unknown  ", unknown+1
		case batch.Claimed:
			what = "in flight"
		default:
			continue
		}
		claimed := "claim time not recorded"
		if !r.ClaimedAt.IsZero() {
			claimed = "claimed " + r.ClaimedAt.Local().Format("2006-01-02 15:04:05 -07:00")
		}
		if r.Run != "" {
			claimed += " by run " + r.Run // the run that left it, to look up in its logs
		}
		fmt.Fprintf(a.stdout, "%s  %s  %s  %s\n", what, r.Key, strings.Join(r.Phones, " "), claimed)
	}
	if unknown > 0 {
		fmt.Fprintf(a.stdout, "Find out whether each was called, then: autocall journal resolve %s KEY placed|unsent\n", path)
	}
	return nil
}
