package autocallriver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
)

// strictArgs decodes a job's args again, refusing a field the kind's
// schema does not have: a job inserted by hand or from another language
// with a misspelled field ("purpse": "advertising") would otherwise go
// out without it (a transactional call Decree 91 does not hold back, a
// call without its callback).
func strictArgs[T any](raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		return &autocall.ValidationError{Field: "args", Reason: strings.TrimPrefix(err.Error(), "json: ")}
	}
	return nil
}

// batchKinds are the journal's names of the job kinds.
var batchKinds = map[string]string{KindOTP: "otp", KindTTS: "tts", KindPhone: "phone", KindExtension: "extension"}

// refuseArgs ends a job whose args cannot be sent: cancelled in River and,
// when they name a key, recorded Refused with cause "invalid" in the
// journal (claimed first, as a batch's bad row is: a peer may hold the
// key), so that the order is listed with its reason rather than missing.
func (w *Worker) refuseArgs(ctx context.Context, job *rivertype.JobRow, c Common, why error) error {
	cancel := func(e error) error {
		return river.JobCancel(fmt.Errorf("autocallriver: job %d (%s): %w", job.ID, job.Kind, e))
	}
	if strings.TrimSpace(c.Key) == "" {
		return cancel(why)
	}
	now := w.now
	rec := batch.Record{Key: c.Key, Kind: batchKinds[job.Kind], Run: w.run, Time: now()}
	var retry batch.Resend
	if mayRetryRefused(job) {
		retry = batch.Resend{Refused: c.RetryRefused, Causes: c.RetryCauses}
	}
	start := time.Now()
	ok, cur, err := w.Journal.Claim(ctx, batch.ClaimRequest{Record: rec, Resend: retry})
	w.journalOp(ctx, "claim", start, err)
	switch {
	case err != nil:
		w.jobEnd(ctx, batch.JobEnd{State: batch.Unsent, JournalFailed: true})
		return err // nothing claimed, nothing sent: River tries again
	case !ok:
		// The key is held (placed, refused, in flight…): it stands.
		if cur.State != batch.Claimed { // in flight elsewhere: its worker tells
			w.jobEnd(ctx, batch.JobEnd{State: cur.State, Skipped: true})
		}
		return cancel(fmt.Errorf("%w (the journal holds %q %s)", why, c.Key, cur.State))
	}
	rec.State, rec.Cause, rec.Reason, rec.Time = batch.Refused, batch.CauseInvalid, why.Error(), now()
	start = time.Now()
	err = w.Journal.Settle(context.WithoutCancel(ctx), rec)
	w.journalOp(ctx, "settle", start, err)
	if err != nil {
		// The claim holds: the job reads Unknown, though nothing was sent.
		w.jobEnd(ctx, batch.JobEnd{State: batch.Unknown, JournalFailed: true})
		return river.JobCancel(&JobError{Key: c.Key, State: batch.Unknown, Reason: err.Error()})
	}
	w.jobEnd(ctx, batch.JobEnd{State: batch.Refused})
	return river.JobCancel(&JobError{Key: c.Key, State: batch.Refused, Cause: batch.CauseInvalid, Reason: why.Error()})
}
