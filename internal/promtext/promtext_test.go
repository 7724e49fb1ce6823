package promtext

import (
	"strings"
	"testing"
)

func TestSamples(t *testing.T) {
	m, err := Samples(strings.NewReader("# HELP x y\n\nx_total{a=\"1 2\"} 3\ny 0.5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m[`x_total{a="1 2"}`] != 3 || m["y"] != 0.5 || len(m) != 2 {
		t.Fatalf("%v", m)
	}
	if _, err := Samples(strings.NewReader("x notanumber\n")); err == nil {
		t.Fatal("a bad value read")
	}
}
