package autocallriver_test

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/autocallvn/autocall-go/internal/readmecheck"
)

// The README's Go blocks that use this module compile; the root module's
// readme_test.go compiles the others, since it cannot import this module.
func TestReadmeRiverBlocksCompile(t *testing.T) {
	md, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmecheck.Block
	for _, b := range readmecheck.Blocks("README.md", md) {
		uses, err := readmecheck.Uses(b)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(uses, "autocallriver") {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		t.Fatal("no Go block of README.md uses autocallriver: the section moved, or the test is broken")
	}
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var requires []string
	for _, path := range []string{`github\.com/riverqueue/river`, `github\.com/riverqueue/river/riverdriver/riverpgxv5`, `github\.com/jackc/pgx/v5`} {
		m := regexp.MustCompile(`(?m)^\s*(` + path + ` v\S+)`).FindSubmatch(gomod)
		if m == nil {
			t.Fatalf("go.mod does not require %s", path)
		}
		requires = append(requires, string(m[1]))
	}
	mods := []readmecheck.Module{
		{Path: "github.com/autocallvn/autocall-go", Dir: ".."},
		{Path: "github.com/autocallvn/autocall-go/river", Dir: "."},
	}
	if err := readmecheck.Build(blocks, mods, []string{"../go.sum", "go.sum"}, requires...); err != nil {
		t.Fatal(err)
	}
}
