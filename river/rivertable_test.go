package autocallriver

import (
	"context"
	"errors"
	"testing"

	"github.com/riverqueue/river/rivertype"

	"github.com/autocallvn/autocall-go/batch"
)

// The table's rows by a written rule: nothing recorded is retried; a state
// it does not know is cancelled as unknown, never retried, since it may
// have called.
func TestRiverTableHasNoFallThrough(t *testing.T) {
	w := &Worker{}
	err := w.river(context.Background(), "k", batch.Outcome{}, nil)
	if err == nil || errors.As(err, new(*rivertype.JobCancelError)) {
		t.Errorf("nothing recorded: %v, want an error River retries", err)
	}
	err = w.river(context.Background(), "k", batch.Outcome{State: "half-written"}, nil)
	if !errors.As(err, new(*rivertype.JobCancelError)) || !errors.Is(err, ErrUnknown) {
		t.Errorf("an unknown state: %v, want cancelled as ErrUnknown", err)
	}
}
