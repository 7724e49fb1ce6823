// Package autocallriver makes "order committed ⇒ this customer is called
// once, at a lawful hour" true for a service whose orders live in
// PostgreSQL, on River (github.com/riverqueue/river): the call job is
// inserted in the order's own transaction, worked by any replica, and the
// journal in the same database decides, before each request leaves,
// whether it may.
//
//	tx, _ := pool.Begin(ctx)
//	// … INSERT INTO orders …
//	_, err := autocallriver.InsertTx(ctx, client, tx, autocallriver.TTSArgs{
//		Common: autocallriver.Common{Key: "order-" + id}, CampaignID: "1", Caller: "02873001234",
//		Callees: []string{phone}, TemplateName: "nhac_thanh_toan", Params: params})
//	tx.Commit(ctx) // rolled back: no job, nobody called
//
// A worker (cmd/autocall-worker, or Worker in a program of your own) works
// the jobs. River delivers a job at least once; the Postgres Journal's
// claim, committed before the request leaves, makes it go at most once.
//
// # From an outcome to River's job state
//
// Package batch's outcome table decides a job's state (batch.Runner.RunOne
// runs it); the worker tells River:
//
//	journal state (cause)                  River                      then
//	-------------------------------------  -------------------------  -----------------------------------
//	Placed                                 completed, in the          never sent again
//	                                       transaction that writes
//	                                       the outcome (JobCompleteTx)
//	Refused (quota, template, phone, …)    cancelled with a           insert the key again with
//	                                       *JobError (ErrRefused)     retry_refused / retry_causes once
//	                                                                  the cause is fixed
//	Refused (do_not_call)                  cancelled (ErrRefused)     never sent
//	Unsent (network, token, auth)          error: retried by River    with River's backoff
//	                                       with backoff
//	Unsent (rate: a 429, a rate code)      snoozed for Retry-After    every worker on every replica
//	                                                                  pauses: the pause is in Postgres,
//	                                                                  checked before each create
//	Unsent (hours, frequency: Decree 91)   snoozed until NotBefore    no cron needed
//	Unknown                                cancelled with a           never retried: find out, then
//	                                       *JobError (ErrUnknown)     batch.Resolve (or SettleFromEvents)
//	a claim left by a worker that died     cancelled (ErrUnknown)     River's rescuer re-delivers the
//	  (its lease lapsed)                                              job; its claim reads Unknown
//	claimed by a live worker elsewhere     snoozed for LeaseTTL       looked at again
//	nothing claimed (the database is       error: retried by River    nothing was sent
//	  unreachable, shutting down)            (snoozed at shutdown)
//	claimed, but this worker's lease may   error: retried by River    nothing was sent; the claim is
//	  have lapsed before the send                                     written back Unsent
//
// In doubt the table picks the state that can never phone a customer
// twice. Refused and Unknown jobs are cancelled, not discarded, so that
// River never retries them; the journal keeps their records. A job that
// ended (completed or cancelled) no longer holds an OTP's code in its
// args (OTPArgs).
//
// # One account, many replicas
//
// Limiter keeps the account's rate limit (a token bucket) and the pause a
// 429 asked for in one row of autocall_account: every replica takes a
// token there before each create (one UPDATE, about a millisecond), and a
// 429 seen by one pauses all of them. The pause is read again in each
// claim's transaction (no extra round trip): a job claimed while the
// account is paused is written Unsent (rate) and snoozed, however long
// it took to reach its claim; only creates already past their claim when
// the 429 came still leave.
//
// # Workers, places and leases
//
// NewClient's maxWorkers are places: a job holds one from its start until
// the provider has answered, and River holds Worker.Prefetch jobs more,
// fetched ahead and waiting for a place, unclaimed (give the pool
// PoolConns connections). Each worker process has a lease in
// autocall_lease, renewed every LeaseTTL/3: its claims read Unknown to
// everyone else once it lapses (the process died). So a job is claimed
// only under a lease renewed within LeaseTTL/2, and its create leaves only
// if the lease still has a quarter of LeaseTTL left; otherwise the claim
// is written back Unsent and River tries the job again.
//
// # Tables
//
// Migrate creates the journal's tables (autocall_job, autocall_adcall,
// autocall_lease, autocall_account, autocall_forgotten, autocall_schema)
// beside River's (rivermigrate); MigrateAll does both, as `autocall-worker
// migrate` does. It upgrades an older database in place (a worker refuses
// one until it is upgraded).
//
// # Retention
//
// The journal drops what batch.Retention lets go (WithRetention; the
// defaults: settled records after 30 days, their keys after a year) when
// Compact runs: `autocall-worker run` runs it at start and every
// --compact-every (an hour); a program of its own calls CompactEvery.
// A job whose record was dropped but whose key is remembered is refused
// as forgotten (batch.Forgotten), not sent again.
package autocallriver
