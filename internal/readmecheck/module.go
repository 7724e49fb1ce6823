package readmecheck

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// CheckModule is a sub-module's README test: it compiles the Go blocks of
// the repository's README.md (one directory up) that name one of pkgs, with
// this module (path, in the current directory) and the SDK's, and with the
// versions this module's go.mod requires of requires, so that a block
// pasted into a reader's module builds with what this module builds with.
// The root module's own test compiles the other blocks.
func CheckModule(t testing.TB, path string, pkgs []string, requires ...string) {
	t.Helper()
	md, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []Block
	for _, b := range Blocks("README.md", md) {
		uses, err := Uses(b)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(uses, func(p string) bool { return slices.Contains(pkgs, p) }) {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		t.Fatalf("no Go block of README.md uses %v: the section moved, or the test is broken", pkgs)
	}
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range requires {
		m := regexp.MustCompile(`(?m)^\s*(` + regexp.QuoteMeta(r) + ` v\S+)`).FindSubmatch(gomod)
		if m == nil {
			t.Fatalf("go.mod does not require %s", r)
		}
		lines = append(lines, string(m[1]))
	}
	mods := []Module{{Path: "github.com/autocallvn/autocall-go", Dir: ".."}, {Path: path, Dir: "."}}
	if err := Build(blocks, mods, []string{"../go.sum", "go.sum"}, lines...); err != nil {
		t.Fatal(err)
	}
}
