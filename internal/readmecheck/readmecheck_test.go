package readmecheck

import (
	"reflect"
	"testing"
)

func TestBlocks(t *testing.T) {
	md := "# T\n\n```sh\ngo run .\n```\n\n```go\nx := 1\n_ = x\n```\n\n```go title\ny := 2\n```\n\n```json\n{}\n```\n"
	got := Blocks("R.md", []byte(md))
	want := []Block{{File: "R.md", Line: 8, Code: "x := 1\n_ = x\n"}, {File: "R.md", Line: 13, Code: "y := 2\n"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestUses(t *testing.T) {
	// A package name shadowed by a variable of the block is not imported.
	got, err := Uses(Block{File: "R.md", Line: 1, Code: "batch := 1\n_ = batch\nfmt.Println(time.Now(), autocall.Version)\n// errors.Is in a comment\n"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"autocall", "context", "fmt", "time"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestLint(t *testing.T) {
	bad := Block{File: "R.md", Line: 10, Code: "x := 1\nj, err := batch.OpenFile(\"f\")\ndefer j.Close()\n"}
	if got := Lint(bad); !reflect.DeepEqual(got, []string{"R.md:12: defer j.Close() before its error is checked"}) {
		t.Fatalf("got %q", got)
	}
	good := Block{File: "R.md", Line: 10, Code: "j, err := batch.OpenFile(\"f\")\nif err != nil {\n\treturn err\n}\ndefer j.Close()\n"}
	if got := Lint(good); got != nil {
		t.Fatalf("got %q", got)
	}
}
