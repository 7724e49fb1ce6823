package vntime

import (
	"testing"
	"time"
)

func TestZoneIsRealZoneData(t *testing.T) {
	if Zone.String() != "Asia/Ho_Chi_Minh" {
		t.Fatalf("zone name %q", Zone.String())
	}
	for _, c := range []struct {
		at  time.Time
		off int
	}{
		{time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), 7 * 3600},
		{time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), 7 * 3600}, // no daylight saving
		// Only zone data knows this: Sài Gòn kept UTC+8 from 1959 to 1975.
		{time.Date(1970, 1, 1, 12, 0, 0, 0, time.UTC), 8 * 3600},
	} {
		if _, off := c.at.In(Zone).Zone(); off != c.off {
			t.Errorf("%s: offset %d, want %d", c.at, off, c.off)
		}
	}
	if len(tzif) != 236 {
		t.Errorf("zone file is %d bytes: tzdata 2025c's is 236", len(tzif))
	}
}
