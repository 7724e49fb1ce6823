package main

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/autocallvn/autocall-go/batch"
)

func (a *app) journalCommand() *cobra.Command {
	j := &cobra.Command{Use: "journal", Short: "Look at and settle a batch journal",
		Example: "  autocall journal show pending.csv.journal"}
	show := &cobra.Command{
		Use:   "show FILE|URL",
		Short: "Count the jobs in each state and list those whose outcome is unknown, with their phones; works while a run holds the journal",
		Long: `Count the jobs in each state and list those whose outcome is unknown, with
their phones and when they were claimed. The journal is only read: no lock
is taken, so it works while a run holds the journal; that run's claims are
then listed as in flight. With --json, each row says which run settled it
("run" is the run's id; "by_last_run" whether it was the latest run to
claim a row), with its call ids.

Advertising rows the rules of Decree 91/2020 deferred (--purpose
advertising: outside 8:00-17:00, or the number called in the last 24 hours)
are listed too, with their cause and when each can go ("can_go" with
--json); the next run after that time sends them.

A shared journal is named by its URL (redis://…?journal=NAME,
postgres://…), as --journal names it; a claim of a run that is still
alive (its lease current) is listed as in flight.`,
		Example: "  autocall journal show pending.csv.journal\n  autocall --json journal show pending.csv.journal | jq '.rows[] | select(.state==\"unknown\")'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if kindOf(args[0]) != fileJournal {
				j, err := openShared(cmd.Context(), args[0], batch.Retention{}, readOnly)
				if err != nil {
					return err
				}
				defer j.Close()
				recs, err := j.Records(cmd.Context())
				if err != nil {
					return err
				}
				live := slices.ContainsFunc(recs, func(r batch.Record) bool { return r.State == batch.Claimed })
				return a.showJournal(shownJournal(args[0]), recs, live)
			}
			if _, err := os.Stat(args[0]); err != nil {
				return usagef("%v", err)
			}
			recs, live, err := batch.ReadFile(args[0])
			if err != nil {
				return err
			}
			return a.showJournal(args[0], recs, live)
		},
	}
	resolve := &cobra.Command{
		Use:     "resolve FILE|URL KEY placed|unsent",
		Short:   "Settle a job whose outcome was unknown, once you know it, or send a refused one with the next run (unsent)",
		Example: "  autocall journal resolve pending.csv.journal order-1234 placed\n  autocall journal resolve pending.csv.journal order-77 unsent   # refused for quota, now topped up",
		Args:    cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			to := batch.State(args[2])
			if to != batch.Placed && to != batch.Unsent {
				return usagef("the outcome is placed or unsent, not %q", args[2])
			}
			var j batch.Journal
			var err error
			if kindOf(args[0]) != fileJournal {
				j, err = openShared(cmd.Context(), args[0], batch.Retention{}, writing)
			} else {
				j, err = batch.OpenFile(args[0])
			}
			if err != nil {
				return err
			}
			defer j.Close()
			if err := batch.Resolve(cmd.Context(), j, args[1], to); err != nil {
				if errors.Is(err, batch.ErrNoRecord) || errors.Is(err, batch.ErrNotUnknown) {
					return usagef("%s: %v", args[1], err)
				}
				return err
			}
			if a.jsonOut {
				a.printJSON(map[string]string{"key": args[1], "state": string(to)})
			} else {
				fmt.Fprintf(a.stdout, "%s is now %s\n", args[1], to)
			}
			return nil
		},
	}
	j.AddCommand(show, resolve, a.journalCompactCommand())
	return j
}
