package autocallriver

import (
	"context"
	"fmt"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/batch"
)

// SettleFromEvents settles unknown OTP and TTS jobs from the provider's
// call events, by batch.SettleFromEvents's rules, reading only the records
// the events may concern (those holding one of their phones or call ids:
// every job that could have made one of the calls) rather than the whole
// journal. Call it from the webhook (autocall.WebhookHandler) of the
// service, or with the events `autocall listen` received.
func (j *Journal) SettleFromEvents(ctx context.Context, events []*autocall.CallEvent) ([]string, error) {
	var phones, ids []string
	for _, ev := range events {
		if ev == nil {
			continue
		}
		for _, p := range []string{ev.Phone, ev.CallID.Phone()} {
			if n, err := autocall.NormalizePhone(p); err == nil {
				phones = append(phones, n)
			}
		}
		if ev.CallID != "" {
			ids = append(ids, string(ev.CallID))
		}
	}
	if len(phones) == 0 && len(ids) == 0 {
		return nil, nil
	}
	recs, err := j.records(ctx, `WHERE j.phones && $1::text[] OR j.call_ids && $2::text[]`, phones, ids)
	if err != nil {
		return nil, err
	}
	settled, err := batch.SettleFromEvents(ctx, &eventView{Journal: j, recs: recs}, events)
	if err != nil {
		return settled, fmt.Errorf("autocallriver: settling from call events: %w", err)
	}
	return settled, nil
}

// eventView is the journal with Records narrowed to what the events may
// concern; writes go to the journal (Settle under the key's lock).
type eventView struct {
	*Journal
	recs []batch.Record
}

func (v *eventView) Records(context.Context) ([]batch.Record, error) { return v.recs, nil }
