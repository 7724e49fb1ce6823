package autocallredis

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	autocall "github.com/autocallvn/autocall-go"
)

// TokenSource is an autocall.TokenSource shared by every process configured
// with the same Redis and credential: the token is read from Redis; when it
// is missing or near expiry, exactly one process fetches a new one (under a
// lock with an expiry, so that a process that dies holding it blocks the
// others no longer than LockTTL) and the others wait for it, each bounded by
// its own context. A token rejected with 401 is forgotten once, by the first
// replica to report it (autocall.TokenInvalidator).
//
//	fetch, _ := autocall.NewTokenFetcher(base, autocall.WithSecretKey(secret))
//	ts := autocallredis.NewTokenSource(rdb, fetch, secret)
//	c, _ := autocall.NewClient(base, autocall.WithTokenSource(ts), autocall.WithProvider(autocall.TEL4VN))
type TokenSource struct {
	rdb   redis.UniversalClient
	fetch autocall.TokenSource
	aead  cipher.AEAD
	key   string // the token's hash
	lock  string // the fetch lock
	owner string // this source's value in the lock

	mu       sync.Mutex
	fetching bool // one of this source's callers holds the lock
	checked  sync.Once

	// LockTTL bounds how long a process that died while fetching blocks
	// the others (default 30s); it should exceed a fetch's own time.
	LockTTL time.Duration
	// Poll is how often a waiting process looks again (default 50ms).
	Poll time.Duration
	// DefaultLifetime is kept for a token whose expiry the provider did not
	// give (default 1h).
	DefaultLifetime time.Duration
	// Logger, if set, receives a warning when Redis may evict the shared
	// token (maxmemory-policy allkeys-*): only a warning, since a lost
	// token costs one fetch. Read once, at the first Token.
	Logger *slog.Logger
}

// NewTokenSource shares the tokens fetch brings through rdb. credential is
// the secret key or API key fetch uses: it names the shared token (replicas
// with the same credential share one) and keys its encryption at rest.
func NewTokenSource(rdb redis.UniversalClient, fetch autocall.TokenSource, credential string) *TokenSource {
	id := sha256.Sum256([]byte("autocall-go token name\x00" + credential))
	name := "autocall:token:" + hex.EncodeToString(id[:12])
	k, err := hkdf.Key(sha256.New, []byte(credential), []byte("autocall-go token at rest"), name, 32)
	if err != nil {
		panic(err) // only for a length HKDF cannot make; 32 it can
	}
	block, _ := aes.NewCipher(k)
	aead, _ := cipher.NewGCM(block)
	owner := make([]byte, 16)
	_, _ = rand.Read(owner)
	return &TokenSource{rdb: rdb, fetch: fetch, aead: aead, key: name, lock: name + ":lock", owner: hex.EncodeToString(owner),
		LockTTL: 30 * time.Second, Poll: 50 * time.Millisecond, DefaultLifetime: time.Hour}
}

// stored is what the token's hash holds, sealed.
type stored struct {
	Value  string    `json:"v"`
	Expiry time.Time `json:"e"`
	// Fetched is when the token was fetched: the SDK's renewal rule
	// (autocall.RefreshTimes) counts the last fifth of the token's life
	// from it. A token stored before this field was kept is renewed ten
	// minutes before it expires, or at once when its life was shorter.
	Fetched time.Time `json:"f,omitzero"`
}

// fresh: no process need renew the token yet.
func (st stored) fresh(now time.Time) bool {
	refreshAt, _ := autocall.RefreshTimes(st.Fetched, st.Expiry)
	return st.Value != "" && now.Before(refreshAt)
}

// usable: the token may still be sent while another process renews it.
func (st stored) usable(now time.Time) bool {
	_, staleAt := autocall.RefreshTimes(st.Fetched, st.Expiry)
	return st.Value != "" && now.Before(staleAt)
}

func (st stored) token() autocall.Token { return autocall.Token{Value: st.Value, Expiry: st.Expiry} }

// Token implements autocall.TokenSource.
//
// An error of Redis's that means it could not be reached or could not
// serve (refused, reset, timed out, loading, failing over), or a wait for
// another process's fetch cut short by ctx, matches autocall.ErrNetwork
// with its cause: nothing was sent to the provider.
func (s *TokenSource) Token(ctx context.Context) (autocall.Token, error) {
	s.checked.Do(func() { s.warnConfig(ctx) })
	for {
		st, err := s.read(ctx)
		if err != nil {
			return autocall.Token{}, err
		}
		if st.fresh(time.Now()) {
			return st.token(), nil
		}
		// Missing or near expiry: one process fetches.
		locked, err := s.acquire(ctx)
		if err != nil {
			return autocall.Token{}, err
		}
		if locked {
			return s.fetchAndStore(ctx)
		}
		if st.usable(time.Now()) {
			return st.token(), nil // still good while another process renews it
		}
		select {
		case <-ctx.Done():
			return autocall.Token{}, fmt.Errorf("autocallredis: waiting for the token another process fetches: %w: %w", autocall.ErrNetwork, ctx.Err())
		case <-time.After(s.Poll):
		}
	}
}

func (s *TokenSource) read(ctx context.Context) (stored, error) {
	ct, err := s.rdb.HGet(ctx, s.key, "ct").Bytes()
	if errors.Is(err, redis.Nil) {
		return stored{}, nil
	}
	if err != nil {
		return stored{}, redisError("reading the shared token", err)
	}
	ns := s.aead.NonceSize()
	if len(ct) < ns {
		return stored{}, nil // not ours: fetch anew
	}
	plain, err := s.aead.Open(nil, ct[:ns], ct[ns:], []byte(s.key))
	if err != nil {
		return stored{}, nil // another credential's, or tampered with: fetch anew
	}
	var st stored
	if json.Unmarshal(plain, &st) != nil {
		return stored{}, nil
	}
	return st, nil
}

// acquire takes the fetch lock, if free, for one of this source's callers
// at a time.
func (s *TokenSource) acquire(ctx context.Context) (ok bool, err error) {
	s.mu.Lock()
	if s.fetching {
		s.mu.Unlock()
		return false, nil
	}
	s.fetching = true
	s.mu.Unlock()
	defer func() {
		if !ok {
			s.release()
		}
	}()
	ok, err = s.rdb.SetNX(ctx, s.lock, s.owner, s.LockTTL).Result()
	if !ok {
		// A SET NX whose reply was lost (then failed, or retried by the
		// client and found the lock taken) may have taken it for us: the
		// lock holding our own value is ours, not another process's to
		// wait LockTTL for.
		if cur, gerr := s.rdb.Get(ctx, s.lock).Result(); gerr == nil && cur == s.owner {
			return true, nil
		}
	}
	if err != nil {
		return false, redisError("taking the token lock", err)
	}
	return ok, nil
}

func (s *TokenSource) release() {
	s.mu.Lock()
	s.fetching = false
	s.mu.Unlock()
}

// releaseScript deletes the lock only if it is still ours: a lock that
// expired and was taken by another process is theirs.
var releaseScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

func (s *TokenSource) fetchAndStore(ctx context.Context) (autocall.Token, error) {
	defer s.release()
	// A release whose reply is lost leaves the lock ours until LockTTL:
	// acquire recognises it.
	defer releaseScript.Run(context.WithoutCancel(ctx), s.rdb, []string{s.lock}, s.owner)
	// Another process may have stored a token between our read and our lock.
	if st, err := s.read(ctx); err == nil && st.fresh(time.Now()) {
		return st.token(), nil
	}
	fetched := time.Now()
	tok, err := s.fetch.Token(ctx)
	if err != nil {
		return autocall.Token{}, err
	}
	if tok.Expiry.IsZero() {
		tok.Expiry = time.Now().Add(s.DefaultLifetime)
	}
	plain, _ := json.Marshal(stored{Value: tok.Value, Expiry: tok.Expiry, Fetched: fetched})
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	ct := s.aead.Seal(nonce, nonce, plain, []byte(s.key))
	ttl := time.Until(tok.Expiry)
	if ttl <= 0 {
		return tok, nil // born expired: use it once, share nothing
	}
	pipe := s.rdb.TxPipeline()
	pipe.HSet(ctx, s.key, "ct", ct, "fp", fingerprint(tok.Value))
	pipe.PExpire(ctx, s.key, ttl)
	if _, err := pipe.Exec(ctx); err != nil {
		// The token works; only sharing it failed.
		return tok, nil
	}
	return tok, nil
}

func fingerprint(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// invalidateScript forgets the shared token only if it is the one reported:
// of many replicas rejected with one token, the first forgets it and the
// others find the new one.
var invalidateScript = redis.NewScript(`if redis.call('HGET', KEYS[1], 'fp') == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

// InvalidateToken implements autocall.TokenInvalidator.
func (s *TokenSource) InvalidateToken(ctx context.Context, token string) error {
	return invalidateScript.Run(ctx, s.rdb, []string{s.key}, fingerprint(token)).Err()
}

var (
	_ autocall.TokenSource      = (*TokenSource)(nil)
	_ autocall.TokenInvalidator = (*TokenSource)(nil)
)

// redisError wraps an error of Redis's; one that means Redis could not be
// reached or could not serve also matches autocall.ErrNetwork, so that a
// batch records the job unsent (nothing left) rather than refused.
func redisError(what string, err error) error {
	if unreachable(err) {
		return fmt.Errorf("autocallredis: %s: %w: %w", what, autocall.ErrNetwork, err)
	}
	return fmt.Errorf("autocallredis: %s: %w", what, err)
}

// unreachable: no reply came (a failed dial, a reset, a timeout, a closed
// client or pool), or Redis replied that it cannot serve for now.
func unreachable(err error) bool {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return true
	}
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsClusterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsMasterDownError(err)
}

// warnConfig logs, once, what in Redis's configuration may lose the shared
// token: eviction only, since persistence does not matter for a token.
func (s *TokenSource) warnConfig(ctx context.Context) {
	if s.Logger == nil {
		return
	}
	cfgs, err := readConfigs(ctx, s.rdb)
	if err != nil {
		return // Token reports Redis's failures
	}
	for _, cfg := range cfgs {
		switch {
		case strings.HasPrefix(cfg.policy, "allkeys-"):
			s.Logger.LogAttrs(ctx, slog.LevelWarn, "autocallredis: Redis may evict the shared token and its lock, costing extra token fetches; set maxmemory-policy noeviction",
				slog.String("addr", cfg.addr), slog.String("maxmemory-policy", cfg.policy))
		case cfg.policy == "":
			s.Logger.LogAttrs(ctx, slog.LevelDebug, "autocallredis: could not read Redis's maxmemory-policy",
				slog.String("addr", cfg.addr), slog.Any("error", cfg.readErr))
		}
	}
}
