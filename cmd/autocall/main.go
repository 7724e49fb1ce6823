// Command autocall sends OTP, text-to-speech and auto-calls from the command
// line, one at a time or a CSV at a time through a batch journal that never
// phones anyone twice; it looks calls up, checks credentials, previews what a
// customer will hear, and runs the built-in sandbox for tests in any
// language.
//
//	git clone https://github.com/autocallvn/autocall-go
//	cd autocall-go/cmd/autocall && go install .
//	autocall --help
//
// (Not go install …@latest: its go.mod replaces the SDK, Redis and River
// modules with the clone's, which Go refuses for an install by version.)
//
// Configuration comes from the environment (AUTOCALL_BASE_URL,
// AUTOCALL_SECRET_KEY, AUTOCALL_API_KEY, AUTOCALL_ACCESS_TOKEN with
// AUTOCALL_PROVIDER; AUTOCALL_CALLBACK_KEY for webhooks), and flags
// override it. Secrets are never printed.
//
// Exit codes, for cron and scripts:
//
//	0  done
//	1  anything else
//	2  usage or validation error: nothing was sent
//	3  the credential was refused
//	4  the provider refused (quota, balance, not found, rate limit, …)
//	5  outcome unknown: a call may have been placed; do not re-run blindly, look at the journal
//	6  partial: this run refused some callees or rows, and placed the others
//	7  not sent: the network (or the token source) failed before anything reached the provider
//	8  later: nothing wrong, rows wait for a time (the provider's pause, Decree 91's hours or
//	   interval); run again after the time printed
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(execute(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// execute runs the command line and returns the exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) int {
	a := &app{stdout: stdout, stderr: stderr, env: env}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		return a.fail(err)
	}
	return a.code
}
