package autocallriver

import (
	"context"
	"time"

	"github.com/autocallvn/autocall-go/batch"
)

// jobObserver is Worker.Observer as one job's Runner sees it: the
// journal's writes go straight through; the job's end is kept until the
// worker knows it, since an outcome the worker holds (the database was
// unreachable, see jobJournal) is told to River, and counted, as what it
// says rather than as the journal's failure.
type jobObserver struct {
	batch.Observer
	end *batch.JobEnd
}

func (o *jobObserver) Job(_ context.Context, j batch.JobEnd) { o.end = &j }

// report tells the worker's Observer of the job's end, if it had one.
func (o *jobObserver) report(ctx context.Context) {
	if o != nil && o.end != nil {
		o.Observer.Job(ctx, *o.end)
	}
}

// journalOp tells the Observer of a journal write the worker makes itself
// (refuseArgs), as the Runner's are.
func (w *Worker) journalOp(ctx context.Context, op string, start time.Time, err error) {
	if w.Observer != nil {
		w.Observer.JournalOp(ctx, op, time.Since(start), err)
	}
}

// jobEnd tells the Observer of a job the worker ended itself.
func (w *Worker) jobEnd(ctx context.Context, j batch.JobEnd) {
	if w.Observer != nil {
		w.Observer.Job(ctx, j)
	}
}
