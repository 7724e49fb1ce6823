package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/spf13/cobra"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
	autocallriver "github.com/autocallvn/autocall-go/river"
)

type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	log            *slog.Logger

	workers     int
	prefetch    int
	rate        float64
	burst       int
	account     string
	leaseTTL    time.Duration
	jobTimeout  time.Duration
	rescueAfter time.Duration
	waitDB      time.Duration
	keep        keepFlags // retention.go
	dnc         string
	metricsAddr string
}

func rootCommand(ctx context.Context, stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr, getenv: getenv, log: slog.New(slog.NewTextHandler(stderr, nil))}
	root := &cobra.Command{
		Use:           "autocall-worker",
		Short:         "Work the call jobs of package autocallriver (River on PostgreSQL)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Apply River's migrations and the journal's to DATABASE_URL",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pool, err := a.pool(cmd.Context())
			if err != nil {
				return err
			}
			defer pool.Close()
			if err := autocallriver.MigrateAll(cmd.Context(), pool); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, "migrated: River's tables and the journal's (autocall_*)")
			return nil
		},
	}
	migrate.Flags().DurationVar(&a.waitDB, "wait-db", time.Minute, "how long to wait for the database to be reachable")
	run := &cobra.Command{
		Use:   "run",
		Short: "Work the call jobs until SIGTERM (in-flight jobs finish and are settled)",
		Long: `Works the call jobs until SIGTERM (in-flight jobs finish and are settled).

Configuration, from the environment (each also as NAME_FILE, a file
holding the value, for secrets mounted as files):

  DATABASE_URL             postgres://user@host/db (required; autocall-worker migrate first)
  AUTOCALL_BASE_URL        the provider's API; unset, with no credential: the built-in sandbox
  AUTOCALL_SECRET_KEY      TEL4VN's secret key (OTP and TTS jobs)
  AUTOCALL_API_KEY         OMICall's API key (auto-call jobs)
  AUTOCALL_CALLBACK_KEY    sent with each job's callback_url
  AUTOCALL_DNC_FILE        the Do-Not-Call list advertising jobs are held to (or --dnc)

A credential without AUTOCALL_BASE_URL is refused: a real account's jobs
would be recorded placed on the sandbox.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.run(cmd.Context()) },
	}
	f := run.Flags()
	f.IntVar(&a.workers, "workers", 16, "jobs worked at once by this process, each until the provider answers (its outcome is written after)")
	f.IntVar(&a.prefetch, "prefetch", 0, "jobs River fetches ahead, each waiting for a worker (0: as many as --workers; -1: none)")
	f.Float64Var(&a.rate, "rate", 0, "the account's creates per second across every replica (0: no bound)")
	f.IntVar(&a.burst, "burst", 1, "creates that may go at once within --rate")
	f.StringVar(&a.account, "account", "default", "the provider account's name, shared by the replicas that send with it")
	f.DurationVar(&a.leaseTTL, "lease-ttl", 15*time.Second, "how long this worker's claims stay live if it dies")
	f.DurationVar(&a.jobTimeout, "job-timeout", time.Minute, "a job's longest run")
	f.DurationVar(&a.rescueAfter, "rescue-after", 0, "when River re-delivers a job whose worker died (default: job timeout + 1 hour, River's)")
	f.DurationVar(&a.waitDB, "wait-db", 0, "how long to wait for the database at start (0: until stopped)")
	a.keep.add(run)
	f.StringVar(&a.dnc, "dnc", "", "the Do-Not-Call list advertising jobs are held to, one number a line (default: AUTOCALL_DNC_FILE)")
	f.StringVar(&a.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464): the calls, jobs and journal writes, and River's own")
	root.AddCommand(migrate, run)
	return root
}

// env reads NAME, or the file NAME_FILE names.
func (a *app) env(name string) (string, error) {
	if v := a.getenv(name); v != "" {
		return v, nil
	}
	file := a.getenv(name + "_FILE")
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading %s_FILE: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// pool connects to DATABASE_URL, waiting (up to --wait-db, 0: until ctx
// ends) for the database to be reachable.
func (a *app) pool(ctx context.Context) (*pgxpool.Pool, error) {
	url, err := a.env("DATABASE_URL")
	if err != nil {
		return nil, err
	}
	if url == "" {
		return nil, errors.New("DATABASE_URL is not set (postgres://user@host/db)")
	}
	cfg, err := autocallriver.PoolConfig(url, a.workers, &autocallriver.Worker{Prefetch: a.prefetch})
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var deadline time.Time
	if a.waitDB > 0 {
		deadline = time.Now().Add(a.waitDB)
	}
	for wait := 100 * time.Millisecond; ; wait = min(wait*2, 5*time.Second) {
		err := pool.Ping(ctx)
		if err == nil {
			return pool, nil
		}
		if ctx.Err() != nil {
			pool.Close()
			return nil, errStopped // SIGTERM while waiting: nothing was worked
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			pool.Close()
			return nil, fmt.Errorf("the database is unreachable: %w", err)
		}
		a.log.Warn("the database is unreachable; trying again", "in", wait, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

func (a *app) run(ctx context.Context) error {
	opts, err := a.keep.options()
	if err != nil {
		return err
	}
	pool, err := a.pool(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := autocallriver.CheckMigrated(ctx, pool); err != nil {
		return err
	}
	j, err := autocallriver.NewJournal(ctx, pool, opts...)
	if err != nil {
		return err
	}
	defer j.Close()
	defer a.compact(ctx, j)()
	tel, err := a.serveMetrics()
	if err != nil {
		return err
	}
	defer tel.stop()
	w := &autocallriver.Worker{Journal: j, Limiter: autocallriver.NewLimiter(pool, a.account, a.rate, a.burst),
		LeaseTTL: a.leaseTTL, Logger: a.log, Prefetch: a.prefetch}
	tel.worker(w)
	if err := a.clients(w, tel.clientOption()); err != nil {
		return err
	}
	if w.Policy, err = a.policy(); err != nil {
		return err
	}
	cfg := &river.Config{
		JobTimeout: a.jobTimeout, RescueStuckJobsAfter: a.rescueAfter, Logger: a.log,
		FetchCooldown: 20 * time.Millisecond,
	}
	tel.river(cfg)
	client, err := autocallriver.NewClient(pool, w, a.workers, cfg)
	if err != nil {
		return err
	}
	// River's client keeps working through a database restart; it is
	// started with a context of its own, and SIGTERM stops it below.
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "autocall-worker: working queue %s with %d workers, %d fetched ahead, a pool of %d connections (run %s)\n",
		autocallriver.Queue, a.workers, w.Ahead(a.workers), pool.Config().MaxConns, w.RunID())
	<-ctx.Done()
	a.log.Info("stopping: the calls in flight finish and are settled; the jobs not yet claimed go back to River unsent (River's hard stop below cancels only those)")
	stopCtx, cancel := context.WithTimeout(context.Background(), a.jobTimeout+30*time.Second)
	defer cancel()
	// The jobs' contexts are cancelled: a job not yet claimed (one fetched
	// ahead, waiting for a place; one waiting for a token) goes back to
	// River unsent, where River's Stop would have started it; a claimed
	// one's call and outcome's write ignore the cancel (Runner.RunOne), so
	// it finishes and is settled.
	err = client.StopAndCancel(stopCtx)
	if cerr := w.Close(stopCtx); err == nil {
		err = cerr
	}
	return err
}

// policy is Decree 91's rules for advertising jobs, with the Do-Not-Call
// list of --dnc (or AUTOCALL_DNC_FILE), read once at start: restart the
// worker when the list changes. A file with a line that is not a number
// stops the worker: a number left out would be called.
func (a *app) policy() (*batch.Policy, error) {
	path := a.dnc
	if path == "" {
		path = a.getenv("AUTOCALL_DNC_FILE")
	}
	if path == "" {
		a.log.Warn("no Do-Not-Call list (--dnc or AUTOCALL_DNC_FILE): advertising jobs are held to the decree's hours and frequency only")
		return &batch.Policy{}, nil
	}
	list, err := batch.LoadDoNotCall(path)
	if err != nil {
		return nil, fmt.Errorf("the Do-Not-Call list: %w", err)
	}
	return &batch.Policy{DoNotCall: list}, nil
}

// clients are the providers' clients from the environment, or the built-in
// sandbox's when no AUTOCALL_BASE_URL is set.
func (a *app) clients(w *autocallriver.Worker, obs autocall.Option) error {
	base, err := a.env("AUTOCALL_BASE_URL")
	if err != nil {
		return err
	}
	secret, err := a.env("AUTOCALL_SECRET_KEY")
	if err != nil {
		return err
	}
	apiKey, err := a.env("AUTOCALL_API_KEY")
	if err != nil {
		return err
	}
	if w.CallbackAPIKey, err = a.env("AUTOCALL_CALLBACK_KEY"); err != nil {
		return err
	}
	if base == "" && (secret != "" || apiKey != "") {
		// A credential means a real account: on the sandbox, the jobs it
		// was meant for would be recorded placed and never called.
		return errors.New("a provider credential is set but AUTOCALL_BASE_URL is not: set it to the provider's API (unset the credential to run on the built-in sandbox)")
	}
	if base == "" {
		srv := autocalltest.NewServer(autocalltest.WithRealTime())
		base, secret, apiKey = srv.URL, autocalltest.SecretKey, autocalltest.APIKey
		fmt.Fprintf(a.stdout, "autocall-worker: no AUTOCALL_BASE_URL: the built-in sandbox at %s (nobody is phoned)\n", srv.URL)
	}
	if secret != "" {
		if w.TEL4VN, err = autocall.NewClient(base, autocall.WithSecretKey(secret), obs); err != nil {
			return err
		}
	}
	if apiKey != "" {
		if w.OMICall, err = autocall.NewClient(base, autocall.WithAPIKey(apiKey), obs); err != nil {
			return err
		}
	}
	if w.TEL4VN == nil && w.OMICall == nil {
		return errors.New("no provider credential: set AUTOCALL_SECRET_KEY (TEL4VN) or AUTOCALL_API_KEY (OMICall)")
	}
	return nil
}
