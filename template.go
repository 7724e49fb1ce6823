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

// Placeholders lists the template's keys in order of first use, each once.
func (t Template) Placeholders() []string {
	var keys []string
	seen := map[string]struct{}{}
	for _, m := range placeholderRE.FindAllStringSubmatch(t.Content, -1) {
		if _, dup := seen[m[1]]; !dup {
			seen[m[1]] = struct{}{}
			keys = append(keys, m[1])
		}
	}
	return keys
}

// Render returns the text with each placeholder replaced by its value, as
// the provider fills it in. params must fill exactly the template's
// placeholders: a missing or unknown key is a *ValidationError naming
// "Params.<key>".
func (t Template) Render(params map[string]string) (string, error) {
	return t.fill(params, func(v string) string { return v })
}

func (t Template) fill(params map[string]string, value func(string) string) (string, error) {
	if err := t.checkParams(params); err != nil {
		return "", err
	}
	var b strings.Builder
	last := 0
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(t.Content, -1) {
		b.WriteString(t.Content[last:m[0]])
		b.WriteString(value(params[t.Content[m[2]:m[3]]]))
		last = m[1]
	}
	b.WriteString(t.Content[last:])
	return nfc(b.String()), nil // once, over the whole text: values may be NFD too
}

// checkParams finds the Autocall API Reference's mistake before it costs a call: a run
// that sends due_days to a template that says {{due_date}}. The key the
// caller wrote is named first, since that is the one to fix.
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
	return nil
}

func braces(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	return "{{" + strings.Join(keys, "}}, {{") + "}}"
}
