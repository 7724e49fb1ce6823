// Package autocallredis shares what the SDK keeps per process between the
// processes of many machines, through Redis: one provider token for every
// replica of a service (TokenSource), and one batch journal for workers on
// several hosts (Journal).
//
// It is a module of its own, so that users of the core SDK never download a
// Redis client.
//
// # Durability
//
// The journal's promise, never phoning a customer twice, holds only for
// what Redis keeps. Run Redis with the append-only file, an fsync per
// write, and no eviction:
//
//	appendonly yes
//	appendfsync always
//	maxmemory-policy noeviction
//
// With appendfsync everysec (Redis's default when AOF is on), a crash of the
// Redis host can lose the last second of claims: a job claimed, then sent,
// whose claim was lost, reads as never claimed and is sent again by the next
// run. Without AOF (RDB snapshots only), minutes of claims can be lost the
// same way. An allkeys-* eviction policy (a cache's usual setting) may
// delete the whole journal under memory pressure: a re-run then phones
// everyone again.
//
// So a journal's first Claim (or Journal.Check, called at start-up) reads
// these settings with CONFIG GET on every node, and refuses to run with a
// *ConfigError naming the setting and the fix, matching ErrEvictable or
// ErrNotDurable. Where CONFIG is renamed or forbidden, as on most managed
// services, it reads what INFO tells (the eviction policy, whether AOF is
// on) and says that the rest could not be verified. To run anyway, accept
// the risk by name: AcceptDoubleCallsOnEviction, AcceptDoubleCallsOnCrash.
// The token source only warns (TokenSource.Logger): a lost token costs one
// fetch.
//
// # Replicas and failover
//
// A replica promoted after a failover has only what was replicated to it.
// MinReplicas makes each claim wait (WAIT) until that many replicas
// acknowledge it, for a bounded time; a claim that does not reach them is
// recorded back as unsent and stops the run (ErrNotReplicated). WAIT
// proves the replicas received the claim, not that they wrote it to disk.
//
// What managed services allow, as far as their public documents say (check
// your own service): Amazon ElastiCache lists CONFIG among its restricted
// commands, and WAIT is not on that list; as far as we know its current
// engines offer no AOF with appendfsync always, durability coming from
// replicas (Multi-AZ), so it needs AcceptDoubleCallsOnCrash, best with
// MinReplicas(1, …). Google Memorystore
// for Redis Cluster offers AOF with appendfsync always, everysec (its
// default) or no, set through its API rather than CONFIG. Azure Cache for
// Redis forbids CONFIG and sets persistence in its portal. We have not
// verified that WAIT is allowed on Memorystore or Azure, nor how WAIT
// behaves behind their proxies: try MinReplicas on a staging instance, and
// if WAIT is refused the first claim fails, which is safe.
//
// # Size and expiry
//
// A journal is one Redis hash, so one node of a cluster: about 250 bytes a
// job, 24 MB for 100,000 jobs. Splitting it over several keys would not
// spread it (they would share a hash tag, so that a claim reaches one slot),
// and measured (BENCHMARKS.md) it claims no faster; it only cuts Records'
// one HGETALL, which held Redis up for about 0.3 s at 100,000 jobs, into
// shorter ones. So it stays one hash: keep a batch under a few hundred
// thousand jobs (or give parts of a longer list journals of their own), and
// call Records, which SettleFromEvents does, off peak on a large one.
// Records are kept until Journal.Expire gives a finished batch a lifetime.
//
// # Tokens at rest
//
// The shared token is stored encrypted (AES-256-GCM) under a key derived with
// HKDF-SHA-256 from the credential it was fetched with; only a SHA-256 of it
// is kept in clear, to recognise the token a replica reports rejected. A
// Redis dump reveals no usable token to someone without the credential.
package autocallredis
