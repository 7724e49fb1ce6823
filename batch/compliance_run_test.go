package batch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	autocall "github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/autocalltest"
)

// clockSandbox is a sandbox whose clock starts at start and moves only
// when the test moves it; the Runner reads the same clock.
func clockSandbox(t *testing.T, start time.Time) (*autocalltest.Server, *autocall.Client) {
	t.Helper()
	srv := autocalltest.NewServer(autocalltest.WithStartTime(start))
	t.Cleanup(srv.Close)
	tel, err := autocall.NewClient(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey),
		autocall.WithRetryPolicy(autocall.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	t.Cleanup(tel.CloseIdleConnections)
	return srv, tel
}

func adJob(key, phone string) Job {
	return Job{Key: key, Purpose: Advertising, Op: OTP("1", &autocall.OTPRequest{
		Caller: "02873001234", Callees: []string{phone}, TemplateName: "khuyen_mai", Code: "KM50"})}
}

const otpPath = "/api/v2/campaigns/1/otp"

func recordOf(t *testing.T, j Journal, key string) Record {
	t.Helper()
	rec, ok, err := j.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, ok, key)
	return rec
}

func TestAdvertisingOutsideHoursIsDeferredUntilTheWindowOpens(t *testing.T) {
	srv, tel := clockSandbox(t, hcm(1, 17, 30, 0))
	j, _ := openTemp(t)
	r := &Runner{TEL4VN: tel, Journal: j, Now: srv.Now}
	jobs := []Job{adJob("km-1", "0912000013"), adJob("km-2", "+84 91 200 0023"), otpJobs(1)[0]}
	rep, err := r.Run(ctx, jobs)
	require.NoError(t, err)
	assertAddsUp(t, rep)
	assert.Equal(t, 1, rep.Placed, "the transactional job goes at any hour")
	assert.Equal(t, 2, rep.Unsent)
	require.Len(t, rep.Deferred, 2)
	for i, d := range rep.Deferred {
		assert.Equal(t, fmt.Sprintf("km-%d", i+1), d.Key)
		assert.Equal(t, CauseHours, d.Cause)
		assert.True(t, hcm(2, 8, 0, 0).Equal(d.NotBefore), "the report says when the window opens: %v", d.NotBefore)
	}
	assert.Equal(t, 1, srv.Count(otpPath), "nothing was sent for the advertising jobs")
	rec := recordOf(t, j, "km-1")
	assert.Equal(t, Unsent, rec.State)
	assert.Equal(t, CauseHours, rec.Cause)
	assert.Equal(t, Advertising, rec.Purpose)
	assert.True(t, hcm(2, 8, 0, 0).Equal(rec.NotBefore))

	// At 8:00 the next morning the same run sends them.
	srv.Advance(hcm(2, 8, 0, 0).Sub(srv.Now()))
	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Placed)
	assert.Equal(t, 1, rep.AlreadyPlaced)
	assert.Empty(t, rep.Deferred)
	rec = recordOf(t, j, "km-1")
	assert.Equal(t, Placed, rec.State)
	assert.True(t, rec.NotBefore.IsZero(), "a placed job is not deferred")

	// The subscriber who agreed to calls in the evening is called then.
	srv.Advance(hcm(2, 20, 0, 0).Sub(srv.Now()))
	agreed := adJob("km-3", "0912000033")
	agreed.Agreed = AgreedHours
	rep, err = r.Run(ctx, []Job{agreed})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed)
}

// A run that reaches 17:00 takes no more advertising jobs: each job moves
// the sandbox clock on a second.
func TestAdvertisingRunCrossing1700Stops(t *testing.T) {
	srv, tel := clockSandbox(t, hcm(1, 16, 59, 50))
	j, _ := openTemp(t)
	r := &Runner{TEL4VN: tel, Journal: j, Workers: 1, Now: srv.Now,
		Progress: func(Progress) { srv.Advance(time.Second) }}
	var jobs []Job
	for i := 0; i < 20; i++ {
		jobs = append(jobs, adJob(fmt.Sprintf("km-%02d", i), phone(i)))
	}
	rep, err := r.Run(ctx, jobs)
	require.NoError(t, err)
	assertAddsUp(t, rep)
	assert.Positive(t, rep.Placed)
	assert.Positive(t, len(rep.Deferred))
	assert.Equal(t, 20, rep.Placed+len(rep.Deferred))
	assert.Equal(t, rep.Placed, srv.Count(otpPath), "a deferred job sent nothing")
	recs, err := j.Records(ctx)
	require.NoError(t, err)
	for _, rec := range recs {
		switch rec.State {
		case Placed:
			assert.True(t, rec.ClaimedAt.Before(hcm(1, 17, 0, 0)), "%s claimed at %v", rec.Key, rec.ClaimedAt)
		case Unsent:
			assert.Equal(t, CauseHours, rec.Cause, rec.Key)
			assert.True(t, hcm(2, 8, 0, 0).Equal(rec.NotBefore), rec.Key)
		default:
			t.Errorf("%s is %s", rec.Key, rec.State)
		}
	}
	// Once 17:00 has passed no later job was placed: the placed ones are a prefix.
	for i, rec := range recs {
		if rec.State == Unsent {
			for _, later := range recs[i:] {
				assert.Equal(t, Unsent, later.State, later.Key)
			}
			break
		}
	}
}

func TestOneAdvertisingCallPerNumberIn24Hours(t *testing.T) {
	srv, tel := clockSandbox(t, hcm(1, 9, 0, 0))
	j, path := openTemp(t)
	r := &Runner{TEL4VN: tel, Journal: j, Now: srv.Now, Workers: 1} // in order: b before g
	const x, y = "0912000013", "0912000023"
	rep, err := r.Run(ctx, []Job{adJob("a", x)})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Placed)
	called := srv.Now()

	// An hour later, in another run of another process: the journal is
	// opened again, and its index rebuilt from the file.
	srv.Advance(time.Hour)
	require.NoError(t, j.Close())
	j, err = OpenFile(path)
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	r.Journal = j
	receipt := otpJobs(1)[0]
	receipt.Op = OTP("1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"+84 912 000 013"}, TemplateName: "otp", Code: "1"})
	agreed := adJob("g", x)
	agreed.Agreed = AgreedFrequency
	jobs := []Job{adJob("b", "+84 91 200 0013"), receipt, adJob("d", y), agreed}
	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	assertAddsUp(t, rep)
	assert.Equal(t, 3, rep.Placed, "a transactional call, another number, an agreed subscriber")
	require.Len(t, rep.Deferred, 1)
	d := rep.Deferred[0]
	assert.True(t, strings.HasSuffix(d.Phone, "912000013"), "the number called too recently, in one of its forms: %q", d.Phone)
	d.Phone = ""
	assert.Equal(t, Deferral{Key: "b", Cause: CauseFrequency, NotBefore: called.Add(24 * time.Hour)}, d)
	rec := recordOf(t, j, "b")
	assert.Equal(t, Unsent, rec.State)
	assert.Equal(t, CauseFrequency, rec.Cause)
	assert.True(t, called.Add(24*time.Hour).Equal(rec.NotBefore))
	assert.Contains(t, rec.Reason, x)

	// A second short of 24 hours after the agreed call: still deferred.
	srv.Advance(called.Add(24 * time.Hour).Sub(srv.Now()))
	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	require.Len(t, rep.Deferred, 1, "the agreed job called x an hour after a, and counts as a call")
	assert.True(t, called.Add(25*time.Hour).Equal(rep.Deferred[0].NotBefore))

	srv.Advance(time.Hour)
	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed)
	assert.Empty(t, rep.Deferred)
	assert.Equal(t, 4, callsPerPhone(srv)[x], "a, the receipt, the agreed call, and b a day later")
}

// The index is checked atomically with the claim: many jobs racing for
// one number place one call.
func TestAdvertisingRaceForOneNumber(t *testing.T) {
	srv, tel := clockSandbox(t, hcm(1, 10, 0, 0))
	j, _ := openTemp(t)
	var jobs []Job
	for i := 0; i < 40; i++ {
		jobs = append(jobs, adJob(fmt.Sprintf("km-%02d", i), "0912000013"))
	}
	r := &Runner{TEL4VN: tel, Journal: j, Workers: 16, Now: srv.Now}
	rep, err := r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed)
	assert.Len(t, rep.Deferred, 39)
	assert.Equal(t, 1, srv.Count(otpPath))
}

// A number called by a job that was then refused or left unsent was not
// called: it does not hold the next job back.
func TestAdvertisingRefusedCallDoesNotCount(t *testing.T) {
	srv, tel := clockSandbox(t, hcm(1, 10, 0, 0))
	j, _ := openTemp(t)
	srv.FailNext(otpPath, 1, autocalltest.Fault{Status: 400, Body: `{"message":"invalid_phone_number"}`})
	r := &Runner{TEL4VN: tel, Journal: j, Now: srv.Now}
	rep, err := r.Run(ctx, []Job{adJob("a", "0912000013")})
	require.NoError(t, err)
	require.Equal(t, 1, rep.Refused, "%+v", rep)
	rep, err = r.Run(ctx, []Job{adJob("b", "0912000013")})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed)
}

func TestAdvertisingDoNotCall(t *testing.T) {
	srv, tel := clockSandbox(t, hcm(1, 10, 0, 0))
	j, _ := openTemp(t)
	list, err := ReadDoNotCall(strings.NewReader("+84 912 000 013\n"), "dnc")
	require.NoError(t, err)
	var lastErr error
	var mu sync.Mutex
	r := &Runner{TEL4VN: tel, Journal: j, Now: srv.Now, Policy: &Policy{DoNotCall: list},
		Progress: func(p Progress) {
			mu.Lock()
			if p.LastKey == "listed" {
				lastErr = p.LastErr
			}
			mu.Unlock()
		}}
	agreed := adJob("agreed", "0912000013")
	agreed.Agreed = AgreedDoNotCall
	receipt := otpJobs(1)[0]
	receipt.Op = OTP("1", &autocall.OTPRequest{Caller: "02873001234", Callees: []string{"0912000013"}, TemplateName: "otp", Code: "1"})
	rep, err := r.Run(ctx, []Job{adJob("listed", "0912000013"), receipt})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Refused)
	assert.Equal(t, 1, rep.Placed, "the list binds advertising only")
	assert.ErrorIs(t, lastErr, ErrDoNotCall)
	rec := recordOf(t, j, "listed")
	assert.Equal(t, Refused, rec.State)
	assert.Equal(t, CauseDoNotCall, rec.Cause)
	assert.Equal(t, 1, srv.Count(otpPath), "nothing was sent for the listed number")

	rep, err = r.Run(ctx, []Job{adJob("listed", "0912000013")})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.AlreadyRefused, "never sent")
	r.RetryRefused = true
	rep, err = r.Run(ctx, []Job{adJob("listed", "0912000013")})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Refused, "refused again while listed")
	assert.Equal(t, 1, srv.Count(otpPath))

	rep, err = r.Run(ctx, []Job{agreed})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed, "the subscriber agreed")

	// A list that cannot answer leaves the job unsent, unrecorded.
	r.Policy = &Policy{DoNotCall: failingList{}}
	rep, err = r.Run(ctx, []Job{adJob("down", "0912000023")})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Unsent)
	_, ok, err := j.Get(ctx, "down")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestAdvertisingNeedsAValidPolicyAndPurpose(t *testing.T) {
	_, tel := clockSandbox(t, hcm(1, 10, 0, 0))
	j, _ := openTemp(t)
	r := &Runner{TEL4VN: tel, Journal: j, Policy: &Policy{Opens: 18 * time.Hour, Closes: 8 * time.Hour}}
	_, err := r.Run(ctx, []Job{adJob("a", "0912000013")})
	assert.True(t, errors.Is(err, autocall.ErrValidation), "%v", err)
	_, err = r.Run(ctx, []Job{{Key: "p", Purpose: "spam", Op: otpJobs(1)[0].Op}})
	var verr *autocall.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "jobs[0].Purpose", verr.Field)
}

// Jobs deferred for the hours hold no number back: each says when the
// window opens, not a day later because another deferred job claimed the
// same number.
func TestAdvertisingOutOfHoursClaimsHoldNobody(t *testing.T) {
	srv, tel := clockSandbox(t, hcm(1, 18, 0, 0))
	j, _ := openTemp(t)
	var jobs []Job
	for i := 0; i < 20; i++ {
		jobs = append(jobs, adJob(fmt.Sprintf("km-%02d", i), "0912000013"))
	}
	r := &Runner{TEL4VN: tel, Journal: j, Workers: 8, Now: srv.Now}
	rep, err := r.Run(ctx, jobs)
	require.NoError(t, err)
	require.Len(t, rep.Deferred, 20)
	for _, d := range rep.Deferred {
		assert.Equal(t, CauseHours, d.Cause, d.Key)
		assert.True(t, hcm(2, 8, 0, 0).Equal(d.NotBefore), d.Key)
	}
	srv.Advance(14 * time.Hour)
	rep, err = r.Run(ctx, jobs)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Placed, "at 8:00 one of them calls the number")
	assert.Len(t, rep.Deferred, 19)
}

// A token fetched after the hours check could let the call leave after
// 17:00: the fetch (here, one the clock crosses 17:00 during) comes first,
// and the window is judged when the create leaves.
func TestAdvertisingTokenFetchCrossing1700SendsNothing(t *testing.T) {
	srv := autocalltest.NewServer(autocalltest.WithStartTime(hcm(1, 16, 59, 59)))
	t.Cleanup(srv.Close)
	fetch, err := autocall.NewTokenFetcher(srv.URL, autocall.WithSecretKey(autocalltest.SecretKey))
	require.NoError(t, err)
	slow := autocall.TokenSourceFunc(func(ctx context.Context) (autocall.Token, error) {
		srv.Advance(2 * time.Second) // the fetch takes the clock past 17:00
		return fetch.Token(ctx)
	})
	tel, err := autocall.NewClient(srv.URL, autocall.WithTokenSource(slow), autocall.WithProvider(autocall.TEL4VN))
	require.NoError(t, err)
	t.Cleanup(tel.CloseIdleConnections)
	j, _ := openTemp(t)
	rep, err := (&Runner{TEL4VN: tel, Journal: j, Now: srv.Now}).Run(ctx, []Job{adJob("km-late", "0912000013")})
	require.NoError(t, err)
	assertAddsUp(t, rep)
	assert.Zero(t, srv.Count(otpPath), "no create after 17:00")
	require.Len(t, rep.Deferred, 1)
	assert.Equal(t, CauseHours, rep.Deferred[0].Cause)
	assert.Equal(t, Unsent, recordOf(t, j, "km-late").State)
}
