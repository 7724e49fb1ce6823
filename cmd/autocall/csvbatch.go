package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
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

// readCSV reads a CSV with a header row; it needs a key column and the
// columns named. A malformed file is a usage error: nothing is sent.
func readCSV(path string, need []string) ([]csvRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, usagef("%s: no header row: %v", path, err)
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(header[i]))
	}
	for _, col := range append([]string{"key"}, need...) {
		if !contains(header, col) {
			return nil, usagef("%s: no %q column (header: %s)", path, col, strings.Join(header, ","))
		}
	}
	var rows []csvRow
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, usagef("%s: %v", path, err)
		}
		row := csvRow{line: line, values: map[string]string{}}
		for i, col := range header {
			row.values[col] = strings.TrimSpace(rec[i])
		}
		key := row.get("key")
		switch {
		case key == "":
			return nil, usagef("%s: line %d has no key", path, line)
		case seen[key] != 0:
			return nil, usagef("%s: key %q is on lines %d and %d", path, key, seen[key], line)
		}
		seen[key] = line
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, usagef("%s: no rows", path)
	}
	return rows, nil
}

// memJournal is --dry-run's journal: it keeps nothing on disk.
type memJournal struct {
	mu   sync.Mutex
	recs map[string]batch.Record
}

func (m *memJournal) Claim(_ context.Context, rec batch.Record, _ batch.Retry) (bool, batch.Record, error) {
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
	rows, err := readCSV(bf.csv, need)
	if err != nil {
		return err
	}
	c, err := a.client(p)
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()
	jobs := make([]batch.Job, len(rows))
	lines := make(map[string]int, len(rows))
	for i, r := range rows {
		o, err := op(r)
		if err != nil {
			return err
		}
		jobs[i] = batch.Job{Key: r.get("key"), Op: o}
		lines[r.get("key")] = r.line
	}
	var j batch.Journal = &memJournal{recs: map[string]batch.Record{}}
	path := bf.journal
	if path == "" {
		path = bf.csv + ".journal"
	}
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
	return a.report(rep, path)
}

// report prints a batch's end and sets the exit code.
func (a *app) report(rep *batch.Report, journal string) error {
	if a.dryRun {
		return a.dryRunDone()
	}
	var stopped string
	if rep.Stopped != nil {
		stopped = rep.Stopped.Error()
	}
	if a.jsonOut {
		a.printJSON(map[string]any{"report": map[string]any{
			"total": rep.Total, "placed": rep.Placed, "refused": rep.Refused, "unknown": rep.Unknown, "unsent": rep.Unsent,
			"already_placed": rep.AlreadyPlaced, "already_refused": rep.AlreadyRefused, "still_unknown": rep.StillUnknown,
			"unknown_keys": rep.UnknownKeys, "stopped": stopped, "journal": journal, "seconds": rep.Elapsed.Seconds(),
		}})
	} else {
		fmt.Fprintf(a.stdout, "%d rows: %d placed, %d refused, %d unknown, %d unsent; from earlier runs %d placed, %d refused, %d unknown (%s)\n",
			rep.Total, rep.Placed, rep.Refused, rep.Unknown, rep.Unsent, rep.AlreadyPlaced, rep.AlreadyRefused, rep.StillUnknown,
			rep.Elapsed.Round(time.Millisecond))
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
	case rep.Refused+rep.AlreadyRefused > 0 || rep.Unsent > 0:
		a.code = exitPartial
	}
	return nil
}
