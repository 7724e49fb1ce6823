package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autocallvn/autocall-go/batch"
)

// keepFlags are how long a journal remembers (batch.Retention), and
// whether the rows it forgot may go again.
type keepFlags struct {
	records, keys  string
	allowForgotten bool
}

func (k *keepFlags) add(cmd *cobra.Command, run bool) {
	f := cmd.Flags()
	f.StringVar(&k.records, "retention", "30d", "the journal keeps a settled row's record this long (e.g. 30d, 720h; -1: for ever);\n"+
		"unknown, refused and in-flight rows are kept until resolved")
	f.StringVar(&k.keys, "key-retention", "365d", "a row whose record was dropped keeps its key this long: run again, it is refused as forgotten")
	if run {
		f.BoolVar(&k.allowForgotten, "allow-forgotten", false, "send the rows the journal forgot (placed before --retention; it kept their keys): they were phoned once already")
	}
}

// retention is the journal's retention from the flags.
func (k *keepFlags) retention() (batch.Retention, error) {
	r, err := parseDays("--retention", k.records)
	if err != nil {
		return batch.Retention{}, err
	}
	keys, err := parseDays("--key-retention", k.keys)
	if err != nil {
		return batch.Retention{}, err
	}
	if r > 0 && keys > 0 && keys < r {
		return batch.Retention{}, usagef("--key-retention (%s) is shorter than --retention (%s): a key must be remembered at least as long as its record", k.keys, k.records)
	}
	return batch.Retention{Records: r, Keys: keys}, nil
}

// options are a file or memory journal's options from the flags.
func (k *keepFlags) options() ([]batch.JournalOption, error) {
	r, err := k.retention()
	if err != nil {
		return nil, err
	}
	return []batch.JournalOption{batch.WithRetention(r)}, nil
}

// parseDays reads a duration that may be given in days ("30d"); -1 is for
// ever.
func parseDays(flag, v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "-1" {
		return -1, nil
	}
	if d, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, usagef("%s: %q is not a duration (30d, 720h, or -1 for ever)", flag, v)
}

func (a *app) journalCompactCommand() *cobra.Command {
	var keep keepFlags
	cmd := &cobra.Command{
		Use:   "compact FILE|postgres://…",
		Short: "Drop the records the journal's retention lets go, now, and print what was dropped",
		Long: `Rewrites the journal with what its retention keeps: every unknown,
in-flight and refused row, every row still deferred, every advertising
call within the interval, and every settled row newer than --retention.
A placed row older than that is forgotten: its record goes, its key is
kept (8 bytes) for --key-retention, so that a run of an old CSV refuses it
("forgotten") instead of phoning the customer again. An unsent row older
than --retention goes without a trace: it was never sent.

The journal compacts itself when its stale lines pass a quarter of the
file; this does it by hand. It takes the journal's lock (a run holding it
makes this fail), writes the new journal beside it, syncs it and renames
it over the old one: a crash leaves one of them whole.`,
		Example: "  autocall journal compact pending.csv.journal\n  autocall journal compact --retention 90d ads.journal",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if kindOf(args[0]) == redisJournal {
				return usagef("journal compact takes a FILE or a postgres:// URL: a Redis journal drops what its retention (--retention, --key-retention of the runs) lets go as it is used, a page every 256 claims")
			}
			var j batch.Journal
			var err error
			if kindOf(args[0]) == postgresJournal {
				// The workers compact it every --compact-every; this does it now.
				ret, rerr := keep.retention()
				if rerr != nil {
					return rerr
				}
				j, err = openShared(cmd.Context(), args[0], ret, writing)
			} else {
				opts, oerr := keep.options()
				if oerr != nil {
					return oerr
				}
				j, err = batch.OpenFile(args[0], opts...)
			}
			if err != nil {
				return err
			}
			res, err := j.(batch.Compactor).Compact(cmd.Context())
			if cerr := j.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if a.jsonOut {
				a.printJSON(map[string]any{"kept": res.Kept, "forgotten": res.Forgotten, "dropped_unsent": res.Dropped,
					"superseded_lines": res.Superseded, "tombstones": res.Tombstones, "tombstones_expired": res.Expired,
					"bytes_before": res.BytesBefore, "bytes_after": res.BytesAfter, "remembers": rememberedJSON(args[0])})
				return nil
			}
			fmt.Fprintf(a.stdout, "%d records kept; dropped %d placed records (their keys kept), %d unsent records, %d superseded lines, %d expired keys; %d keys kept; %s -> %s\n",
				res.Kept, res.Forgotten, res.Dropped, res.Superseded, res.Expired, res.Tombstones, size(res.BytesBefore), size(res.BytesAfter))
			a.showRemembered(args[0])
			return nil
		},
	}
	keep.add(cmd, false)
	return cmd
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// remembered reads how far back the journal at path remembers (with the
// default retention: journal show reads it without options).
func remembered(path string) (batch.Horizon, bool) {
	if kindOf(path) != fileJournal {
		return batch.Horizon{}, false
	}
	_, _, h, err := batch.ReadFileHorizon(path)
	return h, err == nil
}

func rememberedJSON(path string) map[string]any {
	h, ok := remembered(path)
	if !ok {
		return nil
	}
	out := map[string]any{"records": h.Records, "keys": h.Keys,
		"record_retention": h.Retention.Records.String(), "key_retention": h.Retention.Keys.String()}
	if !h.OldestRecord.IsZero() {
		out["records_since"] = h.OldestRecord.UTC().Format(time.RFC3339)
	}
	if !h.OldestKey.IsZero() {
		out["keys_since"] = h.OldestKey.UTC().Format(time.RFC3339)
	}
	return out
}

// showRemembered says how far back the journal remembers rows.
func (a *app) showRemembered(path string) {
	h, ok := remembered(path)
	if !ok {
		return
	}
	since := func(t time.Time) string {
		if t.IsZero() {
			return "none"
		}
		return "since " + t.Local().Format(time.DateOnly)
	}
	fmt.Fprintf(a.stdout, "remembers: records %s (%d; settled ones are kept %s), keys of forgotten rows %s (%d; kept %s)\n",
		since(h.OldestRecord), h.Records, days(h.Retention.Records), since(h.OldestKey), h.Keys, days(h.Retention.Keys))
}

func days(d time.Duration) string {
	if d >= 1<<62 {
		return "for ever"
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// forgottenNote tells what to do about the rows the journal forgot.
func (a *app) forgottenNote(rep *batch.Report) {
	if rep.Forgotten > 0 && !a.jsonOut {
		fmt.Fprintf(a.stderr, "%d rows were not sent: they were settled before the journal's retention (it forgot their records, not their keys). "+
			"Run with --allow-forgotten to send them; each was phoned once already.\n", rep.Forgotten)
	}
}
