// Command autocall-worker works the call jobs an order service inserts
// with package autocallriver (River on PostgreSQL), from configuration
// alone:
//
//	autocall-worker migrate   # River's tables and the journal's
//	autocall-worker run       # works the jobs until SIGTERM
//
// Configuration, from the environment (each also as NAME_FILE, a file
// holding the value, for secrets mounted as files):
//
//	DATABASE_URL             postgres://user@host/db (required)
//	AUTOCALL_BASE_URL        the provider's API; empty: the built-in sandbox
//	AUTOCALL_SECRET_KEY      TEL4VN's secret key (OTP and TTS jobs)
//	AUTOCALL_API_KEY         OMICall's API key (auto-call jobs)
//	AUTOCALL_CALLBACK_KEY    sent with each job's callback_url
//	AUTOCALL_DNC_FILE        the Do-Not-Call list advertising jobs are held
//	                         to (or --dnc), read at start
//
// With neither AUTOCALL_BASE_URL nor a credential the worker runs against
// the built-in sandbox (package autocalltest): nobody is phoned, as in the
// SDK's quickstart. A credential without AUTOCALL_BASE_URL is refused: the
// jobs of a real account would be recorded placed on the sandbox.
//
// The journal is compacted at start and every --compact-every (1h): a
// settled job's record goes after --retention (30d), its key after
// --key-retention (365d); a job whose key is remembered but whose record
// is gone is refused as forgotten (batch.Retention).
//
// Exit codes: 0 when it stopped as asked (SIGTERM or SIGINT, before or
// after it started working), 1 for anything else (bad configuration, a
// database that stayed unreachable for --wait-db, a failed migration).
//
// With --metrics-addr ADDR the worker serves Prometheus metrics at
// http://ADDR/metrics (package autocallotel's, through OpenTelemetry's
// Prometheus exporter): calls by operation and outcome, jobs by state,
// journal claim and settle latency, and River's own (otelriver). No label
// holds a key, a phone number or a call id.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(execute(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func execute(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := rootCommand(ctx, stdout, stderr, getenv)
	cmd.SetArgs(args)
	switch err := cmd.ExecuteContext(ctx); {
	case err == nil:
		return 0
	case errors.Is(err, errStopped):
		fmt.Fprintln(stderr, "autocall-worker: stopped before the database was reached")
		return 0
	default:
		fmt.Fprintln(stderr, "autocall-worker:", err)
		return 1
	}
}

// errStopped: the worker was told to stop before it started working.
var errStopped = errors.New("stopped before starting")
