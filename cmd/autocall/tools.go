package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
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

func (a *app) journalCommand() *cobra.Command {
	j := &cobra.Command{Use: "journal", Short: "Look at and settle a batch journal",
		Example: "  autocall journal show pending.csv.journal"}
	show := &cobra.Command{
		Use:   "show FILE",
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
--json); the next run after that time sends them.`,
		Example: "  autocall journal show pending.csv.journal\n  autocall --json journal show pending.csv.journal | jq '.rows[] | select(.state==\"unknown\")'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
		Use:     "resolve FILE KEY placed|unsent",
		Short:   "Settle a job whose outcome was unknown, once you know it, or send a refused one with the next run (unsent)",
		Example: "  autocall journal resolve pending.csv.journal order-1234 placed\n  autocall journal resolve pending.csv.journal order-77 unsent   # refused for quota, now topped up",
		Args:    cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			to := batch.State(args[2])
			if to != batch.Placed && to != batch.Unsent {
				return usagef("the outcome is placed or unsent, not %q", args[2])
			}
			fj, err := batch.OpenFile(args[0])
			if err != nil {
				return err
			}
			defer fj.Close()
			if err := batch.Resolve(cmd.Context(), fj, args[1], to); err != nil {
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

func (a *app) sandboxCommand() *cobra.Command {
	var addr, start string
	var frozen bool
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run the built-in sandbox of both APIs as a server, for tests in any language",
		Long: `Runs the in-process sandbox (package autocalltest) as an HTTP server: both
providers' APIs, their envelopes, auth and quotas; nobody is phoned. Its
clock runs in real time, so calls ring and end by themselves. The callee's
number chooses the outcome (…0001 busy, …0002 no answer; see autocalltest).
It prints its base URL and credentials, then serves until interrupted.

A test in any language sees what the sandbox received and placed, and
scripts faults, over HTTP under /_sandbox/ (JSON; no credential):

  GET    /_sandbox/calls      {"calls": [{"id", "campaign_id", "phone", "type", "status", "keypress"}]}
                              every TEL4VN call placed, oldest first ("status" is "" until it ends)
  GET    /_sandbox/sessions   {"sessions": [{"id", "phones", "extensions", "steps", "uuids", ...}]}
                              every OMICall auto-call session accepted
  GET    /_sandbox/requests   {"requests": [{"method", "path", "query", "header", "body", "time"}]}
                              every request received, secrets redacted; ?path=P keeps one path's
                              (a trailing * keeps a prefix's)
  POST   /_sandbox/faults     {"path": "/api/v2/campaigns/1/otp", "count": 1, "process": true, "reset": true}
                              the next count requests to path (a trailing * matches a prefix)
                              misbehave: delay_ms, then with process the call is placed, then
                              reset (connection reset), html (an HTML error page), or status
                              and body (any answer; content_type, header {"Name": "value"})
                              A fault that does nothing, or conflicting fields (reset with
                              status, html with body), are answered 400 naming the conflict
  DELETE /_sandbox/faults     drops the faults not used yet
  POST   /_sandbox/advance    {"seconds": 25} moves the sandbox clock further;
                              {"to": "2026-12-01T16:59:00+07:00"} moves it to a time (never back)
  GET    /_sandbox/now        {"now": "…"}: the sandbox clock

--start sets the clock's first reading and --frozen stops it from moving
but by /_sandbox/advance, so that the hours and the 24-hour rule of an
advertising campaign are tested without waiting; set the command's own
clock for those rules to the same time with AUTOCALL_NOW=2026-12-01T16:59:00+07:00
(it moves on with the wall clock from there; it is read only with a base
URL on this machine).

So a test checks "nobody phoned twice": count each phone in /_sandbox/calls
after scripting {"process": true, "reset": true} (the call placed, the
answer lost) and running your code twice.`,
		Example: `  autocall sandbox --addr 127.0.0.1:8080
  AUTOCALL_BASE_URL=http://127.0.0.1:8080 AUTOCALL_SECRET_KEY=<printed key> your-service
  curl -d '{"path":"/api/v2/campaigns/1/otp","process":true,"reset":true}' http://127.0.0.1:8080/_sandbox/faults
  curl http://127.0.0.1:8080/_sandbox/calls`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := []autocalltest.Option{autocalltest.WithControlAPI()}
			if !frozen {
				opts = append(opts, autocalltest.WithRealTime())
			}
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return usagef("--start: %q is not a time such as 2026-12-01T16:59:00+07:00", start)
				}
				opts = append(opts, autocalltest.WithStartTime(t))
			}
			srv, err := autocalltest.Listen(addr, opts...)
			if err != nil {
				return usagef("listening on %s: %v", addr, err)
			}
			defer srv.Close()
			if a.jsonOut {
				a.printJSON(map[string]string{"base_url": srv.URL, "secret_key": autocalltest.SecretKey, "api_key": autocalltest.APIKey,
					"control_url": srv.URL + autocalltest.ControlPrefix})
			} else {
				fmt.Fprintf(a.stdout, "sandbox listening\nAUTOCALL_BASE_URL=%s\nAUTOCALL_SECRET_KEY=%s   # TEL4VN\nAUTOCALL_API_KEY=%s   # OMICall\ncalls, requests, faults: %s%s (see autocall sandbox --help)\n",
					srv.URL, autocalltest.SecretKey, autocalltest.APIKey, srv.URL, autocalltest.ControlPrefix)
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "where to listen")
	cmd.Flags().StringVar(&start, "start", "", "the sandbox clock's first reading, RFC 3339 (default: now)")
	cmd.Flags().BoolVar(&frozen, "frozen", false, "the clock moves only by POST /_sandbox/advance")
	return cmd
}

func (a *app) listenCommand() *cobra.Command {
	var addr, key, path string
	var inflight, maxConns int
	var mf metricsFlags
	cmd := &cobra.Command{
		Use:   "listen",
		Short: "Receive call events (webhooks) and print each as one JSON line",
		Long: `Serves autocall.WebhookHandler at --path and prints each event it receives
as one JSON line on standard output, as 'stripe listen' does: point a
request's callback_url here to try callbacks by hand. The key is the
request's callback_apikey; events without it are refused with 401. At most
--max-inflight events (up to 1 MiB each) are read at once; more are
answered 503 with Retry-After, so that memory stays bounded in a burst.
At most --max-conns connections are open at once, each with a header of
at most 32 KiB (larger is answered 431); more wait to be accepted, and
when every connection is taken, the one idle the longest between
requests (a sender's keep-alive) is closed to make room. An idle
connection is closed after 30 s, one that sends no complete header in
10 s too.`,
		Example: `  autocall listen --addr 127.0.0.1:9000 --key api_key_123
  autocall otp send ... --callback-url http://127.0.0.1:9000/events --callback-key api_key_123 0987654321`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if key == "" {
				key = a.env("AUTOCALL_CALLBACK_KEY")
			}
			if key == "" {
				return usagef("--key (or AUTOCALL_CALLBACK_KEY) is required: the events' callback_apikey")
			}
			if inflight < 1 {
				return usagef("--max-inflight must be at least 1")
			}
			if maxConns < 1 {
				return usagef("--max-conns must be at least 1")
			}
			m, stopMetrics, err := a.serveMetrics(mf)
			if err != nil {
				return err
			}
			defer stopMetrics()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return usagef("listening on %s: %v", addr, err)
			}
			var mu sync.Mutex
			h := autocall.WebhookHandler(key, func(_ context.Context, ev *autocall.CallEvent) error {
				mu.Lock()
				defer mu.Unlock()
				line, err := json.Marshal(map[string]any{"key": ev.Key(), "call_id": ev.CallID, "campaign_id": ev.CampaignID,
					"phone": ev.Phone, "state": ev.State, "status": ev.Status, "final": ev.Final(), "keypress": ev.Keypress,
					"duration_seconds": ev.Duration.Seconds(), "raw": ev.Raw})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(a.stdout, "%s\n", line)
				return err
			}, autocall.WithWebhookConcurrency(inflight))
			mux := http.NewServeMux()
			mux.Handle(path, h)
			// ReadTimeout: a sender that stalls mid-body gives its slot back;
			// ReadHeaderTimeout and the connection limit do the same for
			// one that stalls in its header, IdleTimeout and the limit for
			// a keep-alive connection left idle (listen_limit.go).
			lim := newLimitListener(ln, maxConns)
			srv := &http.Server{Handler: m.countRequests(mux), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
				IdleTimeout: 30 * time.Second, MaxHeaderBytes: listenMaxHeaderBytes, ConnState: lim.connState}
			ln = lim
			fmt.Fprintf(a.stderr, "listening for events at http://%s%s\n", ln.Addr(), path)
			go func() {
				<-cmd.Context().Done()
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(sctx)
			}()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:9000", "where to listen")
	cmd.Flags().StringVar(&key, "key", "", "the callback_apikey events must carry (env AUTOCALL_CALLBACK_KEY)")
	cmd.Flags().StringVar(&path, "path", "/", "the path to serve")
	cmd.Flags().IntVar(&inflight, "max-inflight", 8, "events read at once (each up to 1 MiB); more are answered 503 with Retry-After")
	cmd.Flags().IntVar(&maxConns, "max-conns", 256, "connections open at once (each with a header up to 32 KiB); more wait to be accepted, idle ones closed to make room")
	addMetricsFlags(cmd, &mf)
	return cmd
}
