package batch

import (
	"context"
	"strings"
	"time"

	autocall "github.com/autocallvn/autocall-go"
)

// SettleFromEvents settles unknown OTP and TTS jobs from the call events
// TEL4VN posted to their callback_url (see autocall.WebhookHandler). An
// event whose call id names the job's campaign and one of its callees, or
// whose campaign and phone match, means the job's request was carried out:
// the job becomes Placed, with the events' call ids. Jobs with no event are
// left unknown: an event can be late, so only you can decide, after a
// while, that none will come (Resolve to Unsent).
//
// It returns the keys it settled. OMICall jobs cannot be settled this way:
// OMICall has no call events of this kind and no report API.
func SettleFromEvents(ctx context.Context, j Journal, events []*autocall.CallEvent) ([]string, error) {
	recs, err := j.Records(ctx)
	if err != nil {
		return nil, err
	}
	type target struct{ campaign, phone string }
	ids := map[target][]string{}
	for _, ev := range events {
		if ev == nil {
			continue
		}
		phone, campaign := ev.Phone, ev.CampaignID
		if ev.CallID != "" {
			if phone == "" {
				phone = ev.CallID.Phone()
			}
			if campaign == "" {
				campaign = campaignOfCallID(string(ev.CallID))
			}
		}
		if n, err := autocall.NormalizePhone(phone); err == nil {
			phone = n
		}
		t := target{campaign, phone}
		if ev.CallID != "" {
			ids[t] = append(ids[t], string(ev.CallID))
		} else if _, ok := ids[t]; !ok {
			ids[t] = nil
		}
	}
	var settled []string
	for _, rec := range recs {
		if readState(rec.State) != Unknown || (rec.Kind != "otp" && rec.Kind != "tts") {
			continue
		}
		var found []string
		matched := false
		for _, p := range rec.Phones {
			if got, ok := ids[target{rec.Campaign, p}]; ok {
				matched = true
				found = append(found, got...)
			}
		}
		if !matched {
			continue
		}
		rec.State, rec.CallIDs, rec.Time = Placed, dedupe(found), time.Now()
		rec.Reason = "settled from the provider's call events"
		if err := j.Settle(ctx, rec); err != nil {
			return settled, err
		}
		settled = append(settled, rec.Key)
	}
	return settled, nil
}

// campaignOfCallID reads the campaign from a TEL4VN call id,
// "1_1_<campaign>_<seq>_<uuid>_<phone>"; "" if it is not of that shape.
func campaignOfCallID(id string) string {
	parts := strings.Split(id, "_")
	if len(parts) < 6 {
		return ""
	}
	return parts[2]
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
