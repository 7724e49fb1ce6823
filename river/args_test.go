package autocallriver

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// rawArgs is a job as another language's River client inserts it: a kind
// and the JSON it wrote, as is.
type rawArgs struct {
	kind string
	json string
}

func (a rawArgs) Kind() string                 { return a.kind }
func (a rawArgs) MarshalJSON() ([]byte, error) { return []byte(a.json), nil }
func (a rawArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }
func (a rawArgs) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, new(map[string]any)) }

// A job whose args the worker cannot take (a field the schema does not
// have, a purpose it does not know) is refused in the journal with cause
// "invalid" and the reason, as a bad row of a batch is, besides being
// cancelled in River: the order is listed, not missing. A misspelled
// "purpose" is not read as a transactional call, which Decree 91 would
// not hold back.
func TestArgsTheSchemaLacksAreRefusedInTheJournal(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	r := startReplica(t, url, srv, replicaOpts{})
	cases := map[string]struct{ json, reason string }{
		"order-1": {`{"key": "order-1", "purpse": "advertising", "campaign_id": "1", "caller": "02873001234",
			"callees": ["0912000013"], "template_name": "otp", "code": "1234"}`, `"purpse"`},
		"order-2": {`{"key": "order-2", "purpose": "advertisement", "campaign_id": "1", "caller": "02873001234",
			"callees": ["0912000023"], "template_name": "otp", "code": "1234"}`, "advertisement"},
	}
	ids := map[string]int64{}
	for key, c := range cases {
		res := insertOrder(t, r.client, pool, rawArgs{kind: KindOTP, json: c.json}, true)
		ids[key] = res.Job.ID
	}
	waitSettled(t, pool, len(cases), 20*time.Second)
	for key, c := range cases {
		rec, ok, err := r.j.Get(ctx, key)
		if err != nil || !ok || rec.State != batch.Refused || rec.Cause != batch.CauseInvalid || !strings.Contains(rec.Reason, c.reason) {
			t.Errorf("%s: journal %+v (%v, %v)", key, rec, ok, err)
		}
		job, _ := r.client.JobGet(ctx, ids[key])
		if job.State != rivertype.JobStateCancelled {
			t.Errorf("%s: River job %s", key, job.State)
		}
	}
	if n := len(srv.Calls()); n != 0 {
		t.Fatalf("%d calls", n)
	}
}
