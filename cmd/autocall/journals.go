package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
	autocallredis "github.com/autocallvn/autocall-go/redis"
	autocallriver "github.com/autocallvn/autocall-go/river"
)

// A --journal names a file, or a journal shared by hosts: redis://… (the
// Redis module's journal) or postgres://… (the River module's, the same
// tables an order service's workers use), so that a cron CSV and a service
// share one truth.
const journalSpecHelp = "the journal: a FILE (default: the CSV's path + .journal), " +
	"redis://[user:password@]host:port[/db]?journal=NAME (shared by hosts; NAME defaults to \"autocall\"), " +
	"or postgres://… (the River module's journal, migrated by autocall-worker migrate)"

// journalKind is what a --journal names.
type journalKind int

const (
	fileJournal journalKind = iota
	redisJournal
	postgresJournal
)

func kindOf(spec string) journalKind {
	switch {
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		return redisJournal
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		return postgresJournal
	}
	return fileJournal
}

// shownJournal is how a journal is named in output: a URL without its
// password, which is a secret in its userinfo and, for PostgreSQL, in its
// query too (?password=…, ?sslpassword=…, as pgx and libpq take them).
func shownJournal(spec string) string {
	if kindOf(spec) == fileJournal {
		return spec
	}
	u, err := url.Parse(spec)
	if err != nil {
		return "(a journal URL that cannot be parsed)"
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		// A pair it cannot read may be a password: none is shown.
		u.RawQuery = "…"
		return u.Redacted()
	}
	hid := false
	for k := range q {
		if strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
			q[k], hid = []string{"xxxxx"}, true
		}
	}
	if hid {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Whether a command writes the shared journal it opens.
const (
	readOnly = false
	writing  = true
)

// openShared opens a redis:// or postgres:// journal. Its close releases
// what it opened (the Redis client, the connection pool). One that will
// write a Redis journal is checked (autocallredis.Journal.Check: settings
// that lose claims; it takes off an expiry an operator set); a read-only
// one (journal show, --dry-run) is only reached, so that it changes nothing.
func openShared(ctx context.Context, spec string, ret batch.Retention, write bool) (batch.Journal, error) {
	switch kindOf(spec) {
	case redisJournal:
		u, err := url.Parse(spec)
		if err != nil {
			return nil, usagef("--journal: not a redis:// URL: %v", redactURLError(err))
		}
		q := u.Query()
		name, err := journalName(q["journal"])
		if err != nil {
			return nil, usagef("--journal %s: %v", shownJournal(spec), err)
		}
		q.Del("journal")
		u.RawQuery = q.Encode()
		opt, err := goredis.ParseURL(u.String())
		if err != nil {
			return nil, usagef("--journal %s: %v", shownJournal(spec), redactURLError(err))
		}
		rdb := goredis.NewClient(opt)
		j := autocallredis.NewJournal(rdb, name, autocallredis.WithRetention(ret))
		check := j.Check
		if !write {
			check = func(ctx context.Context) error { return rdb.Ping(ctx).Err() }
		}
		if err := check(ctx); err != nil {
			_ = rdb.Close()
			return nil, fmt.Errorf("--journal %s: %w", shownJournal(spec), err)
		}
		return &closingJournal{Journal: j, close: rdb.Close}, nil
	case postgresJournal:
		if u, err := url.Parse(spec); err == nil && u.Query().Has("journal") {
			return nil, usagef("--journal %s: the PostgreSQL journal has no name (one per database): drop ?journal=", shownJournal(spec))
		}
		j, err := autocallriver.OpenJournal(ctx, spec, autocallriver.WithRetention(ret))
		if err != nil {
			return nil, fmt.Errorf("--journal %s: %w", shownJournal(spec), redactURLError(err))
		}
		return j, nil
	}
	return nil, errors.New("not a shared journal: " + spec)
}

// journalName is a Redis journal's name from its URL's ?journal= values:
// "autocall" when there is none; given, it is one name, not blank, with no
// space around it. A blank one (a cron line's unset variable) would share
// "autocall" or a journal of spaces with other batches, where rows of the
// same keys read as already placed, or are sent again.
func journalName(values []string) (string, error) {
	switch {
	case values == nil:
		return "autocall", nil
	case len(values) > 1:
		return "", errors.New("?journal= is given more than once")
	case strings.TrimSpace(values[0]) == "":
		return "", errors.New("?journal= is empty: name the journal, or leave ?journal= out for \"autocall\"")
	case strings.TrimSpace(values[0]) != values[0]:
		return "", fmt.Errorf("?journal=%q has spaces around it", values[0])
	}
	return values[0], nil
}

// closingJournal closes what the journal was opened on after the journal.
type closingJournal struct {
	batch.Journal
	close func() error
}

func (c *closingJournal) Close() error {
	return errors.Join(c.Journal.Close(), c.close())
}

// redactURLError drops a *url.Error's URL, which may hold a password.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// eventsSettler is a journal that settles from events by reading only the
// records they may concern (the PostgreSQL journal); any other is read
// whole by batch.SettleFromEvents.
type eventsSettler interface {
	SettleFromEvents(ctx context.Context, events []*autocall.CallEvent) ([]string, error)
}

// eventSettler is listen's: it settles the unknown job an event provably
// belongs to, in the shared journal spec names (none: it does nothing).
func (a *app) eventSettler(ctx context.Context, spec string) (func(context.Context, *autocall.CallEvent) error, func(), error) {
	if spec == "" {
		return func(context.Context, *autocall.CallEvent) error { return nil }, func() {}, nil
	}
	if kindOf(spec) == fileJournal {
		return nil, nil, usagef("listen --journal takes a shared journal (redis://… or postgres://…): a file journal is locked by the run that writes it")
	}
	j, err := openShared(ctx, spec, batch.Retention{}, writing)
	if err != nil {
		return nil, nil, err
	}
	settle := func(ctx context.Context, events []*autocall.CallEvent) ([]string, error) {
		return batch.SettleFromEvents(ctx, j, events)
	}
	if es, ok := j.(eventsSettler); ok {
		settle = es.SettleFromEvents
	}
	return func(ctx context.Context, ev *autocall.CallEvent) error {
		keys, err := settle(ctx, []*autocall.CallEvent{ev})
		if err != nil {
			fmt.Fprintf(a.stderr, "autocall: settling from an event: %v\n", err)
			return err
		}
		for _, k := range keys {
			fmt.Fprintf(a.stderr, "settled %s: placed (call %s)\n", k, ev.CallID)
		}
		return nil
	}, func() { _ = j.Close() }, nil
}
