package autocall

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Template is a TEL4VN text-to-speech script: Content holds {{placeholder}}
// keys that each call fills in from TTSRequest.Params.
type Template struct {
	Name    string // unique within the campaign
	Content string // "Chào bạn {{customer_name}} vui lòng thanh toán …"
}

var placeholderRE = regexp.MustCompile(`\{\{\s*([^{}\s]+)\s*\}\}`)

// Placeholders lists the template's keys in order of first use, each once,
// in Unicode NFC: a key typed in NFD ("tên" as e + combining marks) is the
// key the provider stores after import, which is NFC.
func (t Template) Placeholders() []string {
	var keys []string
	seen := map[string]struct{}{}
	for _, m := range placeholderRE.FindAllStringSubmatch(nfc(t.Content), -1) {
		if _, dup := seen[m[1]]; !dup {
			seen[m[1]] = struct{}{}
			keys = append(keys, m[1])
		}
	}
	return keys
}

// Render returns the text with each placeholder replaced by its value, as
// the provider fills it in, in NFC. params must fill exactly the template's
// placeholders, each with a value that is not blank: a missing, unknown or
// empty key is a *ValidationError naming "Params.<key>". Keys are compared
// in NFC, so a key typed in NFD matches the same key typed composed.
func (t Template) Render(params map[string]string) (string, error) {
	params, err := nfcParams(params)
	if err != nil {
		return "", err
	}
	if err := t.checkParams(params); err != nil {
		return "", err
	}
	content := nfc(t.Content)
	var b strings.Builder
	last := 0
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(content, -1) {
		b.WriteString(content[last:m[0]])
		b.WriteString(params[content[m[2]:m[3]]])
		last = m[1]
	}
	b.WriteString(content[last:])
	return nfc(b.String()), nil // once more over the whole text: a value may start with a combining mark
}

// nfcParams returns params with keys and values in NFC, as they are sent.
// Two keys that differ only in normalisation would be one key on the wire:
// that is refused rather than one of them silently dropped.
func nfcParams(params map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(params))
	for k, v := range params {
		n := nfc(k)
		if _, dup := out[n]; dup {
			return nil, invalid("Params."+n, "", "given twice, typed composed (NFC) and decomposed (NFD)")
		}
		out[n] = nfc(v)
	}
	return out, nil
}

// checkParams finds the Autocall API Reference's mistake before it costs a call: a run
// that sends due_days to a template that says {{due_date}}. The key the
// caller wrote is named first, since that is the one to fix. A blank value
// is refused too: the customer would hear nothing where the amount or the
// date should be. params must be in NFC already (nfcParams).
func (t Template) checkParams(params map[string]string) error {
	keys := t.Placeholders()
	var missing, extra []string
	for _, k := range keys {
		if _, ok := params[k]; !ok {
			missing = append(missing, k)
		}
	}
	known := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		known[k] = struct{}{}
	}
	for k := range params {
		if _, ok := known[k]; !ok {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	switch {
	case len(extra) > 0 && len(missing) > 0:
		return invalid("Params."+extra[0], params[extra[0]],
			fmt.Sprintf("template %q has no {{%s}} and needs %s", t.Name, extra[0], braces(missing)))
	case len(extra) > 0:
		return invalid("Params."+extra[0], params[extra[0]],
			fmt.Sprintf("template %q has no {{%s}}; its placeholders are %s", t.Name, extra[0], braces(keys)))
	case len(missing) > 0:
		return invalid("Params."+missing[0], "", fmt.Sprintf("missing: template %q says {{%s}}", t.Name, missing[0]))
	}
	for _, k := range keys {
		if strings.TrimSpace(params[k]) == "" {
			return invalid("Params."+k, params[k], fmt.Sprintf("empty: template %q says {{%s}}, and the customer would hear nothing there", t.Name, k))
		}
	}
	return nil
}

func braces(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	return "{{" + strings.Join(keys, "}}, {{") + "}}"
}
