package main

import (
	"os"
	"strings"
	"testing"
)

// The package doc's exit codes (go doc, and the first thing a cron author
// reads) are exitCodeHelp's, line for line: one table, not two that drift.
func TestPackageDocListsTheExitCodes(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	for _, line := range strings.Split(exitCodeHelp, "\n")[1:] {
		want := "//\t" + strings.TrimPrefix(line, "  ")
		if !strings.Contains(doc, want+"\n") {
			t.Errorf("main.go's package doc lacks the exit code line %q", want)
		}
	}
}
