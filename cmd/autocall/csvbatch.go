package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
)

// csvRow is one row of a batch CSV, by column name.
type csvRow struct {
	line   int
	values map[string]string
}

func (r csvRow) get(col string) string { return r.values[col] }

// rest is every column but those named: a TTS row's placeholder values.
func (r csvRow) rest(skip ...string) map[string]string {
	out := map[string]string{}
	for k, v := range r.values {
		if !contains(skip, k) {
			out[k] = v
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// memJournal is --dry-run's journal: it keeps nothing on disk.
type memJournal struct {
	mu   sync.Mutex
	recs map[string]batch.Record
}

func (m *memJournal) Claim(_ context.Context, rec batch.Record, _ bool) (bool, batch.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[rec.Key] = rec
	return true, batch.Record{}, nil
}

func (m *memJournal) Settle(_ context.Context, rec batch.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[rec.Key] = rec
	return nil
}

func (m *memJournal) Get(_ context.Context, key string) (batch.Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[key]
	return r, ok, nil
}

func (m *memJournal) Records(context.Context) ([]batch.Record, error) { return nil, nil }
func (m *memJournal) Close() error                                    { return nil }

// runCSV runs every row through the batch journal.
func (a *app) runCSV(ctx context.Context, p autocall.Provider, bf batchFlags, need []string, op func(csvRow) (batch.Op, error)) error {
	file, err := readCSV(bf.csv, need, bf.heldGrace)
	if err != nil {
		return err
	}
	c, err := a.client(p)
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()
	jobs := make([]batch.Job, 0, len(file.rows))
	lines := make(map[string]int, len(file.rows))
	for _, r := range file.rows {
		o, err := op(r)
		if err != nil {
			file.refused = append(file.refused, rowRefusal{line: r.line, key: r.get("key"), reason: err.Error()})
			continue
		}
		jobs = append(jobs, batch.Job{Key: r.get("key"), Op: o})
		lines[r.get("key")] = r.line
	}
	a.fileNotes(file)
	path := bf.journal
	if path == "" {
		path = bf.csv + ".journal"
	}
	if len(jobs) == 0 {
		return a.report(&batch.Report{}, path, file)
	}
	var j batch.Journal = &memJournal{recs: map[string]batch.Record{}}
	if !a.dryRun {
		fj, err := batch.OpenFile(path)
		if errors.Is(err, batch.ErrLocked) {
			return &codeError{exitOther, fmt.Sprintf("%v: another autocall is running this batch", err)}
		}
		if err != nil {
			return err
		}
		defer fj.Close()
		j = fj
	}
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
	r := &batch.Runner{Journal: j, Workers: bf.workers, Progress: pr.update}
	if p == autocall.OMICall {
		r.OMICall = c
	} else {
		r.TEL4VN = c
	}
	if bf.rate > 0 {
		r.Rate, r.Burst = rate.Limit(bf.rate), 1
	}
	rep, err := r.Run(ctx, jobs)
	pr.finish()
	if err != nil {
		return err
	}
	return a.report(rep, path, file)
}

// report prints a batch's end and sets the exit code.
func (a *app) report(rep *batch.Report, journal string, file *csvFile) error {
	fileRefused := len(file.refused)
	if a.dryRun {
		// The code the real run would exit with, for the rows it can judge
		// without the provider.
		if rep.Refused+fileRefused > 0 {
			a.code = exitPartial
		}
		if a.jsonOut {
			a.printJSON(map[string]any{"report": map[string]any{"nothing_sent": true, "total": rep.Total + fileRefused,
				"would_send": rep.Placed, "refused": rep.Refused + fileRefused, "held_line": file.held}})
			return nil
		}
		fmt.Fprintf(a.stdout, "dry run: nothing was sent; %d rows would be sent, %d refused\n", rep.Placed, rep.Refused+fileRefused)
		return nil
	}
	var stopped string
	if rep.Stopped != nil {
		stopped = rep.Stopped.Error()
	}
	if a.jsonOut {
		a.printJSON(map[string]any{"report": map[string]any{
			"total": rep.Total, "placed": rep.Placed, "refused": rep.Refused, "unknown": rep.Unknown, "unsent": rep.Unsent,
			"already_placed": rep.AlreadyPlaced, "already_refused": rep.AlreadyRefused, "still_unknown": rep.StillUnknown,
			"unknown_keys": nonNilStrings(rep.UnknownKeys), "stopped": stopped, "journal": journal, "seconds": rep.Elapsed.Seconds(),
			"refused_rows": fileRefused, "held_line": file.held, "ignored_fields_lines": nonNilInts(file.extra),
		}})
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
	interrupted := errors.Is(rep.Stopped, context.Canceled) || errors.Is(rep.Stopped, context.DeadlineExceeded)
	if interrupted && !a.jsonOut {
		fmt.Fprintf(a.stderr, "Interrupted: %d rows not sent. Run the same command again to resume; nobody is phoned twice.\n", rep.Unsent)
	} else if rep.Stopped != nil && !a.jsonOut {
		fmt.Fprintf(a.stderr, "Stopped: %v\nThe rows not sent go with the next run.\n", rep.Stopped)
	}
	switch {
	case len(rep.UnknownKeys) > 0:
		a.code = exitUnknown
	case errors.Is(rep.Stopped, autocall.ErrUnauthorized):
		a.code = exitAuth
	case interrupted:
		a.code = exitOther
	case rep.Stopped != nil && !interrupted:
		a.code = exitRefused
	case rep.Placed+rep.AlreadyPlaced == 0 && rep.Unsent > 0 && !interrupted:
		a.code = exitNetwork
	// Rows an earlier run refused are named above but do not change the
	// code: cron would otherwise mail every minute for ever.
	case rep.Refused+fileRefused > 0 || rep.Unsent > 0:
		a.code = exitPartial
	}
	return nil
}
