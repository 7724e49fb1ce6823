package autocallriver

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// jobCounter is a batch.Observer that keeps what it is told.
type jobCounter struct {
	mu   sync.Mutex
	jobs []batch.JobEnd
	ops  map[string]int
}

func (c *jobCounter) Job(_ context.Context, j batch.JobEnd) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jobs = append(c.jobs, j)
}

func (c *jobCounter) JournalOp(_ context.Context, op string, _ time.Duration, _ error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ops == nil {
		c.ops = map[string]int{}
	}
	c.ops[op]++
}

func (c *jobCounter) ends() []batch.JobEnd {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]batch.JobEnd(nil), c.jobs...)
}

func (c *jobCounter) opCount(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ops[op]
}

// Worker.Observer is told of each job's end once, in the state the
// journal holds, and of its claims and settles: a placed job, one refused
// by the provider, and one whose args the worker refuses itself.
func TestObserverCountsEachJobByItsState(t *testing.T) {
	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	obs := &jobCounter{}
	r := startReplica(t, url, srv, replicaOpts{observer: obs})
	insertOrder(t, r.client, pool, otpArgs(1), true)
	refused := otpArgs(2)
	refused.Callees = []string{"12345"}
	insertOrder(t, r.client, pool, refused, true)
	badArgs := otpArgs(3)
	badArgs.Purpose = "promotion" // no such purpose
	insertOrder(t, r.client, pool, badArgs, true)
	waitSettled(t, pool, 3, 30*time.Second)

	got := map[batch.JobEnd]int{}
	for _, j := range obs.ends() {
		got[j]++
	}
	want := map[batch.JobEnd]int{{State: batch.Placed}: 1, {State: batch.Refused}: 2}
	if len(got) != len(want) || got[batch.JobEnd{State: batch.Placed}] != 1 || got[batch.JobEnd{State: batch.Refused}] != 2 {
		t.Fatalf("the Observer was told %v, want %v", got, want)
	}
	if obs.opCount("claim") != 3 || obs.opCount("settle") != 3 {
		t.Fatalf("journal writes told: %v", obs.ops)
	}
}
