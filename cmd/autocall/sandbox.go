package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/autocallvn/autocall-go/autocalltest"
)

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
