package autocallriver

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// jobCode is the "code" River's row of job id holds (had: the field is
// there).
func jobCode(t *testing.T, pool *pgxpool.Pool, id int64) (code string, had bool) {
	t.Helper()
	var c *string
	if err := pool.QueryRow(ctx, `SELECT args->>'code' FROM river_job WHERE id = $1`, id).Scan(&c); err != nil {
		t.Fatal(err)
	}
	if c == nil {
		return "", false
	}
	return *c, true
}

// otpCodes are the codes of the OTP creates the sandbox received.
func otpCodes(srv *autocalltest.Server) []string {
	var codes []string
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/otp") {
			var body struct {
				Params struct {
					Code string `json:"code_otp"`
				} `json:"params"`
			}
			_ = json.Unmarshal(r.Body, &body)
			codes = append(codes, body.Params.Code)
		}
	}
	return codes
}

// A placed OTP job's code leaves River's row in the transaction that
// completes it: no completed job ever holds one, even for a moment; the
// call went with it. A TTS job's args (template values, no secret) stay.
func TestPlacedOTPJobLosesItsCode(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	r := startReplica(t, url, srv, replicaOpts{})
	const n = 30
	stop := make(chan struct{})
	seen := make(chan int, 1)
	go func() {
		// Watched while the jobs complete: a code blanked after the
		// completion's commit would show here.
		most := 0
		for {
			var c int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job
				WHERE state = 'completed' AND kind = $1 AND args->>'code' <> ''`, KindOTP).Scan(&c); err == nil {
				most = max(most, c)
			}
			select {
			case <-stop:
				seen <- most
				return
			default:
			}
		}
	}()
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = insertOrder(t, r.client, pool, otpArgs(i+1), true).Job.ID
	}
	tts := insertOrder(t, r.client, pool, TTSArgs{Common: Common{Key: "order-tts"}, CampaignID: "1", Caller: "02873001234",
		Callees: []string{phone(99)}, TemplateName: "t", Params: map[string]string{"customer_name": "Nguyễn Văn A"}}, true)
	waitSettled(t, pool, n+1, 30*time.Second)
	close(stop)
	if most := <-seen; most != 0 {
		t.Errorf("%d completed OTP jobs held their code at once", most)
	}
	for i, id := range ids {
		job, err := r.client.JobGet(ctx, id)
		if err != nil || job.State != rivertype.JobStateCompleted {
			t.Fatalf("order %d: River job %v (%v)", i+1, job, err)
		}
		if code, had := jobCode(t, pool, id); code != "" || !had {
			t.Errorf("order %d: the completed job's args hold code %q (field there: %v)", i+1, code, had)
		}
	}
	if got := otpCodes(srv); len(got) != n {
		t.Fatalf("%d OTP creates, want %d", len(got), n)
	}
	var params string
	if err := pool.QueryRow(ctx, `SELECT args->'params'->>'customer_name' FROM river_job WHERE id = $1`, tts.Job.ID).Scan(&params); err != nil || params != "Nguyễn Văn A" {
		t.Errorf("the TTS job's params: %q (%v)", params, err)
	}
}

// An OTP job that ends cancelled, never retried, loses its code once its
// outcome is written: refused (a bad number), unknown (the answer lost),
// refused for args the schema lacks, and a second job of a key already
// placed, which sends nothing.
func TestEndedOTPJobsLoseTheirCode(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	r := startReplica(t, url, srv, replicaOpts{})
	placed := insertOrder(t, r.client, pool, otpArgs(4), true)
	waitSettled(t, pool, 1, 20*time.Second)

	bad := otpArgs(1)
	bad.Callees = []string{"12345"} // not a phone: refused before sending
	srv.FailNext("/api/v2/campaigns/1/otp", 1, autocalltest.Fault{Process: true, Reset: true})
	cases := []struct {
		name  string
		id    int64
		state rivertype.JobState
		rec   batch.State
		key   string
	}{
		{"refused", insertOrder(t, r.client, pool, bad, true).Job.ID, rivertype.JobStateCancelled, batch.Refused, "order-1"},
		{"unknown", insertOrder(t, r.client, pool, otpArgs(2), true).Job.ID, rivertype.JobStateCancelled, batch.Unknown, "order-2"},
		{"bad args", insertOrder(t, r.client, pool, rawArgs{kind: KindOTP, json: `{"key": "order-3", "purpse": "advertising",
			"campaign_id": "1", "caller": "02873001234", "callees": ["` + phone(3) + `"], "template_name": "otp", "code": "3333"}`}, true).Job.ID,
			rivertype.JobStateCancelled, batch.Refused, "order-3"},
		// Inserted as another language's client may, without the key's
		// uniqueness: the journal holds order-4 placed.
		{"key placed", insertOrder(t, r.client, pool, rawArgs{kind: KindOTP, json: `{"key": "order-4",
			"campaign_id": "1", "caller": "02873001234", "callees": ["` + phone(4) + `"], "template_name": "otp", "code": "4444"}`}, true).Job.ID,
			rivertype.JobStateCompleted, batch.Placed, "order-4"},
	}
	waitSettled(t, pool, 4, 20*time.Second)
	for _, c := range cases {
		job, err := r.client.JobGet(ctx, c.id)
		if err != nil || job.State != c.state {
			t.Fatalf("%s: River job %v (%v)", c.name, job, err)
		}
		rec, _, _ := r.j.Get(ctx, c.key)
		if rec.State != c.rec {
			t.Fatalf("%s: journal %+v", c.name, rec)
		}
		if code, _ := jobCode(t, pool, c.id); code != "" {
			t.Errorf("%s: the ended job's args hold code %q", c.name, code)
		}
	}
	if code, _ := jobCode(t, pool, placed.Job.ID); code != "" {
		t.Errorf("placed: code %q", code)
	}
	if got := otpCodes(srv); len(got) != 2 || got[0] != "0004" || got[1] != "0002" {
		t.Fatalf("OTP creates' codes: %q, want order-4's and order-2's", got)
	}
}

// An OTP job left unsent (no token could be had: nothing reached the
// provider) keeps its code for River's next attempt, which places the
// call with it; then the code goes.
func TestUnsentOTPJobKeepsItsCodeForTheRetry(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	r := startReplica(t, url, srv, replicaOpts{})
	srv.FailNext("/api/v1/users/generate_access_token", 3, autocalltest.Fault{Reset: true})
	args := otpArgs(7)
	args.Code = "7315"
	res := insertOrder(t, r.client, pool, args, true)
	job := waitJobErrors(t, r, res.Job.ID, 1)
	rec, _, _ := r.j.Get(ctx, args.Key)
	if rec.State != batch.Unsent || rec.Cause != batch.CauseToken || len(srv.Calls()) != 0 {
		t.Fatalf("after the first attempt: journal %+v, %d calls", rec, len(srv.Calls()))
	}
	// Read with the state: a job River has not finalized holds its code.
	var state, code string
	if err := pool.QueryRow(ctx, `SELECT state, args->>'code' FROM river_job WHERE id = $1`, res.Job.ID).Scan(&state, &code); err != nil {
		t.Fatal(err)
	}
	if state != string(rivertype.JobStateCompleted) && code != args.Code {
		t.Fatalf("the unsent job (%s, %d errors) holds code %q, want %q", state, len(job.Errors), code, args.Code)
	}
	waitSettled(t, pool, 1, 30*time.Second)
	job, _ = r.client.JobGet(ctx, res.Job.ID)
	if job.State != rivertype.JobStateCompleted || job.Attempt != 2 {
		t.Fatalf("River job %s after %d attempts", job.State, job.Attempt)
	}
	if got := otpCodes(srv); len(got) != 1 || got[0] != args.Code {
		t.Fatalf("OTP creates' codes: %q, want [%q]", got, args.Code)
	}
	if code, _ := jobCode(t, pool, res.Job.ID); code != "" {
		t.Errorf("placed at the retry: code %q", code)
	}
}

// A job whose code was blanked, worked again (an operator's JobRetry),
// sends nothing and leaves its key's record as it was: the empty code is
// refused before a send, and that refusal's claim finds the key settled
// (a refused one's retry_refused no longer applies: not its first
// attempt).
func TestScrubbedJobWorkedAgainSendsNothing(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	r := startReplica(t, url, srv, replicaOpts{})
	placed := insertOrder(t, r.client, pool, otpArgs(1), true)
	bad := otpArgs(2)
	bad.Callees, bad.RetryRefused = []string{"12345"}, true
	refused := insertOrder(t, r.client, pool, bad, true)
	waitSettled(t, pool, 2, 20*time.Second)
	before := map[string]batch.Record{}
	for _, key := range []string{"order-1", "order-2"} {
		before[key], _, _ = r.j.Get(ctx, key)
	}
	for _, id := range []int64{placed.Job.ID, refused.Job.ID} {
		if code, _ := jobCode(t, pool, id); code != "" {
			t.Fatalf("job %d holds code %q", id, code)
		}
		if _, err := r.client.JobRetry(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []int64{placed.Job.ID, refused.Job.ID} {
		deadline := time.Now().Add(20 * time.Second)
		for {
			job, err := r.client.JobGet(ctx, id)
			if err == nil && job.Attempt == 2 && job.FinalizedAt != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %d not worked again: %v (%v)", id, job, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for key, was := range before {
		rec, _, _ := r.j.Get(ctx, key)
		if !batch.SameRecord(rec, was) || rec.Cause != was.Cause || rec.Reason != was.Reason {
			t.Errorf("%s: %+v, was %+v", key, rec, was)
		}
	}
	if n := len(srv.Calls()); n != 1 {
		t.Fatalf("%d calls, want order-1's", n)
	}
	job, _ := r.client.JobGet(ctx, refused.Job.ID)
	if job.State != rivertype.JobStateCancelled {
		t.Errorf("the refused job worked again: %s", job.State)
	}
}
