package autocallredis_test

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/autocallvn/autocall-go/internal/readmecheck"
)

// The README's Go blocks that use this module compile; the root module's
// readme_test.go compiles the others, since it cannot import this module.
func TestReadmeRedisBlocksCompile(t *testing.T) {
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
		if slices.Contains(uses, "autocallredis") || slices.Contains(uses, "redis") {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		t.Fatal("no Go block of README.md uses autocallredis: the section moved, or the test is broken")
	}
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goRedis := regexp.MustCompile(`(?m)^\s*(github\.com/redis/go-redis/v9 v\S+)`).FindSubmatch(gomod)
	if goRedis == nil {
		t.Fatal("go.mod does not require github.com/redis/go-redis/v9")
	}
	mods := []readmecheck.Module{
		{Path: "github.com/autocallvn/autocall-go", Dir: ".."},
		{Path: "github.com/autocallvn/autocall-go/redis", Dir: "."},
	}
	if err := readmecheck.Build(blocks, mods, []string{"../go.sum", "go.sum"}, string(goRedis[1])); err != nil {
		t.Fatal(err)
	}
}
