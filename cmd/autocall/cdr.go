package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	autocall "github.com/autocallvn/autocall-go"
)

func (a *app) cdrCommand() *cobra.Command {
	cdr := &cobra.Command{Use: "cdr", Short: "TEL4VN call detail reports",
		Example: "  autocall cdr get 1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321"}
	get := &cobra.Command{
		Use:     "get CALL_ID",
		Short:   "Look a call up",
		Example: "  autocall cdr get 1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(cmd, autocall.TEL4VN, func(ctx context.Context, c *autocall.Client) error {
				r, err := c.CDR.Get(ctx, autocall.CallID(args[0]))
				if err != nil || a.dryRun {
					return errOrNothingChecked(a, err)
				}
				return a.printCDR(r)
			})
		},
	}
	var grace time.Duration
	wait := &cobra.Command{
		Use:     "wait CALL_ID",
		Short:   "Wait until a call has ended, and show how",
		Example: "  autocall cdr wait --timeout 5m 1_1_1_5_cb76e372-b798-4a88-9c8a-410740f0300d_0987654321",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(cmd, autocall.TEL4VN, func(ctx context.Context, c *autocall.Client) error {
				if a.dryRun {
					// One look-up shows the request; waiting on an invented answer would not.
					_, err := c.CDR.Get(ctx, autocall.CallID(args[0]))
					return errOrNothingChecked(a, err)
				}
				r, err := c.CDR.Wait(ctx, autocall.CallID(args[0]), autocall.WithNotFoundGrace(grace))
				if err != nil {
					return err
				}
				return a.printCDR(r)
			})
		},
	}
	wait.Flags().DurationVar(&grace, "not-found-grace", autocall.DefaultNotFoundGrace, "how long an unknown call id counts as not reported yet")
	cdr.AddCommand(get, wait)
	return cdr
}

func (a *app) printCDR(r *autocall.CDR) error {
	if a.jsonOut {
		a.printJSON(map[string]any{"id": r.ID, "campaign_id": r.CampaignID, "phone": r.PhoneNumber, "status": r.Status,
			"final": r.Status.Final(), "keypress": r.Keypress, "duration_seconds": r.Duration.Seconds(), "type": r.Type,
			"started_at": r.StartedAt, "ended_at": r.EndedAt, "params": r.Params})
		return nil
	}
	fmt.Fprintf(a.stdout, "call     %s\nphone    %s\nstatus   %s\nduration %s\n", r.ID, r.PhoneNumber, r.Status, r.Duration)
	if !r.StartedAt.IsZero() {
		fmt.Fprintf(a.stdout, "started  %s\n", r.StartedAt.Format("2006-01-02 15:04:05 -07:00"))
	}
	if r.Keypress == autocall.KeypressHangup {
		fmt.Fprintln(a.stdout, "key      none (the callee hung up)")
	} else if r.Keypress != "" {
		fmt.Fprintf(a.stdout, "key      %s\n", r.Keypress)
	}
	return nil
}
