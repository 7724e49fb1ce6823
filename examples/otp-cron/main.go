// Otp-cron sends the OTP voice calls listed in a CSV file; a cron job runs
// it. Each row is "phone,code"; a header row "phone,code" is allowed.
//
//	AUTOCALL_BASE_URL=https://… AUTOCALL_SECRET_KEY=… \
//	  otp-cron -campaign 1 -caller 02873001234 -template template_otp_1 pending.csv
//
// Every row is checked before any call is placed, so a bad file sends
// nothing. A call whose outcome is unknown is not retried: it may have been
// placed, and a second call would phone the customer twice.
//
// Exit status: 0 when every OTP was accepted; 1 when some failed or were
// rejected (each is printed); 2 for a usage, configuration or file error.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	autocall "github.com/autocallvn/autocall-go"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

type pending struct {
	line        int
	phone, code string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, env func(string) string) int {
	fs := flag.NewFlagSet("otp-cron", flag.ContinueOnError)
	fs.SetOutput(stderr)
	campaign := fs.String("campaign", "", "TEL4VN campaign id (required)")
	caller := fs.String("caller", "", "the number calls come from (required)")
	template := fs.String("template", "template_otp_1", "the OTP template name")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "otp-cron: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() != 1 || *campaign == "" || *caller == "" {
		return fail("usage: otp-cron -campaign ID -caller NUMBER [-template NAME] pending.csv")
	}
	if env("AUTOCALL_BASE_URL") == "" || env("AUTOCALL_SECRET_KEY") == "" {
		return fail("AUTOCALL_BASE_URL and AUTOCALL_SECRET_KEY must be set")
	}
	rows, err := readPending(fs.Arg(0))
	if err != nil {
		return fail("%v", err)
	}
	c, err := autocall.NewClient(env("AUTOCALL_BASE_URL"), autocall.WithSecretKey(env("AUTOCALL_SECRET_KEY")))
	if err != nil {
		return fail("%v", err)
	}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := c.Authenticate(ctx); err != nil {
		return fail("cannot authenticate: %v", err)
	}

	failed := 0
	for _, row := range rows {
		res, err := c.OTP.Send(ctx, *campaign, &autocall.OTPRequest{
			Caller: *caller, Callees: []string{row.phone}, TemplateName: *template, Code: row.code,
		})
		switch {
		case errors.Is(err, autocall.ErrOutcomeUnknown):
			failed++
			fmt.Fprintf(stdout, "UNKNOWN  line %d %s: may have been called, not retried: %v\n", row.line, row.phone, err)
		case err != nil:
			failed++
			fmt.Fprintf(stdout, "FAILED   line %d %s: %v\n", row.line, row.phone, err)
		default:
			for _, id := range res.Accepted {
				fmt.Fprintf(stdout, "SENT     line %d %s: call %s\n", row.line, row.phone, id)
			}
			for _, rej := range res.Rejected {
				failed++
				fmt.Fprintf(stdout, "REJECTED line %d %s: %s\n", row.line, rej.Phone, rej.Reason)
			}
		}
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "otp-cron: stopped: %v\n", ctx.Err())
			return 1
		}
	}
	fmt.Fprintf(stdout, "%d sent, %d failed\n", len(rows)-failed, failed)
	if failed > 0 {
		fmt.Fprintf(stderr, "otp-cron: %d of %d OTP calls failed\n", failed, len(rows))
		return 1
	}
	return 0
}

// readPending reads and checks every row before anything is sent.
func readPending(path string) ([]pending, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 2
	r.TrimLeadingSpace = true
	var rows []pending
	var problems []string
	seen := map[string]int{}
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if line == 1 && strings.EqualFold(rec[0], "phone") {
			continue
		}
		phone, err := autocall.NormalizePhone(rec[0])
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("line %d: %v", line, err))
		case strings.TrimSpace(rec[1]) == "":
			problems = append(problems, fmt.Sprintf("line %d: empty code", line))
		case seen[phone] != 0:
			problems = append(problems, fmt.Sprintf("line %d: %s is also on line %d", line, phone, seen[phone]))
		default:
			seen[phone] = line
			rows = append(rows, pending{line: line, phone: phone, code: strings.TrimSpace(rec[1])})
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: nothing sent:\n  %s", path, strings.Join(problems, "\n  "))
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no OTP to send", path)
	}
	return rows, nil
}
