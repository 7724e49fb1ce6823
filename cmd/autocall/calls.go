package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/text/unicode/norm"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
	"github.com/autocallvn/autocall-go/batch/csvrows"
)

// batchFlags are the flags of a command that can run a CSV.
type batchFlags struct {
	csv, journal string
	workers      int
	rate         float64
	heldGrace    time.Duration
	retry        []string  // --retry-refused: "all", or causes (csvbatch.go)
	ad           adFlags   // --purpose, --dnc, --agreed-column (advertising.go)
	keep         keepFlags // --retention, --key-retention, --allow-forgotten (journal_compact.go)
	metrics      metricsFlags
}

func (b *batchFlags) add(cmd *cobra.Command, columns string) {
	f := cmd.Flags()
	f.StringVar(&b.csv, "csv", "", "run every row of this CSV through the journal ("+columns+")")
	f.StringVar(&b.journal, "journal", "", journalSpecHelp)
	f.IntVar(&b.workers, "workers", 4, "requests in flight at once, for --csv")
	f.Float64Var(&b.rate, "rate", 10, "at most this many requests a second, for --csv (0: no limit)")
	f.DurationVar(&b.heldGrace, "held-grace", 2*time.Minute, "a last line without its newline is left for the next run (it may be\n"+
		"half-written) until the file is this old; then it is refused (exit 6), never sent")
	b.addRetry(cmd)
	addMetricsFlags(cmd, &b.metrics)
	b.ad.add(cmd)
	b.keep.add(cmd, true)
}

// alone refuses arguments given with --csv: they would not be called.
func (b *batchFlags) alone(args []string) error {
	if b.csv != "" && len(args) > 0 {
		return usagef("%s given with --csv: call either the CSV's rows or the arguments, not both; nothing was sent", strings.Join(args, " "))
	}
	return nil
}

func (a *app) otpCommand() *cobra.Command {
	otp := &cobra.Command{Use: "otp", Short: "TEL4VN OTP voice calls",
		Example: "  autocall otp send --campaign 1 --caller 02873001234 --code 4711 0987654321"}
	var campaign, caller, template, code, cbURL, cbKey, cbKeyFile string
	var bf batchFlags
	send := &cobra.Command{
		Use:   "send [PHONE...]",
		Short: "Read a one-time code to phones, or to every row of a CSV",
		Example: `  autocall otp send --campaign 1 --caller 02873001234 --code 4711 0987654321
  autocall otp send --campaign 1 --caller 02873001234 --csv pending.csv   # columns key,phone,code`,
		RunE: func(cmd *cobra.Command, phones []string) error {
			if campaign == "" || caller == "" {
				return usagef("--campaign and --caller are required")
			}
			cbKey, err := a.callbackKey(cbKey, cbKeyFile, cbURL)
			if err != nil {
				return err
			}
			req := func(callees []string, rowCode string) *autocall.OTPRequest {
				if rowCode == "" {
					rowCode = code
				}
				return &autocall.OTPRequest{Caller: caller, Callees: callees, TemplateName: template, Code: rowCode,
					CallbackURL: cbURL, CallbackAPIKey: cbKey}
			}
			if err := bf.alone(phones); err != nil {
				return err
			}
			if bf.csv != "" {
				return a.runCSV(cmd.Context(), autocall.TEL4VN, bf, []string{"phone"}, func(r csvrows.Row) (batch.Op, error) {
					return batch.OTP(campaign, req([]string{r.Get("phone")}, r.Get("code"))), nil
				})
			}
			if len(phones) == 0 {
				return usagef("give the phones to call, or --csv")
			}
			return a.call(cmd, autocall.TEL4VN, func(ctx context.Context, c *autocall.Client) error {
				res, err := c.OTP.Send(ctx, campaign, req(phones, ""))
				if err != nil {
					return err
				}
				return a.campaignResult(res)
			})
		},
	}
	f := send.Flags()
	f.StringVar(&campaign, "campaign", "", "the TEL4VN campaign id (required)")
	f.StringVar(&caller, "caller", "", "the number calls come from (required)")
	f.StringVar(&template, "template", "template_otp_1", "the OTP template's name")
	f.StringVar(&code, "code", "", "the code to read (or a code column in the CSV)")
	f.StringVar(&cbURL, "callback-url", "", "where the provider posts call events")
	addCallbackKeyFlags(send, &cbKey, &cbKeyFile)
	bf.add(send, "columns key,phone[,code]")
	otp.AddCommand(send)
	return otp
}

func addCallbackKeyFlags(cmd *cobra.Command, key, file *string) {
	f := cmd.Flags()
	f.StringVar(key, "callback-key", "", "the key sent with each event (env AUTOCALL_CALLBACK_KEY; prefer --callback-key-file)")
	f.StringVar(file, "callback-key-file", "", "read the callback key from this file")
}

// callbackKey is the webhook key, like the other secrets: its flag, its
// file or the environment (a flag's value shows in ps). The environment's
// key goes only with a callback URL: it is meant for the events.
func (a *app) callbackKey(flagValue, file, url string) (string, error) {
	key, err := a.secret(flagValue, file, "AUTOCALL_CALLBACK_KEY")
	if err == nil && url == "" && flagValue == "" && file == "" {
		key = ""
	}
	return key, err
}

// campaignResult prints an OTP or TTS answer and sets the exit code for a
// partial success.
func (a *app) campaignResult(res *autocall.CampaignResult) error {
	if a.dryRun {
		return a.dryRunRefused(res.Rejected)
	}
	if a.jsonOut {
		rej := make([]map[string]string, len(res.Rejected))
		for i, r := range res.Rejected {
			rej[i] = map[string]string{"phone": r.Phone, "reason": r.Reason}
		}
		a.printJSON(map[string]any{"campaign_id": res.CampaignID, "accepted": res.Accepted, "rejected": rej})
	} else {
		for _, id := range res.Accepted {
			fmt.Fprintf(a.stdout, "placed   %s  call %s\n", id.Phone(), id)
		}
		for _, r := range res.Rejected {
			fmt.Fprintf(a.stdout, "refused  %s  %s\n", r.Phone, r.Reason)
		}
	}
	switch {
	case len(res.Rejected) > 0 && len(res.Accepted) > 0:
		a.code = exitPartial
	case len(res.Rejected) > 0:
		a.code = exitRefused
	}
	return nil
}

// dryRunRefused ends a dry run with the callees the SDK refused, and the
// exit code the real run would have: 6 when some are refused (the provider
// may refuse more).
func (a *app) dryRunRefused(rejected []autocall.Rejection) error {
	if len(rejected) > 0 {
		a.code = exitPartial
	}
	if a.jsonOut {
		rej := make([]map[string]string, len(rejected))
		for i, r := range rejected {
			rej[i] = map[string]string{"phone": r.Phone, "reason": r.Reason}
		}
		a.printJSON(map[string]any{"nothing_sent": true, "rejected": rej})
		return nil
	}
	for _, r := range rejected {
		fmt.Fprintf(a.stdout, "refused  %s  %s\n", r.Phone, r.Reason)
	}
	return a.dryRunDone()
}

func (a *app) dryRunDone() error {
	if !a.jsonOut {
		fmt.Fprintln(a.stdout, "dry run: nothing was sent")
	}
	return nil
}

func (a *app) ttsCommand() *cobra.Command {
	tts := &cobra.Command{Use: "tts", Short: "TEL4VN text-to-speech: templates, calls and previews",
		Example: "  autocall tts preview --content \"Chào bạn {{name}}\" --param name=\"Nguyễn Văn A\""}
	var campaign, caller, name, content, cbURL, cbKey, cbKeyFile string
	var params, ignore []string
	var bf batchFlags
	template := func() *autocall.Template {
		if content == "" {
			return nil
		}
		return &autocall.Template{Name: name, Content: content}
	}
	run := &cobra.Command{
		Use:   "run [PHONE...]",
		Short: "Call phones with an imported template, or every row of a CSV",
		Example: `  autocall tts run --campaign 1 --caller 02873001234 --template thong_bao_no_cuoc_01 \
    --param customer_name="Nguyễn Văn A" --param due_amount=10.410.000 --param due_date=30/01/2021 0987654321
  autocall tts run --campaign 1 --caller 02873001234 --template thong_bao_no_cuoc_01 --csv debts.csv
    # columns key,phone and one per placeholder: customer_name,due_amount,due_date`,
		RunE: func(cmd *cobra.Command, phones []string) error {
			if campaign == "" || caller == "" || name == "" {
				return usagef("--campaign, --caller and --template are required")
			}
			fixed, err := keyValues(params)
			if err != nil {
				return err
			}
			cbKey, err := a.callbackKey(cbKey, cbKeyFile, cbURL)
			if err != nil {
				return err
			}
			req := func(callees []string, values map[string]string) *autocall.TTSRequest {
				all := map[string]string{}
				for k, v := range fixed {
					all[k] = v
				}
				for k, v := range values {
					all[k] = v
				}
				return &autocall.TTSRequest{Caller: caller, Callees: callees, TemplateName: name, Template: template(),
					Params: all, CallbackURL: cbURL, CallbackAPIKey: cbKey}
			}
			if err := bf.alone(phones); err != nil {
				return err
			}
			if bf.csv != "" {
				values := a.placeholderColumns(template(), ignore)
				return a.runCSV(cmd.Context(), autocall.TEL4VN, bf, []string{"phone"}, func(r csvrows.Row) (batch.Op, error) {
					return batch.TTS(campaign, req([]string{r.Get("phone")}, values(r))), nil
				})
			}
			if len(phones) == 0 {
				return usagef("give the phones to call, or --csv")
			}
			return a.call(cmd, autocall.TEL4VN, func(ctx context.Context, c *autocall.Client) error {
				res, err := c.TTS.Run(ctx, campaign, req(phones, nil))
				if err != nil {
					return err
				}
				return a.campaignResult(res)
			})
		},
	}
	f := run.Flags()
	f.StringVar(&campaign, "campaign", "", "the TEL4VN campaign id (required)")
	f.StringVar(&caller, "caller", "", "the number calls come from (required)")
	f.StringVar(&name, "template", "", "the imported template's name (required)")
	f.StringVar(&content, "content", "", "the template's text, to check the params against before sending")
	f.StringArrayVar(&params, "param", nil, "a placeholder's value, key=value (repeat)")
	f.StringArrayVar(&ignore, "ignore-column", nil, "a CSV column that is no placeholder, to ignore (repeat); with --content,\n"+
		"every column that is no placeholder of the content is ignored")
	f.StringVar(&cbURL, "callback-url", "", "where the provider posts call events")
	addCallbackKeyFlags(run, &cbKey, &cbKeyFile)
	bf.add(run, "columns key,phone and one per placeholder, named as in the template")

	var iCampaign, iName, iContent string
	imp := &cobra.Command{
		Use:     "import",
		Short:   "Create a text-to-speech template in a campaign",
		Example: `  autocall tts import --campaign 1 --name thong_bao_no_cuoc_01 --content "Chào bạn {{customer_name}} …"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if iCampaign == "" || iName == "" || iContent == "" {
				return usagef("--campaign, --name and --content are required")
			}
			return a.call(cmd, autocall.TEL4VN, func(ctx context.Context, c *autocall.Client) error {
				t := &autocall.Template{Name: iName, Content: iContent}
				if err := c.TTS.ImportTemplate(ctx, iCampaign, t); err != nil {
					return err
				}
				if a.dryRun {
					return a.dryRunDone()
				}
				if a.jsonOut {
					a.printJSON(map[string]any{"imported": iName, "placeholders": t.Placeholders()})
				} else {
					fmt.Fprintf(a.stdout, "imported %q, placeholders %s\n", iName, strings.Join(t.Placeholders(), ", "))
				}
				return nil
			})
		},
	}
	imp.Flags().StringVar(&iCampaign, "campaign", "", "the TEL4VN campaign id (required)")
	imp.Flags().StringVar(&iName, "name", "", "the template's name, unique in the campaign (required)")
	imp.Flags().StringVar(&iContent, "content", "", "the text, with {{placeholders}} (required)")

	var pContent string
	var pParams []string
	preview := &cobra.Command{
		Use:   "preview",
		Short: "Show what the customer will hear (offline, no credential)",
		Example: `  autocall tts preview --content "Chào bạn {{customer_name}} vui lòng thanh toán khoản nợ {{due_amount}} trước ngày {{due_date}}" \
    --param customer_name="Nguyễn Văn A" --param due_amount=10.410.000 --param due_date=30/01/2021`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if pContent == "" {
				return usagef("--content is required")
			}
			values, err := keyValues(pParams)
			if err != nil {
				return err
			}
			t := autocall.Template{Name: "preview", Content: pContent}
			heard, err := t.Preview(values)
			if err != nil {
				return err
			}
			if a.jsonOut {
				a.printJSON(map[string]string{"heard": heard})
			} else {
				fmt.Fprintln(a.stdout, heard)
			}
			return nil
		},
	}
	preview.Flags().StringVar(&pContent, "content", "", "the template's text (required)")
	preview.Flags().StringArrayVar(&pParams, "param", nil, "a placeholder's value, key=value (repeat)")
	tts.AddCommand(run, imp, preview)
	return tts
}

// placeholderColumns returns a TTS row's placeholder values: every column
// but key, phone and those ignored; with the template's content known, only
// its placeholders, the other columns being notes of the user's own (said
// once, on stderr).
func (a *app) placeholderColumns(t *autocall.Template, ignore []string) func(csvrows.Row) map[string]string {
	skip := []string{"key", "phone"}
	for _, c := range ignore {
		skip = append(skip, norm.NFC.String(strings.TrimSpace(c)))
	}
	var once sync.Once
	return func(r csvrows.Row) map[string]string {
		values := rest(r, skip...)
		if t == nil {
			return values
		}
		keys := t.Placeholders()
		var dropped []string
		for k := range values {
			if !slices.Contains(keys, k) {
				dropped = append(dropped, k)
				delete(values, k)
			}
		}
		if len(dropped) > 0 {
			once.Do(func() {
				sort.Strings(dropped)
				fmt.Fprintf(a.stderr, "note: ignoring the columns that are no placeholder of --content: %s\n", strings.Join(dropped, ", "))
			})
		}
		return values
	}
}

// keyValues reads key=value pairs.
func keyValues(pairs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usagef("--param %q: want key=value", p)
		}
		m[k] = v
	}
	return m, nil
}

func (a *app) callCommand() *cobra.Command {
	call := &cobra.Command{Use: "call", Short: "OMICall auto-calls: to phones or PBX extensions",
		Example: "  autocall call phone --step \"text:Đơn hàng của bạn là\" --step recording:5ed0c6dffb7b390007e5211 0987654321"}
	var name, voice, cid, brand string
	var steps []string
	var speed int
	var bf batchFlags
	plan := func() (*autocall.Dialplan, error) {
		d := autocall.NewDialplan()
		for _, s := range steps {
			kind, v, _ := strings.Cut(s, ":")
			switch kind {
			case "text":
				d = d.Text(v)
			case "recording":
				d = d.Recording(v)
			case "ivr":
				d = d.IVRMenu(v)
			default:
				return nil, usagef("--step %q: want text:WORDS, recording:ID or ivr:ID", s)
			}
		}
		return d, nil
	}
	phone := &cobra.Command{
		Use:   "phone [PHONE...]",
		Short: "Run an auto-call session to phones, or one per row of a CSV",
		Example: `  autocall call phone --step "text:Đơn hàng của bạn là" --step text:CKHDKD00203 --step recording:5ed0c6dffb7b390007e5211 0987654321
  autocall call phone --step "text:Đơn hàng đã giao" --csv deliveries.csv   # columns key,phone`,
		RunE: func(cmd *cobra.Command, phones []string) error {
			d, err := plan()
			if err != nil {
				return err
			}
			req := func(p []string) *autocall.PhoneCallRequest {
				return &autocall.PhoneCallRequest{Name: name, Voice: autocall.Voice(voice), Speed: speed, CID: cid, Dialplan: d, Phones: p}
			}
			if err := bf.alone(phones); err != nil {
				return err
			}
			if bf.csv != "" {
				return a.runCSV(cmd.Context(), autocall.OMICall, bf, []string{"phone"}, func(r csvrows.Row) (batch.Op, error) {
					return batch.ByPhone(req([]string{r.Get("phone")})), nil
				})
			}
			if len(phones) == 0 {
				return usagef("give the phones to call, or --csv")
			}
			return a.call(cmd, autocall.OMICall, func(ctx context.Context, c *autocall.Client) error {
				sess, err := c.AutoCall.ExecuteByPhone(ctx, req(phones))
				if err != nil {
					return err
				}
				return a.session(sess)
			})
		},
	}
	ext := &cobra.Command{
		Use:     "extension EXTENSION...",
		Short:   "Run an auto-call to PBX extensions",
		Example: `  autocall call extension --cid 02873001234 --step recording:5ed0c6dffb7b390007e5211 101 102`,
		RunE: func(cmd *cobra.Command, exts []string) error {
			d, err := plan()
			if err != nil {
				return err
			}
			req := func(e []string) *autocall.ExtensionCallRequest {
				return &autocall.ExtensionCallRequest{Name: name, Voice: autocall.Voice(voice), Speed: speed, CID: cid, BrandName: brand, Dialplan: d, Extensions: e}
			}
			if err := bf.alone(exts); err != nil {
				return err
			}
			if bf.csv != "" {
				return a.runCSV(cmd.Context(), autocall.OMICall, bf, []string{"extension"}, func(r csvrows.Row) (batch.Op, error) {
					return batch.ByExtension(req([]string{r.Get("extension")})), nil
				})
			}
			if len(exts) == 0 {
				return usagef("give the extensions to call, or --csv")
			}
			return a.call(cmd, autocall.OMICall, func(ctx context.Context, c *autocall.Client) error {
				sess, err := c.AutoCall.ExecuteByExtension(ctx, req(exts))
				if err != nil {
					return err
				}
				return a.session(sess)
			})
		},
	}
	for _, cmd := range []*cobra.Command{phone, ext} {
		f := cmd.Flags()
		f.StringArrayVar(&steps, "step", nil, "what is played, in order: text:WORDS, recording:ID or ivr:ID (repeat)")
		f.StringVar(&name, "name", "", "the session's name")
		f.StringVar(&voice, "voice", "banmai", "the voice for text steps: banmai, leminh, lannhi, …")
		f.IntVar(&speed, "speed", 0, "-3 (slow) … 3 (fast)")
		f.StringVar(&cid, "cid", "", "the number shown to the callee (required for extensions)")
	}
	ext.Flags().StringVar(&brand, "brand", "", "a brand name shown instead of the hotline")
	bf.add(phone, "columns key,phone")
	bf.add(ext, "columns key,extension")
	call.AddCommand(phone, ext)
	return call
}

func (a *app) session(s *autocall.AutoCallSession) error {
	if a.dryRun {
		return a.dryRunRefused(s.Rejected)
	}
	if a.jsonOut {
		rej := make([]map[string]string, len(s.Rejected))
		for i, r := range s.Rejected {
			rej[i] = map[string]string{"phone": r.Phone, "reason": r.Reason}
		}
		a.printJSON(map[string]any{"session_id": s.ID, "call_uuids": s.CallUUIDs, "rejected": rej})
	} else {
		fmt.Fprintf(a.stdout, "placed   session %s\n", s.ID)
		for _, r := range s.Rejected {
			fmt.Fprintf(a.stdout, "refused  %s  %s\n", r.Phone, r.Reason)
		}
	}
	if len(s.Rejected) > 0 {
		a.code = exitPartial
	}
	return nil
}
