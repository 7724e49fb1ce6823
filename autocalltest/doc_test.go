package autocalltest

import (
	"go/doc/comment"
	"go/parser"
	"go/token"
	"regexp"
	"strings"
	"testing"
)

// The outcome table is a code block of the package doc, so that go doc
// prints it as a table instead of reflowing it into a paragraph; and it
// says what the sandbox does.
func TestDocOutcomeTableIsATable(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	var p comment.Parser
	doc := p.Parse(f.Doc.Text())
	row := regexp.MustCompile(`(?m)^…(\d{4})\s+(\w+)`)
	var rows [][]string
	for _, b := range doc.Content {
		if code, ok := b.(*comment.Code); ok && strings.Contains(code.Text, "BUSY") {
			rows = row.FindAllStringSubmatch(code.Text, -1)
		}
	}
	if len(rows) < 7 {
		t.Fatalf("no outcome table in a code block of the package doc (rows %v)", rows)
	}
	for _, r := range rows {
		if r[1] == "009K" {
			continue
		}
		if got := outcomes[r[1]]; got != r[2] {
			t.Errorf("doc says …%s is %s; the sandbox says %q", r[1], r[2], got)
		}
	}
}
