// Quickstart walks through the whole SDK: token, OTP, TTS template import,
// preview and run, auto-call by phone, and CDR lookup.
//
// With no environment it runs against the built-in sandbox (autocalltest),
// in-process: no account, no network, nobody phoned.
//
//	go run ./examples/quickstart
//
// To talk to a real provider, set AUTOCALL_BASE_URL and one credential:
// AUTOCALL_SECRET_KEY (TEL4VN), AUTOCALL_API_KEY (OMICall) or
// AUTOCALL_ACCESS_TOKEN (with AUTOCALL_PROVIDER=tel4vn or omicall). Calls
// are placed only when AUTOCALL_TO names the phone to call; the TEL4VN
// steps also need AUTOCALL_CAMPAIGN_ID and AUTOCALL_CALLER.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// config is what the quickstart runs against.
type config struct {
	tel4vn, omicall *autocall.Client // either may be nil for a real provider
	sandbox         *autocalltest.Server
	campaignID      string
	caller          string
	to              string // empty: place no call
}

func run(ctx context.Context, out io.Writer, env func(string) string) error {
	cfg, err := configure(env)
	if err != nil {
		return err
	}
	if cfg.sandbox != nil {
		defer cfg.sandbox.Close()
		fmt.Fprintf(out, "Using the built-in sandbox at %s (set AUTOCALL_BASE_URL and a credential for a real provider).\n\n", cfg.sandbox.URL)
	} else {
		fmt.Fprintf(out, "Using the REAL provider at %s.\n\n", env("AUTOCALL_BASE_URL"))
	}
	p := &printer{out: out}
	if cfg.tel4vn != nil {
		if err := tel4vnSteps(ctx, p, cfg); err != nil {
			return err
		}
	}
	if cfg.omicall != nil {
		if err := omicallSteps(ctx, p, cfg); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "\nDone.")
	return nil
}

func configure(env func(string) string) (*config, error) {
	base := env("AUTOCALL_BASE_URL")
	if base == "" {
		srv := autocalltest.NewServer()
		t, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey))
		if err != nil {
			srv.Close()
			return nil, err
		}
		o, err := autocall.NewClient(srv.URL, autocall.WithAPIKey(autocalltest.APIKey))
		if err != nil {
			srv.Close()
			return nil, err
		}
		return &config{tel4vn: t, omicall: o, sandbox: srv, campaignID: "1", caller: "02873001234", to: "0987654321"}, nil
	}

	cfg := &config{campaignID: env("AUTOCALL_CAMPAIGN_ID"), caller: env("AUTOCALL_CALLER"), to: env("AUTOCALL_TO")}
	var (
		opt      autocall.Option
		provider string
	)
	switch {
	case env("AUTOCALL_SECRET_KEY") != "":
		opt, provider = autocall.WithSecretKey(env("AUTOCALL_SECRET_KEY")), "tel4vn"
	case env("AUTOCALL_API_KEY") != "":
		opt, provider = autocall.WithAPIKey(env("AUTOCALL_API_KEY")), "omicall"
	case env("AUTOCALL_ACCESS_TOKEN") != "":
		opt, provider = autocall.WithAccessToken(env("AUTOCALL_ACCESS_TOKEN")), env("AUTOCALL_PROVIDER")
	default:
		return nil, errors.New("AUTOCALL_BASE_URL is set but no credential: set AUTOCALL_SECRET_KEY, AUTOCALL_API_KEY or AUTOCALL_ACCESS_TOKEN")
	}
	var p autocall.Provider
	switch strings.ToLower(provider) {
	case "tel4vn":
		p = autocall.TEL4VN
	case "omicall":
		p = autocall.OMICall
	default:
		return nil, errors.New("with AUTOCALL_ACCESS_TOKEN, set AUTOCALL_PROVIDER to tel4vn or omicall")
	}
	c, err := autocall.NewClient(base, opt, autocall.WithProvider(p))
	if err != nil {
		return nil, err
	}
	if p == autocall.TEL4VN {
		cfg.tel4vn = c
	} else {
		cfg.omicall = c
	}
	return cfg, nil
}

type printer struct {
	out  io.Writer
	step int
}

func (p *printer) title(s string) {
	p.step++
	fmt.Fprintf(p.out, "%d. %s\n", p.step, s)
}

func (p *printer) line(format string, args ...any) {
	fmt.Fprintf(p.out, "   "+format+"\n", args...)
}

func tel4vnSteps(ctx context.Context, p *printer, cfg *config) error {
	c := cfg.tel4vn
	p.title("TEL4VN: access token from the secret key")
	if err := c.Authenticate(ctx); err != nil {
		return err
	}
	p.line("ok: token cached, refreshed before it expires")

	tmpl := autocall.Template{Name: "thong_bao_no_cuoc_01",
		Content: "Chào bạn {{customer_name}} vui lòng thanh toán khoản nợ {{due_amount}} trước ngày {{due_date}}"}
	params := map[string]string{
		"customer_name": "Nguyễn Văn A",
		"due_amount":    autocall.Money(10410000),
		"due_date":      autocall.Date(time.Date(2021, 1, 30, 0, 0, 0, 0, time.UTC)),
	}
	p.title("TTS: preview what the customer will hear")
	preview, err := tmpl.Preview(params)
	if err != nil {
		return err
	}
	p.line("template: %s", tmpl.Content)
	p.line("heard:    %s", preview)

	if cfg.to == "" || cfg.campaignID == "" || cfg.caller == "" {
		p.title("Calls skipped: set AUTOCALL_TO, AUTOCALL_CAMPAIGN_ID and AUTOCALL_CALLER to place real calls")
		return nil
	}

	p.title("OTP: read a one-time code to " + cfg.to)
	otp, err := c.OTP.Send(ctx, cfg.campaignID, &autocall.OTPRequest{
		Caller: cfg.caller, Callees: []string{cfg.to}, TemplateName: "template_otp_1", Code: "M43TUI",
	})
	if err != nil {
		return explain(err)
	}
	printResult(p, otp)

	p.title("TTS: import the template")
	if err := c.TTS.ImportTemplate(ctx, cfg.campaignID, &tmpl); err != nil {
		return explain(err)
	}
	p.line("imported %q", tmpl.Name)

	p.title("TTS: run it for " + cfg.to)
	tts, err := c.TTS.Run(ctx, cfg.campaignID, &autocall.TTSRequest{
		Caller: cfg.caller, Callees: []string{cfg.to}, Template: &tmpl, Params: params,
	})
	if err != nil {
		return explain(err)
	}
	printResult(p, tts)

	if len(tts.Accepted) == 0 {
		return nil
	}
	p.title("CDR: how did the TTS call end?")
	if cfg.sandbox != nil {
		cfg.sandbox.Advance(autocalltest.RingTime + autocalltest.TalkTime) // sandbox time: the call rings, is answered, ends
	}
	cdr, err := c.CDR.Wait(ctx, tts.Accepted[0], autocall.WithPollInterval(time.Second, 15*time.Second))
	if err != nil {
		return explain(err)
	}
	p.line("call %s", cdr.ID)
	p.line("status %s after %s, answered at %s", cdr.Status, cdr.Duration, cdr.StartedAt.Format("2006-01-02 15:04:05 -07:00 (Vietnam time)"))
	if cdr.Keypress == autocall.KeypressHangup {
		p.line("key %s: no key pressed, the callee hung up", cdr.Keypress)
	} else {
		p.line("key %s pressed", cdr.Keypress)
	}

	if cfg.sandbox != nil {
		return unknownOutcome(ctx, p, cfg)
	}
	return nil
}

// unknownOutcome shows, on the sandbox only, what an answer lost on the way
// back looks like and what to do about it.
func unknownOutcome(ctx context.Context, p *printer, cfg *config) error {
	p.title("When the answer is lost: ErrOutcomeUnknown")
	otpPath := "/api/v2/campaigns/" + cfg.campaignID + "/otp"
	before := len(cfg.sandbox.Calls())
	// The sandbox places the call, then resets the connection instead of answering.
	cfg.sandbox.FailNext(otpPath, 1, autocalltest.Fault{Process: true, Reset: true})
	_, err := cfg.tel4vn.OTP.Send(ctx, cfg.campaignID, &autocall.OTPRequest{
		Caller: cfg.caller, Callees: []string{cfg.to}, TemplateName: "template_otp_1", Code: "M43TUI",
	})
	if !errors.Is(err, autocall.ErrOutcomeUnknown) {
		return fmt.Errorf("expected ErrOutcomeUnknown, got %v", err)
	}
	p.line("error: %v", err)
	p.line("the SDK sent the request once and did not resend it; the provider did place %d call",
		len(cfg.sandbox.Calls())-before)
	p.line("what to do: do not resend blindly. TEL4VN posts an event for the call to your")
	p.line("callback_url (autocall.WebhookHandler); no event within minutes means no call.")
	return nil
}

func omicallSteps(ctx context.Context, p *printer, cfg *config) error {
	c := cfg.omicall
	p.title("OMICall: access token from the API key")
	if err := c.Authenticate(ctx); err != nil {
		return err
	}
	p.line("ok")
	if cfg.to == "" {
		p.title("Auto-call skipped: set AUTOCALL_TO to place a real call")
		return nil
	}
	p.title("Auto-call by phone: text, then text, then a recording")
	plan := autocall.NewDialplan().Text("Đơn hàng của bạn là").Text("CKHDKD00203").Recording("5ed0c6dffb7b390007e5211")
	sess, err := c.AutoCall.ExecuteByPhone(ctx, &autocall.PhoneCallRequest{
		Name: "Chiến dịch giới thiệu sản phẩm mới", Voice: autocall.VoiceBanMai,
		Dialplan: plan, Phones: []string{"+84 98 765 43 21"},
		NumRetry: 1, DistancePerCall: 30 * time.Second,
	})
	if err != nil {
		return explain(err)
	}
	p.line("accepted: session %s (%q), %d characters of text", sess.ID, sess.Name, plan.TextChars())
	for _, rej := range sess.Rejected {
		p.line("not called: %s: %s", rej.Phone, rej.Reason)
	}
	p.line("OMICall now calls on its side; it has no report API: the outcome is in its portal")
	return nil
}

func printResult(p *printer, r *autocall.CampaignResult) {
	for _, id := range r.Accepted {
		p.line("accepted: %s (phone %s)", id, id.Phone())
	}
	for _, rej := range r.Rejected {
		p.line("rejected: %s: %s", rej.Phone, rej.Reason)
	}
}

// explain adds what to do about the errors a user can meet.
func explain(err error) error {
	switch {
	case errors.Is(err, autocall.ErrOutcomeUnknown):
		return fmt.Errorf("%w\n(the call may have been placed: look it up before trying again)", err)
	case errors.Is(err, autocall.ErrValidation):
		return fmt.Errorf("%w\n(nothing was sent)", err)
	}
	return err
}
