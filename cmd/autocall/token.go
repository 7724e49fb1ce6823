package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	autocall "github.com/autocallvn/autocall-go"
)

func (a *app) tokenCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "token",
		Short: "Check the configured credential and show when its token expires (never the token)",
		Long: `Checks the configured credential against the provider and shows when its
token expires; the token itself is never printed.

A secret key (TEL4VN) or API key (OMICall) is checked by asking for a
token with it. An access token given out of band is checked with one
authenticated read that places no call: TEL4VN is asked for the report of a
call id that cannot exist (` + tokenProbeCallID + `); "not found" means the
token was accepted, 401/403 that it was refused (exit 3). OMICall offers no
read that places no call, so an OMICall access token cannot be checked:
the command says so and exits 1. With --dry-run nothing is checked.`,
		Example: `  AUTOCALL_SECRET_KEY=... autocall token
  autocall token --api-key-file ~/.omicall-key
  AUTOCALL_ACCESS_TOKEN=... AUTOCALL_PROVIDER=tel4vn autocall token`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := autocall.TEL4VN
			cred, err := a.credentials()
			if err != nil {
				return err
			}
			secret, apiKey := cred.secret, cred.apiKey
			if secret == "" && (apiKey != "" || strings.EqualFold(a.providerName(), "omicall")) {
				p = autocall.OMICall
			}
			c, err := a.client(p)
			if err != nil {
				return err
			}
			if a.dryRun {
				return a.nothingChecked("the credential was not sent")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
			defer cancel()
			// a.client chose the access token only when the provider's own key is missing.
			outOfBand := (p == autocall.TEL4VN && secret == "") || (p == autocall.OMICall && apiKey == "")
			switch {
			case outOfBand && p == autocall.OMICall:
				return &codeError{exitOther, "an OMICall access token cannot be checked: OMICall has no read that places no call. Nothing was sent; the token was not checked"}
			case outOfBand:
				if err := probeToken(ctx, c); err != nil {
					return err
				}
			default:
				if err := c.Authenticate(ctx); err != nil {
					return err
				}
			}
			exp := c.TokenExpiry()
			if a.jsonOut {
				out := map[string]any{"provider": p.String(), "ok": true}
				if outOfBand {
					out["checked_by"] = "GET /api/v2/report/" + tokenProbeCallID
				}
				if !exp.IsZero() {
					out["expires_at"] = exp.UTC().Format(time.RFC3339)
				}
				a.printJSON(out)
				return nil
			}
			if outOfBand {
				fmt.Fprintf(a.stdout, "%s access token accepted by an authenticated read (a call report look-up); its expiry is not known\n", p)
			} else if exp.IsZero() {
				fmt.Fprintf(a.stdout, "%s credential accepted; the token's expiry is not known\n", p)
			} else {
				fmt.Fprintf(a.stdout, "%s credential accepted; the token expires %s (in %s)\n", p,
					exp.Format("2006-01-02 15:04:05 -07:00"), time.Until(exp).Round(time.Minute))
			}
			return nil
		},
	}
}

// tokenProbeCallID is a call id TEL4VN cannot know: looking it up checks an
// access token and places no call.
const tokenProbeCallID = "autocall-token-check"

// probeToken checks a TEL4VN access token with one authenticated read. Not
// found is the expected answer: the token was accepted.
func probeToken(ctx context.Context, c *autocall.Client) error {
	_, err := c.CDR.Get(ctx, tokenProbeCallID)
	if errors.Is(err, autocall.ErrNotFound) && !errors.Is(err, autocall.ErrUnauthorized) {
		return nil
	}
	return err
}

// errOrNothingChecked ends a look-up: its error, or, in a dry run, that the
// answer shown was not the provider's.
func errOrNothingChecked(a *app, err error) error {
	if err != nil {
		return err
	}
	return a.nothingChecked("the call was not looked up")
}

// nothingChecked ends a dry run of a command that only reads: it must not
// invent an answer.
func (a *app) nothingChecked(what string) error {
	if a.jsonOut {
		a.printJSON(map[string]any{"dry_run": true, "checked": false, "note": "dry run: nothing was checked: " + what})
	} else {
		fmt.Fprintf(a.stdout, "dry run: nothing was checked: %s\n", what)
	}
	return nil
}

func (a *app) providerName() string {
	if a.provider != "" {
		return a.provider
	}
	return a.env("AUTOCALL_PROVIDER")
}
