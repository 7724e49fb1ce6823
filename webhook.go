package autocall

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxWebhookBody is the largest event body WebhookHandler reads.
const MaxWebhookBody = 1 << 20

// CallEvent is a call event the provider POSTs to a callback_url. Both
// shapes seen in the wild decode into it: a CDR-shaped body (the report's
// fields) and a PBX event (call_id, direction, state, billsec, press_key…).
type CallEvent struct {
	CallID             CallID
	CampaignID, Phone  string
	Direction          string     // PBX events: inbound or outbound
	State              string     // PBX events: ringing, answered, hangup, cdr
	Status             CallStatus // when the body carries a report status
	Keypress           string     // the key pressed; "127" means hang-up
	Duration           time.Duration
	StartedAt, EndedAt time.Time // zero when absent or unreadable
	RecordingURL       string
	Params             map[string]string // "param", decoded
	Type               CallType
	CodeOTP            string
	Raw                json.RawMessage // the body as received, unknown fields included
}

// Key identifies the event across redeliveries: the provider retries an
// event its receiver failed to take, so the same call and state may arrive
// twice. Events of one call at different states have different keys. A body
// without a call id is keyed by its content.
func (e *CallEvent) Key() string {
	if e.CallID != "" {
		phase := e.State
		if e.Status != "" {
			phase += "/" + string(e.Status)
		}
		return string(e.CallID) + "#" + phase
	}
	var compact bytes.Buffer
	if json.Compact(&compact, e.Raw) != nil {
		compact.Reset()
		compact.Write(e.Raw)
	}
	sum := sha256.Sum256(compact.Bytes())
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// Final reports whether the event says the call has ended.
func (e *CallEvent) Final() bool {
	return e.Status.Final() || e.State == "hangup" || e.State == "cdr"
}

// ParseCallEvent decodes an event body. It fails only on a body that is not
// a JSON object; fields of unexpected types are left zero.
func ParseCallEvent(body []byte, loc *time.Location) (*CallEvent, error) {
	var m map[string]json.RawMessage
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &m) != nil {
		return nil, errors.New("the body is not a JSON object")
	}
	if loc == nil {
		loc = vietnam
	}
	f := fields(m)
	ev := &CallEvent{
		CallID:       CallID(f.str("id", "call_id")),
		CampaignID:   f.str("campaign_id"),
		Direction:    strings.ToLower(f.str("direction")),
		State:        strings.ToLower(f.str("state")),
		Status:       ParseCallStatus(f.str("status", "disposition")),
		Keypress:     f.str("keypress", "press_key"),
		Duration:     time.Duration(f.int("billsec", "duration")) * time.Second,
		StartedAt:    f.time(loc, "started_at", "start_time", "answered_at"),
		EndedAt:      f.time(loc, "ended_at", "end_time"),
		RecordingURL: f.str("recording_url"),
		Type:         CallType(strings.ToUpper(f.str("type"))),
		CodeOTP:      f.str("code_otp"),
		Raw:          append(json.RawMessage(nil), body...),
	}
	ev.Phone = f.str("phone_number")
	if ev.Phone == "" {
		if ev.Direction == "inbound" {
			ev.Phone = f.str("from_number", "to_number")
		} else {
			ev.Phone = f.str("to_number", "from_number")
		}
	}
	_, ev.Params = decodeParam(m["param"])
	return ev, nil
}

// WebhookOption configures WebhookHandler.
type WebhookOption func(*webhook)

// WithWebhookLocation sets the zone event times are read in (default
// Asia/Ho_Chi_Minh).
func WithWebhookLocation(loc *time.Location) WebhookOption {
	return func(h *webhook) {
		if loc != nil {
			h.loc = loc
		}
	}
}

// WithWebhookErrorLog receives what the handler answered 500 for: the
// func's errors and its recovered panics (as *PanicError). The default logs
// them with slog.Default at error level.
func WithWebhookErrorLog(fn func(r *http.Request, err error)) WebhookOption {
	return func(h *webhook) {
		if fn != nil {
			h.onError = fn
		}
	}
}

// WithWebhookConcurrency bounds the memory deliveries can take: at most n
// events are read and handled at once, each at most MaxWebhookBody (1 MiB),
// and a delivery beyond them is answered at once, body unread, with 503
// Service Unavailable and Retry-After: 1, so that the provider delivers it
// again shortly. n ≤ 0 (the default) sets no bound: a burst of large
// deliveries then holds a few MiB each.
func WithWebhookConcurrency(n int) WebhookOption {
	return func(h *webhook) {
		h.slots = nil
		if n > 0 {
			h.slots = make(chan struct{}, n)
		}
	}
}

// PanicError is a panic recovered from a webhook func.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("autocall: webhook func panicked: %v", e.Value)
}

type webhook struct {
	key     [32]byte
	hasKey  bool
	fn      func(context.Context, *CallEvent) error
	loc     *time.Location
	onError func(*http.Request, error)
	slots   chan struct{} // WithWebhookConcurrency's; nil: no bound
}

// WebhookHandler receives call events at a callback_url and calls fn with
// each. The provider's header for callback_apikey is undocumented, so the
// key is looked for in Authorization (raw or Bearer), X-API-Key, apikey, and
// the apikey query parameter, and compared in constant time.
//
// Answers, each with a short plain-text reason: 405 for a method other than
// POST; 401 for a missing or wrong key (fn is not called; an empty apiKey
// refuses everything); 503 with Retry-After beyond WithWebhookConcurrency's
// bound; 413 for a body over 1 MiB; 400 for a body that is not a JSON
// object; 500 when fn returns an error or panics, so that the provider
// delivers the event again; 200 otherwise. Use CallEvent.Key to
// recognise an event delivered twice.
//
// The handler bounds what it reads of a body; the header is read by the
// http.Server before the handler runs, so bounding it is the caller's:
// set the server's MaxHeaderBytes (a provider's callback needs a few
// hundred bytes; 32 KiB is ample, where net/http's default lets each
// connection hold 1 MiB) and ReadHeaderTimeout (10 s), as
// `autocall listen` does.
//
// WebhookHandler panics if fn is nil, as http.HandleFunc does: a handler
// that answered 200 and dropped every event would lose each call's outcome
// without a trace.
func WebhookHandler(apiKey string, fn func(ctx context.Context, ev *CallEvent) error, opts ...WebhookOption) http.Handler {
	if fn == nil {
		panic("autocall: WebhookHandler needs a func to receive the events")
	}
	h := &webhook{key: sha256.Sum256([]byte(apiKey)), hasKey: apiKey != "", fn: fn, loc: vietnam,
		onError: func(r *http.Request, err error) {
			attrs := []any{"path", r.URL.Path, "error", err}
			var pe *PanicError
			if errors.As(err, &pe) {
				attrs = append(attrs, "stack", string(pe.Stack))
			}
			slog.Default().ErrorContext(r.Context(), "autocall webhook", attrs...)
		}}
	for _, o := range opts {
		if o != nil {
			o(h)
		}
	}
	return h
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		plain(w, http.StatusMethodNotAllowed, "only POST")
		return
	}
	if !h.authorized(r) {
		plain(w, http.StatusUnauthorized, "missing or wrong API key")
		return
	}
	if h.slots != nil {
		select {
		case h.slots <- struct{}{}:
			defer func() { <-h.slots }()
		default:
			w.Header().Set("Retry-After", "1")
			plain(w, http.StatusServiceUnavailable, "busy: deliver again shortly")
			return
		}
	}
	body, err := readEventBody(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			plain(w, http.StatusRequestEntityTooLarge, "body over 1 MiB")
			return
		}
		plain(w, http.StatusBadRequest, "could not read the body")
		return
	}
	if !utf8.Valid(body) {
		plain(w, http.StatusBadRequest, "body is not UTF-8")
		return
	}
	ev, err := ParseCallEvent(body, h.loc)
	if err != nil {
		plain(w, http.StatusBadRequest, "body is not a JSON object")
		return
	}
	if err := h.call(r.Context(), ev); err != nil {
		h.onError(r, err)
		plain(w, http.StatusInternalServerError, "event not processed")
		return
	}
	plain(w, http.StatusOK, "ok")
}

// readEventBody reads at most MaxWebhookBody, after gzip decoding when the
// sender compressed it (a 400 there would make the provider give up on the
// event rather than retry it).
func readEventBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	src := io.Reader(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		// The limit holds for what the body inflates to, as well.
		body, err := io.ReadAll(io.LimitReader(zr, MaxWebhookBody+1))
		if err == nil && len(body) > MaxWebhookBody {
			err = &http.MaxBytesError{Limit: MaxWebhookBody}
		}
		return body, err
	default:
		return nil, errors.New("unsupported Content-Encoding " + enc)
	}
	if n := r.ContentLength; n >= 0 && n <= MaxWebhookBody {
		// One buffer of the announced size: io.ReadAll would grow it by
		// doubling, up to twice the body for a while.
		body := make([]byte, n)
		if _, err := io.ReadFull(src, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	return io.ReadAll(src)
}

func (h *webhook) call(ctx context.Context, ev *CallEvent) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return h.fn(ctx, ev)
}

// authorized compares every place the key may be in; hashing first makes
// the comparison constant-time whatever the lengths.
func (h *webhook) authorized(r *http.Request) bool {
	if !h.hasKey {
		return false
	}
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		auth = strings.TrimSpace(auth[7:])
	}
	ok := 0
	for _, cand := range []string{auth, r.Header.Get("X-API-Key"), r.Header.Get("apikey"), r.URL.Query().Get("apikey")} {
		if cand == "" {
			continue
		}
		sum := sha256.Sum256([]byte(cand))
		ok |= subtle.ConstantTimeCompare(sum[:], h.key[:])
	}
	return ok == 1
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}
