package autocall_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autocallvn/autocall-go"
	"github.com/autocallvn/autocall-go/internal/readmecheck"
)

// Every Go block of README.md compiles, so that a reader who pastes one
// gets code that builds. The blocks that use the Redis, River or
// OpenTelemetry module are compiled by that module's readme_test.go, since
// this module cannot import them.
func TestReadmeGoBlocksCompile(t *testing.T) {
	md, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	all := readmecheck.Blocks("README.md", md)
	if len(all) < 4 {
		t.Fatalf("found %d Go blocks in README.md; the fence parser is broken", len(all))
	}
	var blocks []readmecheck.Block
	for _, b := range all {
		for _, p := range readmecheck.Lint(b) {
			t.Error(p)
		}
		uses, err := readmecheck.Uses(b)
		if err != nil {
			t.Error(err)
			continue
		}
		if !slices.ContainsFunc(uses, otherModule) {
			blocks = append(blocks, b)
		}
	}
	mods := []readmecheck.Module{{Path: "github.com/autocallvn/autocall-go", Dir: "."}}
	if err := readmecheck.Build(blocks, mods, []string{"go.sum"}); err != nil {
		t.Error(err)
	}
}

// otherModule: a package of another module of the repository's, or one
// only those modules require.
func otherModule(pkg string) bool {
	switch pkg {
	case "autocallredis", "redis", "autocallriver", "river", "riverpgxv5", "pgxpool", "autocallotel", "otel", "sdkmetric":
		return true
	}
	return false
}

// The README's Preview output is what Preview says.
func TestReadmePreviewOutputIsTrue(t *testing.T) {
	md, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(md), "fmt.Println(heard)\n")
	if !ok {
		t.Fatal("README.md no longer prints a Preview: update this test")
	}
	var shown []string
	for _, line := range strings.Split(after, "\n") {
		text, ok := strings.CutPrefix(line, "// ")
		if !ok {
			break
		}
		shown = append(shown, text)
	}
	tmpl := autocall.Template{Name: "thong_bao_no_cuoc_01",
		Content: "Chào bạn {{customer_name}} vui lòng thanh toán khoản nợ {{due_amount}} trước ngày {{due_date}}"}
	heard, err := tmpl.Preview(map[string]string{"customer_name": "Nguyễn Văn A",
		"due_amount": autocall.Money(10410000), "due_date": autocall.Date(time.Date(2021, 1, 30, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(shown, " "); got != heard {
		t.Errorf("README.md shows\n\t%s\nPreview says\n\t%s", got, heard)
	}
}
