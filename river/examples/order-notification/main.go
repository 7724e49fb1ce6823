// Order-notification is a small order service on PostgreSQL: POST /orders
// inserts the order and its call job (a TTS reminder) in one transaction,
// so a customer is called if and only if the order committed, once; the
// same process works the call jobs (River, package autocallriver), and
// the provider's call events settle any job whose outcome was lost.
//
//	POST /orders       {"order_id":"A1","phone":"0987654321","customer_name":"Nguyễn Văn A","amount":10410000,"due_date":"2021-01-30"}
//	GET  /orders/A1    the order and its call's state in the journal
//	POST /hooks/call   the provider's call events (callback_url)
//
// DATABASE_URL names the database (migrated first: `autocall-worker
// migrate`). With no AUTOCALL_BASE_URL it calls the built-in sandbox; for a
// real provider set AUTOCALL_BASE_URL, AUTOCALL_SECRET_KEY,
// AUTOCALL_CAMPAIGN_ID, AUTOCALL_CALLER, PUBLIC_URL (where the provider
// reaches this service) and CALLBACK_KEY. More replicas of it, or
// autocall-worker processes, share the work and the account's limits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	autocallriver "github.com/autocallvn/autocall-go/river"
)

// reminder is the message customers hear.
var reminder = autocall.Template{
	Name:    "nhac_thanh_toan_don_hang",
	Content: "Chào bạn {{customer_name}}, đơn hàng {{order_id}} có số tiền {{amount}} cần thanh toán trước ngày {{due_date}}",
}

type service struct {
	pool        *pgxpool.Pool
	river       *river.Client[pgx.Tx]
	journal     *autocallriver.Journal
	campaignID  string
	caller      string
	callbackURL string
	log         *slog.Logger
}

type order struct {
	OrderID      string `json:"order_id"`
	Phone        string `json:"phone"`
	CustomerName string `json:"customer_name"`
	Amount       int64  `json:"amount"`
	DueDate      string `json:"due_date"` // 2006-01-02
}

// schema is the service's own table.
const schema = `CREATE TABLE IF NOT EXISTS orders (
	id text PRIMARY KEY, phone text NOT NULL, customer_name text NOT NULL,
	amount bigint NOT NULL, due_date date NOT NULL, created timestamptz NOT NULL DEFAULT now())`

func (s *service) routes(callbackKey string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", s.postOrder)
	mux.HandleFunc("GET /orders/{id}", s.getOrder)
	mux.Handle("POST /hooks/call", autocall.WebhookHandler(callbackKey, s.onCallEvent))
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
	phone, err := autocall.NormalizePhone(o.Phone)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// The order and its call, in one transaction: rolled back, nobody is
	// called; committed, the call job exists once (its key is the order's).
	existed := false
	err = pgx.BeginFunc(r.Context(), s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(r.Context(), `INSERT INTO orders (id, phone, customer_name, amount, due_date)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`, o.OrderID, phone, o.CustomerName, o.Amount, due)
		if err != nil || tag.RowsAffected() == 0 {
			existed = err == nil
			return err // an order posted again: its job exists already
		}
		_, err = autocallriver.InsertTx(r.Context(), s.river, tx, autocallriver.TTSArgs{
			Common:     autocallriver.Common{Key: "order-" + o.OrderID},
			CampaignID: s.campaignID, Caller: s.caller, Callees: []string{phone},
			TemplateName: reminder.Name, Template: reminder.Content,
			Params: map[string]string{
				"customer_name": o.CustomerName,
				"order_id":      autocall.Digits(o.OrderID),
				"amount":        autocall.Money(o.Amount),
				"due_date":      autocall.Date(due),
			},
			CallbackURL: s.callbackURL,
		})
		return err
	})
	if err != nil {
		s.log.Error("order not saved", "order", o.OrderID, "error", err)
		http.Error(w, "the order could not be saved", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if existed {
		// Nothing new: GET /orders/{id} says where its call is.
		_ = json.NewEncoder(w).Encode(map[string]any{"order_id": o.OrderID, "call": "exists"})
		return
	}
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{"order_id": o.OrderID, "call": "queued"})
}

func (s *service) getOrder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var phone string
	if err := s.pool.QueryRow(r.Context(), `SELECT phone FROM orders WHERE id = $1`, id).Scan(&phone); err != nil {
		http.Error(w, "no such order", http.StatusNotFound)
		return
	}
	out := map[string]any{"order_id": id, "phone": phone, "call": "queued"}
	rec, ok, err := s.journal.Get(r.Context(), "order-"+id)
	if err != nil {
		http.Error(w, "the journal is unreachable", http.StatusServiceUnavailable)
		return
	}
	if ok {
		out["call"], out["cause"], out["call_ids"] = rec.State, rec.Cause, rec.CallIDs
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// onCallEvent settles a job whose answer was lost from its call's event,
// and logs each call's outcome.
func (s *service) onCallEvent(ctx context.Context, ev *autocall.CallEvent) error {
	settled, err := s.journal.SettleFromEvents(ctx, []*autocall.CallEvent{ev})
	if err != nil {
		return err // the provider delivers it again
	}
	for _, k := range settled {
		s.log.Info("call settled from its event", "key", k, "call", ev.CallID)
	}
	if ev.Final() {
		s.log.Info("call outcome", "call", ev.CallID, "status", string(ev.Status), "keypress", ev.Keypress)
	}
	return nil
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, log, os.Getenv); err != nil {
		log.Error("order-notification", "error", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, log *slog.Logger, getenv func(string) string) error {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	addr := env("ADDR", "127.0.0.1:8080")
	const workers = 16
	dbURL := env("DATABASE_URL", "postgres://localhost:5432/postgres")
	pcfg, err := autocallriver.PoolConfig(dbURL, workers, &autocallriver.Worker{})
	if err != nil {
		return err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := autocallriver.CheckMigrated(ctx, pool); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, schema); err != nil {
		return err
	}
	j, err := autocallriver.NewJournal(ctx, pool)
	if err != nil {
		return err
	}
	defer j.Close()
	callbackKey := env("CALLBACK_KEY", "local-callback-key")
	w := &autocallriver.Worker{Journal: j, Limiter: autocallriver.NewLimiter(pool, "default", 20, 1),
		CallbackAPIKey: callbackKey, Logger: log}
	base, secret := getenv("AUTOCALL_BASE_URL"), getenv("AUTOCALL_SECRET_KEY")
	if base == "" {
		srv := autocalltest.NewServer(autocalltest.WithRealTime())
		defer srv.Close()
		base, secret = srv.URL, autocalltest.SecretKey
		log.Info("using the built-in sandbox: nobody is phoned", "url", srv.URL)
	}
	if w.TEL4VN, err = autocall.NewClient(base, autocall.WithSecretKey(secret)); err != nil {
		return err
	}
	if err := w.TEL4VN.TTS.ImportTemplate(ctx, env("AUTOCALL_CAMPAIGN_ID", "1"), &reminder); err != nil {
		log.Warn("template import", "error", err) // it may exist from an earlier run
	}
	client, err := autocallriver.NewClient(pool, w, workers, &river.Config{Logger: log})
	if err != nil {
		return err
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	s := &service{pool: pool, river: client, journal: j, campaignID: env("AUTOCALL_CAMPAIGN_ID", "1"),
		caller: env("AUTOCALL_CALLER", "02873001234"), callbackURL: env("PUBLIC_URL", "http://"+addr) + "/hooks/call", log: log}
	hs := &http.Server{Addr: addr, Handler: s.routes(callbackKey), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	log.Info("listening", "addr", addr)
	err = hs.ListenAndServe()
	// The calls in flight finish and are settled before the process ends;
	// StopAndCancel (not Stop) gives back, unsent, the jobs not yet
	// claimed, those River fetched ahead among them.
	stopCtx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	_ = client.StopAndCancel(stopCtx)
	_ = w.Close(stopCtx)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
