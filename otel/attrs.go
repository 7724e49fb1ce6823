package autocallotel

import (
	"strings"
	"unicode"

	autocall "github.com/autocallvn/autocall-go"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// The project's own attribute keys; the HTTP ones are semconv's.
const (
	keyProvider  = attribute.Key("autocall.provider")
	keyOperation = attribute.Key("autocall.operation")
	keyCampaign  = attribute.Key("autocall.campaign") // spans only: unbounded
	keyCreates   = attribute.Key("autocall.creates")
	keyClass     = attribute.Key("autocall.outcome.class")
	keyCause     = attribute.Key("autocall.outcome.cause")
	keyAttempt   = attribute.Key("autocall.attempt")
	keyAttempts  = attribute.Key("autocall.attempts")
	keyDuration  = attribute.Key("autocall.duration_ms")
	keyRetry     = attribute.Key("autocall.retry_after_s")
	keyWait      = attribute.Key("autocall.wait_s")
	keyHanded    = attribute.Key("autocall.pause_handed")
	keyBackgr    = attribute.Key("autocall.background")
	keyJobState  = attribute.Key("autocall.job.state")
	keySkipped   = attribute.Key("autocall.job.skipped")
	keyJournalOp = attribute.Key("autocall.journal.operation")
)

// errorType is error.type: the class, and its cause when it has one
// ("refused:quota", "unknown"). A fixed set of words.
func errorType(o autocall.Outcome) string {
	if o.Cause == "" {
		return o.Class.String()
	}
	return o.Class.String() + ":" + string(o.Cause)
}

func provider(p autocall.Provider) string { return strings.ToLower(p.String()) }

// spanAttrs are a call span's attributes at its start.
func spanAttrs(op autocall.Operation) []attribute.KeyValue {
	kv := []attribute.KeyValue{
		keyProvider.String(provider(op.Provider)),
		keyOperation.String(op.Name),
		semconv.HTTPRequestMethodKey.String(op.Method),
		semconv.URLTemplate(op.Route),
		semconv.ServerAddress(op.Host),
		semconv.ServerPort(op.Port),
		keyCreates.Bool(op.Creates),
	}
	if op.Campaign != "" {
		kv = append(kv, keyCampaign.String(MaskPhones(op.Campaign)))
	}
	return kv
}

// endAttrs are what a call came to.
func endAttrs(end autocall.CallEnd) []attribute.KeyValue {
	kv := []attribute.KeyValue{keyClass.String(end.Outcome.Class.String()), keyAttempts.Int(end.Attempts)}
	if end.Status != 0 {
		kv = append(kv, semconv.HTTPResponseStatusCode(end.Status))
	}
	if end.Attempts > 1 {
		kv = append(kv, semconv.HTTPRequestResendCount(end.Attempts-1))
	}
	if end.Outcome.Class != autocall.ClassNone {
		kv = append(kv, semconv.ErrorTypeKey.String(errorType(end.Outcome)))
		if end.Outcome.Cause != "" {
			kv = append(kv, keyCause.String(string(end.Outcome.Cause)))
		}
	}
	return kv
}

func attemptAttrs(a autocall.Attempt) []attribute.KeyValue {
	kv := []attribute.KeyValue{keyAttempt.Int(a.N), keyClass.String(a.Outcome.Class.String()), keyDuration.Float64(float64(a.Duration.Microseconds()) / 1000)}
	if a.Status != 0 {
		kv = append(kv, semconv.HTTPResponseStatusCode(a.Status))
	}
	if a.Outcome.Class != autocall.ClassNone {
		kv = append(kv, semconv.ErrorTypeKey.String(errorType(a.Outcome)))
	}
	return kv
}

func tokenAttrs(t autocall.TokenFetch) []attribute.KeyValue {
	kv := []attribute.KeyValue{keyProvider.String(provider(t.Provider)), keyBackgr.Bool(t.Background), keyClass.String(t.Outcome.Class.String())}
	if t.Outcome.Class != autocall.ClassNone {
		kv = append(kv, semconv.ErrorTypeKey.String(errorType(t.Outcome)))
	}
	return kv
}

func pauseAttrs(p autocall.Pause) []attribute.KeyValue {
	return []attribute.KeyValue{keyRetry.Float64(p.RetryAfter.Seconds()), keyWait.Float64(p.Wait.Seconds()), keyHanded.Bool(p.Handed)}
}

// minPhoneDigits: a run of this many digits or more may be a phone number
// (a Vietnamese mobile in national form has 10, its subscriber part 9).
const minPhoneDigits = 7

// MaskPhones returns s with every run of digits that may be a phone
// number (seven digits or more, in any script, with spaces, dots, dashes,
// parentheses or a leading + between them) replaced by "***" and its last
// three digits: "c-0987654321" becomes "c-***321".
func MaskPhones(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); {
		if !unicode.IsDigit(rs[i]) && !(rs[i] == '+' && i+1 < len(rs) && unicode.IsDigit(rs[i+1])) {
			b.WriteRune(rs[i])
			i++
			continue
		}
		// The run: digits, and single separators between digits.
		j, digits, last := i, 0, i
		var tail []rune
		for j < len(rs) {
			switch r := rs[j]; {
			case unicode.IsDigit(r):
				digits++
				tail = append(tail, r)
				last = j
			case r == '+' && j == i, separator(r) && j+1 < len(rs) && (unicode.IsDigit(rs[j+1]) || separator(rs[j+1])):
			default:
				goto end
			}
			j++
		}
	end:
		if digits >= minPhoneDigits {
			b.WriteString("***" + string(tail[len(tail)-3:]))
		} else {
			b.WriteString(string(rs[i : last+1]))
		}
		i = last + 1
	}
	return b.String()
}

func separator(r rune) bool {
	return r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || r == '\u00a0'
}
