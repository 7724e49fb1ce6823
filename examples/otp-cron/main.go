// Otp-cron sends the OTP voice calls listed in a CSV file, through a batch
// journal kept next to the file, so that a cron job can run it every
// minute: a customer is never phoned twice for one row, whether the file is
// run again, the last run died half way, or an answer was lost.
//
// Each row is "key,phone,code"; a header row is allowed (in any case, after
// Excel's BOM). The key is yours (an order id, a login attempt): it is what
// "at most once" is about. A last line without its newline may be
// half-written: it is left for the next run.
//
//	otp-cron -campaign 1 -caller 02873001234 pending.csv   # the built-in sandbox
//	AUTOCALL_BASE_URL=https://… AUTOCALL_SECRET_KEY=… otp-cron -campaign 1 -caller 02873001234 pending.csv
//
// Without AUTOCALL_BASE_URL (and without a key) it runs against the
// built-in sandbox: nobody is phoned; a key without AUTOCALL_BASE_URL is
// refused, since its rows would be recorded placed on the sandbox. The journal is pending.csv.journal unless -journal says otherwise.
// A row that is not a valid request (a bad phone, an empty code) is refused
// and recorded, and the others go on; a row that cannot be read (no key, a
// key used twice, a field missing) is refused by each run until it is fixed. A row whose outcome is unknown is
// never resent: look it up, then mark it with the batch package's Resolve.
//
// Exit status: 0 when every row is placed (now or by an earlier run); 1 when
// some were refused, left unsent or are unknown (each is printed); 2 for a
// usage, configuration or file error (nothing sent). A run that finds the
// journal held by another run sends nothing and exits 1, as the autocall
// command does: nobody is phoned twice, but runs that outlast the cron
// interval are worth a person's look.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/time/rate"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
	"github.com/autocallvn/autocall-go/batch/csvrows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) int {
	fs := flag.NewFlagSet("otp-cron", flag.ContinueOnError)
	fs.SetOutput(stderr)
	campaign := fs.String("campaign", "", "TEL4VN campaign id (required)")
	caller := fs.String("caller", "", "the number calls come from (required)")
	template := fs.String("template", "template_otp_1", "the OTP template name")
	journalPath := fs.String("journal", "", "the batch journal (default: the CSV's path + .journal)")
	workers := fs.Int("workers", 4, "calls placed at once")
	perSecond := fs.Float64("rate", 10, "at most this many requests a second (0: no limit)")
	timeout := fs.Duration("timeout", 10*time.Minute, "stop taking rows after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "otp-cron: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() != 1 || *campaign == "" || *caller == "" {
		return fail("usage: otp-cron -campaign ID -caller NUMBER [-template NAME] [-journal FILE] pending.csv")
	}
	file, err := readRows(fs.Arg(0))
	if err != nil {
		return fail("%v", err)
	}
	for _, r := range file.Refused {
		where := fmt.Sprintf("line %d", r.Line)
		if r.Key != "" {
			where += " " + r.Key
		}
		fmt.Fprintf(stdout, "REFUSED  %s: %s (fix the row: it goes with the next run)\n", where, r.Reason)
	}
	if file.Held > 0 {
		fmt.Fprintf(stdout, "HELD     line %d: no newline at its end yet (it may be half-written): left for the next run\n", file.Held)
	}
	rows := file.Rows
	c, closeClient, err := client(env, stdout)
	if err != nil {
		return fail("%v", err)
	}
	defer closeClient()
	if *journalPath == "" {
		*journalPath = fs.Arg(0) + ".journal"
	}
	j, err := batch.OpenFile(*journalPath)
	if errors.Is(err, batch.ErrLocked) {
		fmt.Fprintf(stderr, "otp-cron: another run holds %s; nothing sent, leaving it to finish\n", *journalPath)
		return 1
	}
	if err != nil {
		return fail("%v", err)
	}
	defer j.Close()

	jobs := make([]batch.Job, len(rows))
	lines := map[string]int{}
	for i, r := range rows {
		lines[r.Get("key")] = r.Line
		jobs[i] = batch.Job{Key: r.Get("key"), Op: batch.OTP(*campaign, &autocall.OTPRequest{
			Caller: *caller, Callees: []string{r.Get("phone")}, TemplateName: *template, Code: r.Get("code")})}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	skipped := 0
	runner := &batch.Runner{TEL4VN: c, Journal: j, Workers: *workers, Progress: func(p batch.Progress) {
		if p.Skipped > skipped { // settled by an earlier run: nothing sent now
			skipped = p.Skipped
			fmt.Fprintf(stdout, "EARLIER  line %d %s: %s by an earlier run, not sent again\n", lines[p.LastKey], p.LastKey, p.LastState)
			return
		}
		switch p.LastState {
		case batch.Placed:
			fmt.Fprintf(stdout, "SENT     line %d %s\n", lines[p.LastKey], p.LastKey)
		case batch.Refused:
			fmt.Fprintf(stdout, "REFUSED  line %d %s: %v\n", lines[p.LastKey], p.LastKey, p.LastErr)
		case batch.Unknown:
			fmt.Fprintf(stdout, "UNKNOWN  line %d %s: may have been called, never resent: %v\n", lines[p.LastKey], p.LastKey, p.LastErr)
		case batch.Unsent:
			fmt.Fprintf(stdout, "UNSENT   line %d %s: not sent, the next run sends it: %v\n", lines[p.LastKey], p.LastKey, p.LastErr)
		}
	}}
	if *perSecond > 0 {
		runner.Rate, runner.Burst = rate.Limit(*perSecond), 1
	}
	rep, err := runner.Run(ctx, jobs)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "%d placed, %d refused, %d unknown, %d unsent; earlier runs: %d placed, %d refused, %d unknown\n",
		rep.Placed, rep.Refused, rep.Unknown, rep.Unsent, rep.AlreadyPlaced, rep.AlreadyRefused, rep.StillUnknown)
	if rep.Stopped != nil {
		fmt.Fprintf(stderr, "otp-cron: stopped early: %v\n(the rows not sent go with the next run)\n", rep.Stopped)
	}
	if len(rep.UnknownKeys) > 0 {
		fmt.Fprintf(stderr, "otp-cron: outcome unknown for %s: these are never resent; once you know, mark each placed or unsent in %s\n",
			strings.Join(rep.UnknownKeys, ", "), *journalPath)
	}
	if rep.Placed+rep.AlreadyPlaced < rep.Total || len(file.Refused) > 0 {
		return 1
	}
	return 0
}

// client is the real provider when the environment names one, else the
// built-in sandbox.
func client(env func(string) string, stdout io.Writer) (*autocall.Client, func(), error) {
	if env("AUTOCALL_BASE_URL") == "" && env("AUTOCALL_SECRET_KEY") != "" {
		// A real account's key: on the sandbox its rows would be recorded
		// placed in the journal and never called.
		return nil, nil, errors.New("AUTOCALL_SECRET_KEY is set but AUTOCALL_BASE_URL is not: set it to TEL4VN's API (unset the key to run on the built-in sandbox)")
	}
	if env("AUTOCALL_BASE_URL") == "" {
		srv := autocalltest.NewServer()
		c, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey))
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		fmt.Fprintf(stdout, "Using the built-in sandbox (set AUTOCALL_BASE_URL and AUTOCALL_SECRET_KEY for TEL4VN): nobody is phoned.\n")
		return c, func() { c.CloseIdleConnections(); srv.Close() }, nil
	}
	if env("AUTOCALL_SECRET_KEY") == "" {
		return nil, nil, errors.New("AUTOCALL_BASE_URL is set: AUTOCALL_SECRET_KEY must be too")
	}
	c, err := autocall.NewClient(env("AUTOCALL_BASE_URL"), autocall.WithSecretKey(env("AUTOCALL_SECRET_KEY")))
	if err != nil {
		return nil, nil, err
	}
	return c, c.CloseIdleConnections, nil
}

// readRows reads the file the way the autocall command does: a UTF-8 BOM
// is stripped, a last line without its newline is left for the next run (it
// may be half-written), and a row that cannot be read (no key, a key used
// twice, a field missing) is refused alone. A file that cannot be read at
// all sends nothing; a bad phone or code is for the batch to refuse and
// record.
func readRows(path string) (*csvrows.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := csvrows.Read(data, csvrows.Options{Fixed: columns, Required: columns[1:], Default: columns})
	if err != nil {
		return nil, fmt.Errorf("%s: nothing sent: %w", path, err)
	}
	return f, nil
}

// columns are a row's, and the header of a file without one.
var columns = []string{"key", "phone", "code"}
