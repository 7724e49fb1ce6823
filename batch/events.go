package batch

import (
	"context"
	"strings"
	"time"

	autocall "github.com/autocallvn/autocall-go"
)

// SettleFromEvents settles unknown OTP and TTS jobs from the call events
// TEL4VN posted to their callback_url (see autocall.WebhookHandler). An
// event that is provably the job's means its request was carried out: the
// job becomes Placed, with the events' call ids. An event is the job's
//
//   - when its call id is one the job's record holds, or else
//   - when its campaign and phone are the job's, it happened (StartedAt,
//     else EndedAt) after the job was claimed, no job's record holds its
//     call id, and no other job that has that campaign and phone could
//     have made the call: none other unknown, none claimed before the
//     event that holds no call id (one Placed by hand, say).
//
// So an event of another key's call to the same phone, or yesterday's event
// for today's job, or one without a time, settles nothing. Jobs with no
// event are left unknown: an event can be late, so only you can decide,
// after a while, that none will come (Resolve to Unsent).
//
// Each job is written with Journal.SettleIf, only while its record is
// still the unknown one read: on a journal shared with running peers, a
// job claimed again meanwhile (Resolved to unsent, then sent) keeps its
// fresh claim. A claim in flight at a live run (Claimed) is not unknown,
// and is left to its run.
//
// It returns the keys it settled. OMICall jobs cannot be settled this way:
// OMICall has no call events of this kind and no report API.
func SettleFromEvents(ctx context.Context, j Journal, events []*autocall.CallEvent) ([]string, error) {
	recs, err := j.Records(ctx)
	if err != nil {
		return nil, err
	}
	type target struct{ campaign, phone string }
	holder := map[string]int{}     // call id → the record holding it
	byTarget := map[target][]int{} // campaign and phone → OTP and TTS jobs, in any state
	for i, rec := range recs {
		for _, id := range rec.CallIDs {
			holder[id] = i
		}
		if rec.Kind != "otp" && rec.Kind != "tts" {
			continue
		}
		for _, p := range rec.Phones {
			t := target{rec.Campaign, p}
			byTarget[t] = append(byTarget[t], i)
		}
	}
	found := map[int][]string{} // unknown job → the call ids of its events
	for _, ev := range events {
		if ev == nil {
			continue
		}
		id := string(ev.CallID)
		if i, ok := holder[id]; ok && id != "" {
			found[i] = append(found[i], id) // settles it only if it is unknown
			continue
		}
		phone, campaign := ev.Phone, ev.CampaignID
		if id != "" {
			if phone == "" {
				phone = ev.CallID.Phone()
			}
			if campaign == "" {
				campaign = campaignOfCallID(id)
			}
		}
		if n, err := autocall.NormalizePhone(phone); err == nil {
			phone = n
		}
		at := eventTime(ev)
		if at.IsZero() {
			continue // when is unknown: maybe an older call
		}
		if i, ok := onlyOwner(recs, byTarget[target{campaign, phone}], at); ok {
			found[i] = append(found[i], id)
		}
	}
	var settled []string
	for i, rec := range recs {
		ids, ok := found[i]
		if !ok || rec.State != Unknown || (rec.Kind != "otp" && rec.Kind != "tts") {
			continue
		}
		prev := rec
		rec.State, rec.CallIDs, rec.Time = Placed, dedupe(append(rec.CallIDs, ids...)), time.Now()
		rec.Reason, rec.Cause = "settled from the provider's call events", ""
		ok, err := j.SettleIf(ctx, rec, prev)
		if err != nil {
			return settled, err
		}
		if ok {
			settled = append(settled, rec.Key)
		}
	}
	return settled, nil
}

// onlyOwner is the one unknown job of jobs (one campaign and phone) that
// an event at time at can be the call of: claimed before it, and no other
// job could have made that call. Another job could if it was claimed
// before the event (or when is not known) and holds no call id, whatever
// its state: one Placed by hand, say, whose call this may be.
func onlyOwner(recs []Record, jobs []int, at time.Time) (int, bool) {
	owner := -1
	for _, i := range jobs {
		rec := recs[i]
		if rec.State == Unknown && !at.Before(toSecond(claimTime(rec))) {
			if owner >= 0 {
				return 0, false // two keys for one phone: whose call is it?
			}
			owner = i
			continue
		}
		if len(rec.CallIDs) == 0 && (rec.ClaimedAt.IsZero() || !toSecond(rec.ClaimedAt).After(at)) {
			return 0, false
		}
	}
	return owner, owner >= 0
}

// eventTime is when the event's call happened; zero when it does not say.
func eventTime(ev *autocall.CallEvent) time.Time {
	if !ev.StartedAt.IsZero() {
		return ev.StartedAt
	}
	return ev.EndedAt
}

// toSecond is a claim's time as an event can tell it: the providers write
// a call's time to the second, so a call made in its claim's own second
// reads as earlier than the claim.
func toSecond(t time.Time) time.Time { return t.Truncate(time.Second) }

// claimTime is when rec's job was last claimed: Claimed, or for a record
// written before it was kept, its time (later than the claim: safe).
func claimTime(rec Record) time.Time {
	if !rec.ClaimedAt.IsZero() {
		return rec.ClaimedAt
	}
	return rec.Time
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
