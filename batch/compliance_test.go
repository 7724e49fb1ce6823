package batch

import (
	"context"
	"errors"
	"github.com/autocallvn/autocall-go/internal/vntime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	autocall "github.com/autocallvn/autocall-go"
)

// hcm is a time of day in Asia/Ho_Chi_Minh on 1 December 2026.
func hcm(day, h, m, s int) time.Time {
	return time.Date(2026, 12, day, h, m, s, 0, Vietnam())
}

func TestPolicyWindowIsTheDecrees(t *testing.T) {
	var p Policy
	require.NoError(t, p.Check())
	cases := []struct {
		at       time.Time
		open     bool
		nextOpen time.Time
	}{
		{hcm(1, 0, 0, 0), false, hcm(1, 8, 0, 0)},
		{hcm(1, 7, 59, 59), false, hcm(1, 8, 0, 0)},
		{hcm(1, 8, 0, 0), true, hcm(1, 8, 0, 0)},
		{hcm(1, 12, 30, 0), true, hcm(1, 12, 30, 0)},
		{hcm(1, 16, 59, 59), true, hcm(1, 16, 59, 59)},
		{hcm(1, 17, 0, 0), false, hcm(2, 8, 0, 0)},
		{hcm(1, 23, 59, 59), false, hcm(2, 8, 0, 0)},
		{hcm(31, 18, 0, 0), false, time.Date(2027, 1, 1, 8, 0, 0, 0, Vietnam())},
		// The same instants given in UTC: the window is Vietnam's.
		{time.Date(2026, 12, 1, 0, 59, 0, 0, time.UTC), false, hcm(1, 8, 0, 0)},
		{time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), true, hcm(1, 8, 0, 0)},
		{time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), false, hcm(2, 8, 0, 0)},
		// 23:30 UTC on the 1st is already 6:30 on the 2nd in Hà Nội.
		{time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC), false, hcm(2, 8, 0, 0)},
	}
	for _, c := range cases {
		assert.Equal(t, c.open, p.Open(c.at), "Open(%v)", c.at)
		assert.True(t, c.nextOpen.Equal(p.NextOpen(c.at)), "NextOpen(%v) = %v, want %v", c.at, p.NextOpen(c.at), c.nextOpen)
	}
	assert.True(t, hcm(1, 17, 0, 0).Equal(p.ClosesAt(hcm(1, 9, 0, 0))))
	assert.True(t, hcm(1, 18, 0, 0).Equal(p.ClosesAt(hcm(1, 18, 0, 0))), "shut: it closes now")
}

func TestPolicyHoursDeferUntilTheWindowOpens(t *testing.T) {
	var p Policy
	d := p.hours(hcm(1, 17, 0, 0), 0)
	require.NotNil(t, d)
	assert.Equal(t, CauseHours, d.Cause)
	assert.True(t, hcm(2, 8, 0, 0).Equal(d.NotBefore))
	assert.ErrorIs(t, d, ErrOutsideHours)
	assert.Contains(t, d.Error(), "2026-12-02 08:00:00 +07:00")
	assert.Nil(t, p.hours(hcm(1, 17, 0, 0), AgreedHours), "the subscriber agreed")
	assert.Nil(t, p.hours(hcm(1, 9, 0, 0), 0))
}

func TestPolicySettingsFollowTheLaw(t *testing.T) {
	// A change in the law is a change of setting: say 7:00 to 21:00, twice a day.
	p := Policy{Opens: 7 * time.Hour, Closes: 21*time.Hour + 30*time.Minute, Interval: 12 * time.Hour}
	require.NoError(t, p.Check())
	assert.True(t, p.Open(hcm(1, 7, 0, 0)))
	assert.True(t, p.Open(hcm(1, 21, 29, 59)))
	assert.False(t, p.Open(hcm(1, 21, 30, 0)))
	assert.Equal(t, 12*time.Hour, p.interval())

	bangkok := time.FixedZone("ICT-test", 7*3600)
	p = Policy{Location: bangkok, Opens: 0, Closes: 24 * time.Hour}
	require.NoError(t, p.Check())
	assert.True(t, p.Open(hcm(1, 0, 0, 0)), "all day")
	assert.True(t, p.Open(hcm(1, 23, 59, 59)))

	for _, bad := range []Policy{
		{Opens: 17 * time.Hour, Closes: 8 * time.Hour},
		{Opens: -time.Hour, Closes: 8 * time.Hour},
		{Opens: 8 * time.Hour, Closes: 25 * time.Hour},
		{Interval: -time.Hour},
	} {
		err := bad.Check()
		var verr *autocall.ValidationError
		require.ErrorAs(t, err, &verr, "%+v", bad)
		assert.True(t, strings.HasPrefix(verr.Field, "Policy."), verr.Field)
	}
}

func TestPolicyWindowAcrossDaylightSaving(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata for America/New_York on this machine")
	}
	p := Policy{Location: ny}
	// 8 March 2026: clocks go from 2:00 to 3:00; the window is 8:00 on the clock.
	at := time.Date(2026, 3, 8, 1, 30, 0, 0, ny)
	assert.Equal(t, time.Date(2026, 3, 8, 8, 0, 0, 0, ny), p.NextOpen(at))
	assert.Equal(t, "08:00 EDT", p.NextOpen(at).Format("15:04 MST"))
}

func TestVietnamIsTheOneZone(t *testing.T) {
	assert.Same(t, vntime.Zone, Vietnam())
	assert.Same(t, vntime.Zone, (&Policy{}).location())
}

func TestParsePurposeAndAgreement(t *testing.T) {
	for _, s := range []string{"advertising", " Advertising ", "quảng cáo", norm.NFD.String("Quảng cáo")} {
		p, err := ParsePurpose(s)
		require.NoError(t, err, s)
		assert.Equal(t, Advertising, p, s)
	}
	for _, s := range []string{"", "transactional", norm.NFD.String("giao dịch")} {
		p, err := ParsePurpose(s)
		require.NoError(t, err, s)
		assert.Equal(t, Transactional, p, s)
	}
	_, err := ParsePurpose("spam")
	var verr *autocall.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "Purpose", verr.Field)

	agreements := map[string]Agreement{
		"": 0, "no": 0, "0": 0, "không": 0, norm.NFD.String("Không"): 0, "false": 0,
		"yes": AgreedAll, "1": AgreedAll, "x": AgreedAll, "có": AgreedAll, norm.NFD.String("CÓ"): AgreedAll,
		"hours": AgreedHours, "hours,dnc": AgreedHours | AgreedDoNotCall,
		"frequency + hours": AgreedHours | AgreedFrequency, "daily": AgreedFrequency,
	}
	for s, want := range agreements {
		got, err := ParseAgreement(s)
		require.NoError(t, err, "%q", s)
		assert.Equal(t, want, got, "%q", s)
	}
	_, err = ParseAgreement("maybe")
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "Agreed", verr.Field)
	assert.ErrorIs(t, err, autocall.ErrValidation)
}

func TestReadDoNotCallFile(t *testing.T) {
	l, err := LoadDoNotCall("testdata/dnc.csv")
	var ferr *DoNotCallFileError
	require.ErrorAs(t, err, &ferr)
	require.NotNil(t, l, "the numbers read come with the error")
	lines := []int{}
	for _, b := range ferr.Bad {
		lines = append(lines, b.Line)
	}
	assert.Equal(t, []int{10, 11, 12}, lines, "the bad lines, by number; the header, comment and blank lines are not")
	assert.Contains(t, ferr.Bad[0].Reason, "0325551234", "a retired prefix names its successor")
	assert.Contains(t, err.Error(), "line 12")
	assert.Equal(t, 6, l.Len())
	ctx := context.Background()
	for _, listed := range []string{"0987654321", "+84987654321", "0912345678", "0987654300", "0351234567", "0354081438", "028 3821 2345"} {
		ok, err := l.Listed(ctx, listed)
		require.NoError(t, err)
		assert.True(t, ok, listed)
	}
	ok, err := l.Listed(ctx, "0987654322")
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestReadDoNotCallCleanFile(t *testing.T) {
	l, err := ReadDoNotCall(strings.NewReader("0987654321\n+84 35 123 4567\n"), "inline")
	require.NoError(t, err)
	assert.Equal(t, 2, l.Len())
	_, err = NewDoNotCallList("0987654321", "not a phone")
	assert.ErrorIs(t, err, autocall.ErrInvalidPhone)
}

func TestPolicyDoNotCall(t *testing.T) {
	l, err := NewDoNotCallList("+84 98 765 43 21")
	require.NoError(t, err)
	p := Policy{DoNotCall: l}
	ctx := context.Background()
	err = p.doNotCall(ctx, []string{"0912345678", "0987654321"}, 0)
	assert.ErrorIs(t, err, ErrDoNotCall)
	var dnc *DoNotCallError
	require.ErrorAs(t, err, &dnc)
	assert.Equal(t, "0987654321", dnc.Phone)
	assert.NoError(t, p.doNotCall(ctx, []string{"0987654321"}, AgreedDoNotCall), "the subscriber agreed")
	assert.NoError(t, p.doNotCall(ctx, []string{"0912345678"}, 0))

	broken := Policy{DoNotCall: failingList{}}
	err = broken.doNotCall(ctx, []string{"0912345678"}, 0)
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrDoNotCall), "a failing list is not a listing")
}

type failingList struct{}

func (failingList) Listed(context.Context, string) (bool, error) {
	return false, errors.New("dnc service down")
}

func TestAdIndex(t *testing.T) {
	ix := adIndex{}
	t0 := hcm(1, 9, 0, 0)
	assert.Nil(t, ix.holds("a", []string{"0987654321"}, t0, DefaultInterval))
	ix.put("a", []string{"0987654321"}, t0)
	assert.Nil(t, ix.holds("a", []string{"0987654321"}, t0.Add(time.Hour), DefaultInterval), "a job does not hold itself back")
	d := ix.holds("b", []string{"0912345678", "0987654321"}, t0.Add(time.Hour), DefaultInterval)
	require.NotNil(t, d)
	assert.Equal(t, CauseFrequency, d.Cause)
	assert.Equal(t, "0987654321", d.Phone)
	assert.True(t, t0.Add(24*time.Hour).Equal(d.NotBefore))
	assert.ErrorIs(t, d, ErrTooSoon)
	assert.Nil(t, ix.holds("b", []string{"0987654321"}, t0.Add(24*time.Hour), DefaultInterval), "24 hours later")

	ix.record(Record{Key: "a", State: Unsent, Phones: []string{"0987654321"}, Purpose: Advertising})
	assert.Nil(t, ix.holds("b", []string{"0987654321"}, t0.Add(time.Hour), DefaultInterval), "an unsent job called nobody")
	assert.Empty(t, ix)
}

// Only an unsent or refused job is known to have called nobody: any other
// state, one this version does not know included, counts as a call.
func TestAdIndexCountsAStateItDoesNotKnowAsACall(t *testing.T) {
	t0 := hcm(1, 9, 0, 0)
	for _, st := range []State{Claimed, Placed, Unknown, "transferred", ""} {
		ix := adIndex{}
		ix.record(Record{Key: "a", State: st, Time: t0, Phones: []string{"0987654321"}, Purpose: Advertising})
		assert.NotNil(t, ix.holds("b", []string{"0987654321"}, t0.Add(time.Hour), DefaultInterval), "state %q", st)
	}
	for _, st := range []State{Unsent, Refused} {
		ix := adIndex{}
		ix.put("a", []string{"0987654321"}, t0)
		ix.record(Record{Key: "a", State: st, Time: t0, Phones: []string{"0987654321"}, Purpose: Advertising})
		assert.Empty(t, ix, "state %q", st)
	}
}
