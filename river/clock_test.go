package autocallriver

import (
	"testing"
	"time"

	"github.com/autocallvn/autocall-go/autocalltest"
	"github.com/autocallvn/autocall-go/batch"
)

// A replica whose own clock is hours off (a VM resumed, a container with
// no time sync) holds advertising jobs to Decree 91's hours by the
// database's clock, the one every replica shares (as leases and the
// account's pause are), not by its own: its clock is set on the other
// side of the 8:00–17:00 window from the database's, and the job follows
// the database's.
func TestDecreeHoursByTheDatabaseClock(t *testing.T) {
	vn := batch.Vietnam()
	now := time.Now().In(vn)
	minute := now.Hour()*60 + now.Minute()
	if near := func(m int) bool { return minute > m-3 && minute < m+3 }; near(8*60) || near(17*60) {
		t.Skip("too near the window's edge to set a clock on the other side of it")
	}
	open := minute >= 8*60 && minute < 17*60
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, vn)
	skew := day.Add(12 * time.Hour).Sub(now) // the host reads noon: inside
	if open {
		skew = day.Add(20 * time.Hour).Sub(now) // the host reads 20:00: outside
	}
	orig := hostNow
	t.Cleanup(func() { hostNow = orig })
	hostNow = func() time.Time { return time.Now().Add(skew) }

	srv := autocalltest.NewServer()
	defer srv.Close()
	pool, url := newPool(t)
	r := startReplica(t, url, srv, replicaOpts{})
	args := otpArgs(1)
	args.Purpose = "advertising"
	insertOrder(t, r.client, pool, args, true)
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec, ok, err := r.j.Get(ctx, "order-1")
		if err == nil && ok && rec.State != batch.Claimed {
			if open && (rec.State != batch.Placed || len(srv.Calls()) != 1) {
				t.Fatalf("the database reads %s (open), the host %s: %+v, %d calls", now.Format("15:04"), now.Add(skew).Format("15:04"), rec, len(srv.Calls()))
			}
			if !open && (rec.State != batch.Unsent || rec.Cause != batch.CauseHours || len(srv.Calls()) != 0) {
				t.Fatalf("the database reads %s (closed), the host %s: %+v, %d calls", now.Format("15:04"), now.Add(skew).Format("15:04"), rec, len(srv.Calls()))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no outcome: %+v %v %v", rec, ok, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
