// Package vntime is the one definition of Vietnam's time zone for the SDK,
// its sandbox and the batch Policy.
package vntime

import (
	_ "embed"
	"time"
)

//go:embed tzdata/Asia_Ho_Chi_Minh
var tzif []byte

// Zone is Asia/Ho_Chi_Minh from the 236-byte zone file of tzdata 2025c
// (Go's lib/time/zoneinfo.zip), built in so that a container without
// tzdata works; importing time/tzdata would add some 450 KB for one zone.
// Real zone data rather than a fixed +07: Sài Gòn kept UTC+8 from 1959 to
// 1975. Should the file ever fail to load, the fixed +07 Vietnam has kept
// since 1975 is exact for every call and report time.
var Zone = func() *time.Location {
	if loc, err := time.LoadLocationFromTZData("Asia/Ho_Chi_Minh", tzif); err == nil {
		return loc
	}
	return time.FixedZone("Asia/Ho_Chi_Minh", 7*60*60)
}()
