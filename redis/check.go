package autocallredis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Sentinels for errors.Is, matched by the *ConfigError of Check (and of a
// journal's first Claim) and by a claim that did not reach its replicas.
var (
	// ErrEvictable: Redis may evict the journal (maxmemory-policy
	// allkeys-*), or its policy cannot be read.
	ErrEvictable = errors.New("autocallredis: Redis may evict the journal")
	// ErrNotDurable: Redis may lose acknowledged claims in a crash (no
	// append-only file, or appendfsync other than always), or its
	// persistence settings cannot be read.
	ErrNotDurable = errors.New("autocallredis: Redis may lose claims in a crash")
	// ErrNotReplicated: a claim did not reach MinReplicas replicas in time.
	ErrNotReplicated = errors.New("autocallredis: the claim did not reach enough replicas")
)

// ConfigError is a Redis setting that breaks the journal's promise, or one
// that could not be read. It matches ErrEvictable or ErrNotDurable, and the
// cause when CONFIG could not be used.
type ConfigError struct {
	Addr    string // the Redis node
	Setting string // "maxmemory-policy", "appendonly", "appendfsync"
	Value   string // its value; empty when it could not be read
	Risk    error  // ErrEvictable or ErrNotDurable
	Fix     string // what to change on the Redis side
	OptOut  string // the option that runs anyway, accepting Risk
	Cause   error  // why the setting could not be read, if it could not
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "autocallredis: Redis at %s", e.Addr)
	if e.Cause != nil {
		fmt.Fprintf(&b, " does not let CONFIG GET read %s (renamed or forbidden, as on many managed services: %v)", e.Setting, e.Cause)
	} else {
		fmt.Fprintf(&b, " has %s %s", e.Setting, e.Value)
	}
	fmt.Fprintf(&b, ": %s; fix: %s, or pass autocallredis.%s() to run anyway", riskText(e.Risk), e.Fix, e.OptOut)
	return b.String()
}

func (e *ConfigError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Risk, e.Cause}
	}
	return []error{e.Risk}
}

func riskText(risk error) string {
	if risk == ErrEvictable {
		return "it may evict the journal, and a re-run would phone its customers again"
	}
	return "a crash or restart of Redis may lose claims, and a re-run would phone those customers again"
}

// redisConfig is what one node says of the settings the journal relies on.
// A setting that could not be read is empty, with the reason in readErr.
type redisConfig struct {
	addr                    string
	policy, aof, appendsync string
	readErr                 error
}

// readConfig reads the settings with CONFIG GET, or, where CONFIG is
// renamed or forbidden, what INFO tells of them (the policy and whether
// AOF is on, not its fsync policy).
func readConfig(ctx context.Context, addr string, c redis.Cmdable) (redisConfig, error) {
	cfg := redisConfig{addr: addr}
	policy, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
	if err == nil {
		var appendCfg map[string]string
		appendCfg, err = c.ConfigGet(ctx, "append*").Result()
		cfg.policy, cfg.aof, cfg.appendsync = policy["maxmemory-policy"], appendCfg["appendonly"], appendCfg["appendfsync"]
		if cfg.policy == "" || cfg.aof == "" || cfg.appendsync == "" {
			cfg.readErr = errors.New("CONFIG GET answered without the setting")
		}
	}
	if err == nil {
		return cfg, nil
	}
	var reply redis.Error
	if !errors.As(err, &reply) {
		return cfg, fmt.Errorf("autocallredis: reading the configuration of Redis at %s: %w", addr, err)
	}
	cfg.readErr = err
	if info, ierr := c.Info(ctx, "memory", "persistence").Result(); ierr == nil {
		cfg.policy = infoField(info, "maxmemory_policy")
		switch infoField(info, "aof_enabled") {
		case "0":
			cfg.aof = "no"
		case "1":
			cfg.aof = "yes"
		}
	}
	return cfg, nil
}

func infoField(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

// problems are the journal's objections to cfg, less those opted out of.
func (cfg redisConfig) problems(o journalOptions) []error {
	var out []error
	unread := func(setting string, risk error, fix, optOut string) {
		out = append(out, &ConfigError{Addr: cfg.addr, Setting: setting, Risk: risk, Fix: fix, OptOut: optOut, Cause: cfg.readErr})
	}
	if !o.acceptEviction {
		const fix, optOut = "set maxmemory-policy noeviction", "AcceptDoubleCallsOnEviction"
		switch {
		case cfg.policy == "":
			unread("maxmemory-policy", ErrEvictable, "make sure maxmemory-policy is noeviction", optOut)
		case strings.HasPrefix(cfg.policy, "allkeys-"):
			out = append(out, &ConfigError{Addr: cfg.addr, Setting: "maxmemory-policy", Value: cfg.policy, Risk: ErrEvictable, Fix: fix, OptOut: optOut})
		}
	}
	if !o.acceptCrash {
		const optOut = "AcceptDoubleCallsOnCrash"
		switch {
		case cfg.aof == "no":
			out = append(out, &ConfigError{Addr: cfg.addr, Setting: "appendonly", Value: cfg.aof, Risk: ErrNotDurable,
				Fix: "set appendonly yes and appendfsync always", OptOut: optOut})
		case cfg.aof == "":
			unread("appendonly", ErrNotDurable, "make sure appendonly is yes and appendfsync always", optOut)
		case cfg.appendsync == "":
			unread("appendfsync", ErrNotDurable, "make sure appendfsync is always", optOut)
		case cfg.appendsync != "always":
			out = append(out, &ConfigError{Addr: cfg.addr, Setting: "appendfsync", Value: cfg.appendsync, Risk: ErrNotDurable,
				Fix: "set appendfsync always", OptOut: optOut})
		}
	}
	return out
}

// shardedClient is a client of several nodes (*redis.ClusterClient,
// *redis.Ring): each one's settings are checked.
type shardedClient interface {
	ForEachShard(ctx context.Context, fn func(ctx context.Context, c *redis.Client) error) error
}

var (
	_ shardedClient = (*redis.ClusterClient)(nil)
	_ shardedClient = (*redis.Ring)(nil)
)

// readConfigs reads the settings of every node rdb talks to.
func readConfigs(ctx context.Context, rdb redis.UniversalClient) ([]redisConfig, error) {
	sharded, ok := rdb.(shardedClient)
	if !ok {
		addr := "the configured address"
		if c, ok := rdb.(*redis.Client); ok {
			addr = c.Options().Addr
		}
		cfg, err := readConfig(ctx, addr, rdb)
		return []redisConfig{cfg}, err
	}
	var mu sync.Mutex
	var out []redisConfig
	err := sharded.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
		cfg, err := readConfig(ctx, c.Options().Addr, c)
		mu.Lock()
		out = append(out, cfg)
		mu.Unlock()
		return err
	})
	return out, err
}

// Check reads the configuration of the Redis the journal is in (CONFIG GET,
// or INFO where CONFIG is renamed or forbidden) and returns a *ConfigError
// for each setting that can lose the journal's claims, or that could not
// be read, unless the journal was opened with the option accepting that
// risk (AcceptDoubleCallsOnEviction, AcceptDoubleCallsOnCrash):
//
//   - maxmemory-policy allkeys-* may evict the journal: use noeviction;
//   - appendonly no, or appendfsync everysec or no, may lose claims in a
//     crash: use appendonly yes and appendfsync always.
//
// The first Claim calls it (until it succeeds once), so a batch run on an
// unsafe Redis stops before its first request; call it at start-up to
// fail earlier. A journal found with an expiry (Expire) is made persistent
// again: a journal being run must not vanish under its run.
func (j *Journal) Check(ctx context.Context) error {
	cfgs, err := readConfigs(ctx, j.rdb)
	if err != nil {
		return err
	}
	var errs []error
	for _, cfg := range cfgs {
		errs = append(errs, cfg.problems(j.opts)...)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := j.rdb.Persist(ctx, j.hash).Err(); err != nil {
		return fmt.Errorf("autocallredis: removing the journal's expiry: %w", err)
	}
	if err := j.rdb.Persist(ctx, j.ads).Err(); err != nil {
		return fmt.Errorf("autocallredis: removing the expiry of the journal's advertising index: %w", err)
	}
	if err := j.rdb.Persist(ctx, j.tombs).Err(); err != nil {
		return fmt.Errorf("autocallredis: removing the expiry of the journal's tombstones: %w", err)
	}
	return nil
}

// readiness remembers that a journal's Check succeeded: once it has, a
// claim reads ok without taking mu.
type readiness struct {
	mu sync.Mutex // held while one claim checks
	ok atomic.Bool
}

// ready runs Check once before the first claim, and again after a failure.
func (j *Journal) ready(ctx context.Context) error {
	if j.checked.ok.Load() {
		return nil
	}
	j.checked.mu.Lock()
	defer j.checked.mu.Unlock()
	if j.checked.ok.Load() {
		return nil
	}
	if err := j.Check(ctx); err != nil {
		return err
	}
	if err := j.replicasSupported(); err != nil {
		return err
	}
	if err := j.migrate(ctx); err != nil {
		return err
	}
	j.checked.ok.Store(true)
	return nil
}
