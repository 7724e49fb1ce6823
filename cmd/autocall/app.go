package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	// cobra is the Go ecosystem's convention for commands (kubectl, gh,
	// hugo): nested commands, --help with examples, and shell completion
	// come with it, and it is well kept.
	"github.com/spf13/cobra"

	autocall "github.com/autocallvn/autocall-go"
)

// app holds what every command shares.
type app struct {
	stdout, stderr io.Writer
	env            func(string) string
	code           int // set by a command that succeeded only in part

	baseURL                         string
	secretKey, apiKey, accessToken  string
	secretFile, apiFile, accessFile string
	provider                        string
	jsonOut, dryRun                 bool
	timeout                         time.Duration
}

// usageError is a mistake on the command line: exit 2, nothing sent.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "autocall",
		Short: "OTP, text-to-speech and auto-calls (TEL4VN, OMICall) from the command line",
		Long: `autocall places OTP voice calls, text-to-speech calls and auto-calls through
TEL4VN and OMICall, one call or a whole CSV at a time. A CSV goes through a
journal next to it, so running the same command twice phones nobody twice.

Configuration: AUTOCALL_BASE_URL and one of AUTOCALL_SECRET_KEY (TEL4VN),
AUTOCALL_API_KEY (OMICall) or AUTOCALL_ACCESS_TOKEN (with AUTOCALL_PROVIDER);
AUTOCALL_CALLBACK_KEY for the key sent with --callback-url's events.
Flags override the environment: a credential given by flag (or --*-file)
replaces the environment's credentials entirely, and only one may be given
by flags. Prefer the environment or --*-file for secrets: a flag's value
shows in ps and in your shell's history.

` + exitCodeHelp,
		Example: `  export AUTOCALL_BASE_URL=https://api.example AUTOCALL_SECRET_KEY=...
  autocall otp send --campaign 1 --caller 02873001234 --code 4711 0987654321
  autocall otp send --campaign 1 --caller 02873001234 --csv pending.csv
  autocall sandbox --addr 127.0.0.1:8080`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.baseURL, "base-url", "", "provider base URL (env AUTOCALL_BASE_URL)")
	pf.StringVar(&a.secretKey, "secret-key", "", "TEL4VN secret key (env AUTOCALL_SECRET_KEY; prefer --secret-key-file)")
	pf.StringVar(&a.secretFile, "secret-key-file", "", "read the TEL4VN secret key from this file")
	pf.StringVar(&a.apiKey, "api-key", "", "OMICall API key (env AUTOCALL_API_KEY; prefer --api-key-file)")
	pf.StringVar(&a.apiFile, "api-key-file", "", "read the OMICall API key from this file")
	pf.StringVar(&a.accessToken, "access-token", "", "a token issued out of band (env AUTOCALL_ACCESS_TOKEN)")
	pf.StringVar(&a.accessFile, "access-token-file", "", "read the access token from this file")
	pf.StringVar(&a.provider, "provider", "", "tel4vn or omicall, with an access token (env AUTOCALL_PROVIDER)")
	pf.BoolVar(&a.jsonOut, "json", false, "print JSON (one document, or JSON lines for a batch)")
	pf.BoolVar(&a.dryRun, "dry-run", false, "validate and print the requests that would be sent; send nothing")
	pf.DurationVar(&a.timeout, "timeout", 10*time.Minute, "give up after this long")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		// "otp snd --campaign 1": the misspelt command, not its flags, is
		// the mistake. A flag before any word ("otp --bogus send") is.
		if cmd.HasSubCommands() && cmd.Flags().NArg() > 0 {
			return unknownCommand(cmd, cmd.Flags().Arg(0))
		}
		return usagef("%v (see %s --help)", err, cmd.CommandPath())
	})

	root.AddCommand(a.otpCommand(), a.ttsCommand(), a.callCommand(), a.cdrCommand(), a.journalCommand(),
		a.tokenCommand(), a.sandboxCommand(), a.listenCommand(), a.versionCommand())
	// Added now, not when cobra runs, so that strictUsage covers them too.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	strictUsage(root)
	return root
}

// strictUsage makes every mistake in naming a command exit 2: cobra alone
// prints help and exits 0 for a misspelt subcommand ("otp snd"), and 1 for
// a missing argument.
func strictUsage(c *cobra.Command) {
	for _, sub := range c.Commands() {
		strictUsage(sub)
	}
	if c.Name() == "help" && c.Run != nil {
		// cobra's help prints "Unknown help topic" and exits 0.
		help := c.Run
		c.Run = nil
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if _, rest, err := cmd.Root().Find(args); err != nil || len(rest) > 0 {
				return usagef("no help topic %q (see %s --help)", strings.Join(args, " "), cmd.Root().Name())
			}
			help(cmd, args)
			return nil
		}
		return
	}
	if !c.Runnable() && c.HasSubCommands() {
		c.Args = cobra.ArbitraryArgs
		// Unknown flags are not ignored here: ignoring "--bogus" took the
		// word after it as its value ("otp --bogus send" then named the
		// phone as the unknown command). The flag error function reports
		// a misspelt command before its flags instead.
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s needs a command: %s (see %s --help)", cmd.CommandPath(), strings.Join(commandNames(cmd), ", "), cmd.CommandPath())
			}
			return unknownCommand(cmd, args[0])
		}
		return
	}
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usagef("%s: %v (see %s --help)", cmd.CommandPath(), err, cmd.CommandPath())
			}
			return nil
		}
	}
}

func commandNames(cmd *cobra.Command) []string {
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return names
}

// unknownCommand names a misspelt command, with what was meant.
func unknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(name); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usagef("%s (commands: %s)", msg, strings.Join(commandNames(cmd), ", "))
}

// secret reads a secret from its flag, its file flag or the environment.
func (a *app) secret(flagValue, file, envName string) (string, error) {
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usagef("reading %s: %v", file, err)
		}
		return strings.TrimSpace(string(b)), nil
	case flagValue != "":
		return flagValue, nil
	}
	return a.env(envName), nil
}

// client makes the client a command needs, from flags and the environment.
func (a *app) client(need autocall.Provider) (*autocall.Client, error) {
	base := a.baseURL
	if base == "" {
		base = a.env("AUTOCALL_BASE_URL")
	}
	cred, err := a.credentials()
	if err != nil {
		return nil, err
	}
	secret, apiKey, token := cred.secret, cred.apiKey, cred.token
	var opts []autocall.Option
	switch {
	case need == autocall.TEL4VN && secret != "":
		opts = append(opts, autocall.WithSecretKey(secret))
	case need == autocall.OMICall && apiKey != "":
		opts = append(opts, autocall.WithAPIKey(apiKey))
	case token != "":
		p := a.provider
		if p == "" {
			p = a.env("AUTOCALL_PROVIDER")
		}
		if !strings.EqualFold(p, need.String()) {
			return nil, usagef("this command needs a %s credential; with an access token, set --provider %s", need, strings.ToLower(need.String()))
		}
		opts = append(opts, autocall.WithAccessToken(token), autocall.WithProvider(need))
	case need == autocall.TEL4VN:
		return nil, usagef("this is a TEL4VN command: set AUTOCALL_SECRET_KEY (or --secret-key-file)")
	default:
		return nil, usagef("this is an OMICall command: set AUTOCALL_API_KEY (or --api-key-file)")
	}
	if a.dryRun {
		if base == "" {
			base = "https://provider.dry-run.invalid"
		}
		opts = append(opts, autocall.WithHTTPClient((&dryRun{out: a.stdout, json: a.jsonOut}).client()))
	} else if base == "" {
		return nil, usagef("set AUTOCALL_BASE_URL (or --base-url)")
	}
	return autocall.NewClient(base, opts...)
}

// printJSON prints v as one JSON document.
func (a *app) printJSON(v any) {
	enc := json.NewEncoder(a.stdout)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// fail prints err and returns its exit code.
func (a *app) fail(err error) int {
	code := exitCode(err)
	if a.jsonOut {
		enc := json.NewEncoder(a.stderr)
		_ = enc.Encode(map[string]any{"error": err.Error(), "exit_code": code})
	} else {
		fmt.Fprintf(a.stderr, "autocall: %s\n", strings.TrimPrefix(err.Error(), "autocall: "))
		if code == exitUnknown {
			what := "The call may have been placed."
			var ou *autocall.OutcomeUnknownError
			if errors.As(err, &ou) && strings.HasSuffix(ou.Path, "/voice/import") {
				what = "The template may have been imported."
			}
			fmt.Fprintln(a.stderr, what, "Do not run the command again blindly: find out first.")
		}
	}
	return code
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version",
		Example: "  autocall version",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if a.jsonOut {
				a.printJSON(map[string]string{"version": autocall.Version})
			} else {
				fmt.Fprintf(a.stdout, "autocall %s\n", autocall.Version)
			}
			return nil
		},
	}
}

// call runs fn with a client for p, bounded by --timeout.
func (a *app) call(cmd *cobra.Command, p autocall.Provider, fn func(context.Context, *autocall.Client) error) error {
	if err := adFlagsNeedCSV(cmd); err != nil {
		return err
	}
	c, err := a.client(p)
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
	defer cancel()
	return fn(ctx, c)
}
