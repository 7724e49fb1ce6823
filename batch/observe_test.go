package batch_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type batchRecorder struct {
	mu   sync.Mutex
	jobs map[string]int // state, with "already " when skipped
	ops  map[string]int
}

func (r *batchRecorder) Job(_ context.Context, j batch.JobEnd) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := string(j.State)
	if j.Skipped {
		k = "already " + k
	}
	r.jobs[k]++
}

func (r *batchRecorder) JournalOp(_ context.Context, op string, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d > 0 && err == nil {
		r.ops[op]++
	}
}

// The Runner's observer hears each job's end as the Report counts it, and
// times each claim and settle of its journal.
func TestRunnerObserverCountsJobsAndJournalWrites(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	c, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey))
	require.NoError(t, err)
	var jobs []batch.Job
	for i, phone := range []string{"0987654321", "0912345678", "12345"} {
		jobs = append(jobs, batch.Job{Key: fmt.Sprintf("k%d", i), Op: batch.OTP("1", &autocall.OTPRequest{
			Caller: "02873001234", Callees: []string{phone}, TemplateName: "t", Code: "M43TUI"})})
	}
	rec := &batchRecorder{jobs: map[string]int{}, ops: map[string]int{}}
	r := &batch.Runner{TEL4VN: c, Journal: batch.NewMemJournal(), Observer: rec}
	rep, err := r.Run(context.Background(), jobs)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Placed)
	assert.Equal(t, map[string]int{"placed": 2, "refused": 1}, rec.jobs)
	assert.Equal(t, map[string]int{"claim": 3, "settle": 3}, rec.ops)

	_, err = r.Run(context.Background(), jobs)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"placed": 2, "refused": 1, "already placed": 2, "already refused": 1}, rec.jobs)
	_, isMem := r.Journal.(*batch.MemJournal)
	assert.True(t, isMem, "the Runner's own Journal field is left as it was")
}

// RunOne (a job engine's worker) reports to the Runner's observer too.
func TestRunOneReportsToTheObserver(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	c, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey))
	require.NoError(t, err)
	rec := &batchRecorder{jobs: map[string]int{}, ops: map[string]int{}}
	r := &batch.Runner{TEL4VN: c, Journal: batch.NewMemJournal(), Observer: rec, RunID: "worker-1"}
	out, err := r.RunOne(context.Background(), batch.Job{Key: "k", Op: batch.OTP("1", &autocall.OTPRequest{
		Caller: "02873001234", Callees: []string{"0987654321"}, TemplateName: "t", Code: "M43TUI"})})
	require.NoError(t, err)
	require.Equal(t, batch.Placed, out.State)
	assert.Equal(t, map[string]int{"placed": 1}, rec.jobs)
	assert.Equal(t, map[string]int{"claim": 1, "settle": 1}, rec.ops)
	assert.Equal(t, "k", out.Record.Key, "RunOne still reads its own journal's last record")
}
