package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/cobra"

	autocall "github.com/autocallvn/autocall-go"
)

func (a *app) listenCommand() *cobra.Command {
	var addr, key, path, journal string
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
10 s too.

With --journal (a shared journal: redis://… or postgres://…, as the batch
commands and autocall-worker name it), each event also settles the
unknown OTP and TTS job it provably belongs to (batch.SettleFromEvents):
placed, with its call id. An event the journal cannot be written for is
answered 500, so that the provider delivers it again.`,
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
			settle, closeJournal, err := a.eventSettler(cmd.Context(), journal)
			if err != nil {
				return err
			}
			defer closeJournal()
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
			h := autocall.WebhookHandler(key, func(ctx context.Context, ev *autocall.CallEvent) error {
				// Settled first: an event whose job cannot be written is
				// answered 500 and delivered again.
				if err := settle(ctx, ev); err != nil {
					return err
				}
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
	cmd.Flags().StringVar(&journal, "journal", "", "settle unknown jobs of this shared journal (redis://… or postgres://…) from the events")
	cmd.Flags().IntVar(&inflight, "max-inflight", 8, "events read at once (each up to 1 MiB); more are answered 503 with Retry-After")
	cmd.Flags().IntVar(&maxConns, "max-conns", 256, "connections open at once (each with a header up to 32 KiB); more wait to be accepted, idle ones closed to make room")
	addMetricsFlags(cmd, &mf)
	return cmd
}
