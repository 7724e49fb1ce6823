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
// A replica promoted after a failover has only what was replicated to it:
// use WAIT, or accept that window. Tokens need no durability: a lost token
// is fetched again.
//
// # Tokens at rest
//
// The shared token is stored encrypted (AES-256-GCM) under a key derived with
// HKDF-SHA-256 from the credential it was fetched with; only a SHA-256 of it
// is kept in clear, to recognise the token a replica reports rejected. A
// Redis dump reveals no usable token to someone without the credential.
package autocallredis
