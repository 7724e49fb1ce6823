// Package promtext reads Prometheus's text format as the tests of the
// command and of autocall-worker scrape it: each sample's value by its
// line up to the value ("name{labels}"), comments and blank lines left out.
package promtext

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Samples reads r's samples, by their text before the value.
func Samples(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}
