// Order-notification is a small HTTP service that phones a customer when an
// order is posted to it, reading a TTS message, and logs how each call ended
// from the provider's callbacks.
//
//	POST /orders       {"order_id":"A1","phone":"0987654321","customer_name":"Nguyễn Văn A","amount":10410000,"due_date":"2021-01-30"}
//	POST /hooks/call   the provider's call events (callback_url)
//
// With no environment it runs against the built-in sandbox. For a real
// provider set AUTOCALL_BASE_URL, AUTOCALL_SECRET_KEY, AUTOCALL_CAMPAIGN_ID,
// AUTOCALL_CALLER, PUBLIC_URL (where the provider reaches this service) and
// CALLBACK_KEY.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

// reminder is the message customers hear.
var reminder = autocall.Template{
	Name:    "nhac_thanh_toan_don_hang",
	Content: "Chào bạn {{customer_name}}, đơn hàng {{order_id}} có số tiền {{amount}} cần thanh toán trước ngày {{due_date}}",
}

type service struct {
	client      *autocall.Client
	campaignID  string
	caller      string
	callbackURL string
	callbackKey string
	log         *slog.Logger

	seen sync.Map // CallEvent.Key → struct{}: the provider may deliver an event twice
}

type order struct {
	OrderID      string `json:"order_id"`
	Phone        string `json:"phone"`
	CustomerName string `json:"customer_name"`
	Amount       int64  `json:"amount"`
	DueDate      string `json:"due_date"` // 2006-01-02
}

func (s *service) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", s.postOrder)
	mux.Handle("POST /hooks/call", autocall.WebhookHandler(s.callbackKey, s.onCallEvent))
	return mux
}

func (s *service) postOrder(w http.ResponseWriter, r *http.Request) {
	var o order
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&o); err != nil {
		http.Error(w, "body must be an order in JSON", http.StatusBadRequest)
		return
	}
	due, err := time.Parse("2006-01-02", o.DueDate)
	if err != nil || o.OrderID == "" || o.CustomerName == "" || o.Amount <= 0 {
		http.Error(w, "order_id, customer_name, amount and due_date (yyyy-mm-dd) are required", http.StatusBadRequest)
		return
	}
	res, err := s.client.TTS.Run(r.Context(), s.campaignID, &autocall.TTSRequest{
		Caller: s.caller, Callees: []string{o.Phone}, Template: &reminder,
		Params: map[string]string{
			"customer_name": o.CustomerName,
			"order_id":      autocall.Digits(o.OrderID),
			"amount":        autocall.Money(o.Amount),
			"due_date":      autocall.Date(due),
		},
		CallbackURL: s.callbackURL, CallbackAPIKey: s.callbackKey,
	})
	switch {
	case errors.Is(err, autocall.ErrValidation):
		http.Error(w, err.Error(), http.StatusBadRequest) // nothing was sent
		return
	case errors.Is(err, autocall.ErrOutcomeUnknown):
		// Do not retry: the customer may already be ringing.
		s.log.Warn("order call outcome unknown", "order", o.OrderID, "error", err)
		http.Error(w, "the call may have been placed; not retried", http.StatusBadGateway)
		return
	case err != nil:
		s.log.Error("order call refused", "order", o.OrderID, "error", err)
		http.Error(w, "the provider refused the call", http.StatusBadGateway)
		return
	}
	for _, rej := range res.Rejected {
		s.log.Warn("callee rejected", "order", o.OrderID, "phone", rej.Phone, "reason", rej.Reason)
	}
	ids := make([]string, len(res.Accepted))
	for i, id := range res.Accepted {
		ids[i] = string(id)
		s.log.Info("calling", "order", o.OrderID, "call", id)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{"order_id": o.OrderID, "call_ids": ids})
}

// onCallEvent logs each call's outcome once.
func (s *service) onCallEvent(_ context.Context, ev *autocall.CallEvent) error {
	if _, dup := s.seen.LoadOrStore(ev.Key(), struct{}{}); dup {
		return nil // delivered again: already handled
	}
	if !ev.Final() {
		s.log.Info("call progress", "call", ev.CallID, "state", ev.State)
		return nil
	}
	s.log.Info("call outcome", "call", ev.CallID, "phone", ev.Phone, "status", string(ev.Status),
		"answered", ev.Status == autocall.StatusAnswered, "keypress", ev.Keypress, "duration", ev.Duration.String())
	return nil
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := serve(log); err != nil {
		log.Error("order-notification", "error", err)
		os.Exit(1)
	}
}

func serve(log *slog.Logger) error {
	addr := getenv("ADDR", "127.0.0.1:8080")
	s := &service{
		campaignID:  getenv("AUTOCALL_CAMPAIGN_ID", "1"),
		caller:      getenv("AUTOCALL_CALLER", "02873001234"),
		callbackURL: getenv("PUBLIC_URL", "http://"+addr) + "/hooks/call",
		callbackKey: getenv("CALLBACK_KEY", "local-callback-key"),
		log:         log,
	}
	var err error
	if base := os.Getenv("AUTOCALL_BASE_URL"); base != "" {
		s.client, err = autocall.NewClient(base, autocall.WithSecretKey(os.Getenv("AUTOCALL_SECRET_KEY")))
	} else {
		srv := autocalltest.NewServer()
		defer srv.Close()
		go func() { // sandbox time passes, so calls end and call back
			for range time.Tick(time.Second) {
				srv.Advance(5 * time.Second)
			}
		}()
		log.Info("using the built-in sandbox", "url", srv.URL)
		s.client, err = autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey))
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.client.TTS.ImportTemplate(ctx, s.campaignID, &reminder); err != nil {
		log.Warn("template import", "error", err) // it may exist from an earlier run
	}
	log.Info("listening", "addr", addr)
	return (&http.Server{Addr: addr, Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}).ListenAndServe()
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
