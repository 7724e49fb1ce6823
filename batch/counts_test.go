package batch

import "sort"

// counts returns how many jobs are in each state (Claimed read as Unknown).
func counts(recs []Record) map[State]int {
	c := map[State]int{}
	for _, r := range recs {
		c[readState(r.State)]++
	}
	return c
}

// unknownKeys lists the keys whose outcome is unknown, sorted.
func unknownKeys(recs []Record) []string {
	var keys []string
	for _, r := range recs {
		if readState(r.State) == Unknown {
			keys = append(keys, r.Key)
		}
	}
	sort.Strings(keys)
	return keys
}
