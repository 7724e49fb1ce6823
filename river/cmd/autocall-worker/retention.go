package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autocallvn/autocall-go/batch"
	autocallriver "github.com/autocallvn/autocall-go/river"
)

// keepFlags are how long the journal remembers (batch.Retention, the
// flags of the autocall command) and how often the worker compacts it.
type keepFlags struct {
	records, keys string
	every         time.Duration
}

func (k *keepFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&k.records, "retention", "30d", "the journal keeps a settled job's record this long (e.g. 30d, 720h; -1: for ever);\n"+
		"unknown, refused and in-flight jobs are kept until resolved")
	f.StringVar(&k.keys, "key-retention", "365d", "a job whose record was dropped keeps its key this long: a job of that key is refused as forgotten")
	f.DurationVar(&k.every, "compact-every", time.Hour, "compact the journal at start and this often (0: never; several replicas may)")
}

// options are the journal's options from the flags.
func (k *keepFlags) options() ([]autocallriver.JournalOption, error) {
	r, err := parseDays("--retention", k.records)
	if err != nil {
		return nil, err
	}
	keys, err := parseDays("--key-retention", k.keys)
	if err != nil {
		return nil, err
	}
	if r > 0 && keys > 0 && keys < r {
		return nil, fmt.Errorf("--key-retention (%s) is shorter than --retention (%s): a key must be remembered at least as long as its record", k.keys, k.records)
	}
	return []autocallriver.JournalOption{autocallriver.WithRetention(batch.Retention{Records: r, Keys: keys})}, nil
}

// parseDays reads a duration that may be given in days ("30d"); -1 is for
// ever.
func parseDays(flag, v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "-1" {
		return -1, nil
	}
	if d, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%s %q: want a duration such as 30d or 720h, or -1 (for ever)", flag, v)
}

// compact compacts j every --compact-every until the returned stop is
// called (before j and its pool close).
func (a *app) compact(ctx context.Context, j *autocallriver.Journal) (stop func()) {
	if a.keep.every <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.CompactEvery(ctx, a.keep.every, func(c batch.Compaction, err error) {
			if err != nil {
				a.log.Warn("compacting the journal (tried again in --compact-every)", "err", err)
				return
			}
			a.log.Info("compacted the journal", "kept", c.Kept, "forgotten", c.Forgotten, "dropped", c.Dropped,
				"tombstones", c.Tombstones, "expired", c.Expired)
		})
	}()
	return func() { cancel(); <-done }
}
