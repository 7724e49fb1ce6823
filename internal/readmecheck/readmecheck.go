// Package readmecheck compiles the Go blocks of a Markdown file, so that a
// README's examples are code a reader can paste, and a test fails the day
// one stops compiling.
//
// A block is a fragment: the statements of a function that has ctx in
// scope and returns an error, as a reader's own code would. It compiles
// alone (a block may not use another block's variables), with the imports
// its package names call for added, in a throwaway module whose go.mod
// points at the repository. A block that starts with "package" is a whole
// file and compiles as written.
package readmecheck

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Block is one fenced ```go block: its code, and the file and line its
// first line is on.
type Block struct {
	File string
	Line int
	Code string
}

// Blocks returns the ```go blocks of the Markdown document md, read from
// file, in order.
func Blocks(file string, md []byte) []Block {
	var blocks []Block
	var cur *Block
	var code strings.Builder
	for i, line := range strings.Split(string(md), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &Block{File: file, Line: -1} // another language: skipped to its closing fence
			if info := strings.Fields(strings.TrimPrefix(trimmed, "```")); len(info) > 0 && info[0] == "go" {
				cur.Line = i + 2
				code.Reset()
			}
		case cur != nil && trimmed == "```":
			if cur.Line > 0 {
				cur.Code = code.String()
				blocks = append(blocks, *cur)
			}
			cur = nil
		case cur != nil && cur.Line > 0:
			code.WriteString(line)
			code.WriteByte('\n')
		}
	}
	return blocks
}

// Packages maps the package names a README uses to their import paths.
// A block that names one gets its import.
var Packages = map[string]string{
	"autocall":      "github.com/autocallvn/autocall-go",
	"autocalltest":  "github.com/autocallvn/autocall-go/autocalltest",
	"batch":         "github.com/autocallvn/autocall-go/batch",
	"autocallredis": "github.com/autocallvn/autocall-go/redis",
	"redis":         "github.com/redis/go-redis/v9",
	"autocallriver": "github.com/autocallvn/autocall-go/river",
	"river":         "github.com/riverqueue/river",
	"riverpgxv5":    "github.com/riverqueue/river/riverdriver/riverpgxv5",
	"pgxpool":       "github.com/jackc/pgx/v5/pgxpool",
	"autocallotel":  "github.com/autocallvn/autocall-go/otel",
	"otel":          "go.opentelemetry.io/otel",
	"sdkmetric":     "go.opentelemetry.io/otel/sdk/metric",
	"context":       "context",
	"errors":        "errors",
	"fmt":           "fmt",
	"http":          "net/http",
	"httptest":      "net/http/httptest",
	"io":            "io",
	"json":          "encoding/json",
	"log":           "log",
	"os":            "os",
	"signal":        "os/signal",
	"slog":          "log/slog",
	"strings":       "strings",
	"sync":          "sync",
	"syscall":       "syscall",
	"time":          "time",
}

// Uses reports which packages of Packages a block names; context is among
// them for a fragment, whose ctx parameter names it.
func Uses(b Block) ([]string, error) {
	f, err := parse(b)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, id := range f.Unresolved {
		if _, ok := Packages[id.Name]; ok && !slices.Contains(names, id.Name) {
			names = append(names, id.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// closeRE: "defer x.Close()" and the line before it.
var closeRE = regexp.MustCompile(`(?m)^\s*(\w+), err :?= .*\n\s*defer (\w+)\.Close\(\)`)

// Lint finds what compiles but misleads a reader who pastes it: a deferred
// Close of a value before its error is checked (nil when the open failed).
func Lint(b Block) []string {
	var problems []string
	for _, m := range closeRE.FindAllStringSubmatchIndex(b.Code, -1) {
		if b.Code[m[2]:m[3]] == b.Code[m[4]:m[5]] {
			line := b.Line + strings.Count(b.Code[:m[4]], "\n")
			problems = append(problems, fmt.Sprintf("%s:%d: defer %s.Close() before its error is checked",
				b.File, line, b.Code[m[4]:m[5]]))
		}
	}
	return problems
}

// Module is a module the throwaway module requires and replaces with a
// directory: the repository, or the repository's redis module.
type Module struct {
	Path, Dir string
}

// Build compiles blocks in a throwaway module in a temporary directory that requires
// mods and, for go.sum, the hashes in sums. It runs the go command offline:
// every module must be in the module cache already, as it is once the
// repository's own tests have built. The error holds the compiler's
// messages, positioned in the Markdown file.
func Build(blocks []Block, mods []Module, sums []string, extraRequires ...string) error {
	dir, err := os.MkdirTemp("", "readmecheck")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var gomod strings.Builder
	gomod.WriteString("module readmecheck\n\ngo 1.24.0\n\nrequire (\n")
	for _, m := range mods {
		fmt.Fprintf(&gomod, "\t%s v0.0.0\n", m.Path)
	}
	for _, r := range extraRequires {
		fmt.Fprintf(&gomod, "\t%s\n", r)
	}
	gomod.WriteString(")\n\n")
	for _, m := range mods {
		abs, err := filepath.Abs(m.Dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(&gomod, "replace %s => %s\n", m.Path, abs)
	}
	var gosum bytes.Buffer
	for _, s := range sums {
		b, err := os.ReadFile(s)
		if err != nil {
			return err
		}
		gosum.Write(b)
	}
	files := map[string][]byte{
		"go.mod":  []byte(gomod.String()),
		"go.sum":  gosum.Bytes(),
		"main.go": []byte("package main\n\nfunc main() {}\n"),
	}
	for _, b := range blocks {
		src, err := source(b)
		if err != nil {
			return err
		}
		files[fmt.Sprintf("block_%04d.go", b.Line)] = src
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}

	cmd := exec.Command("go", "build", "-o", os.DevNull, ".")
	cmd.Dir = dir
	// Offline and self-contained: no proxy, no checksum database, no
	// workspace of the caller's, the toolchain that runs the test.
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOSUMDB=off",
		"GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("a Go block does not compile (each must compile alone, as the body of a "+
			"func(ctx context.Context) error):\n%s", out)
	}
	return nil
}

// source is a block as a Go file: a whole file as it is, a fragment as the
// body of a function, each with the imports it names and a //line
// directive so that errors point into the Markdown file.
func source(b Block) ([]byte, error) {
	names, err := Uses(b)
	if err != nil {
		return nil, err
	}
	var src strings.Builder
	whole := isFile(b.Code)
	if whole {
		fmt.Fprintf(&src, "//line %s:%d\n%s", b.File, b.Line, b.Code)
		return []byte(src.String()), nil
	}
	src.WriteString("package main\n\nimport (\n\t\"context\"\n")
	for _, n := range names {
		if n != "context" {
			fmt.Fprintf(&src, "\t%s %q\n", n, Packages[n])
		}
	}
	fmt.Fprintf(&src, ")\n\nfunc readme%d(ctx context.Context) error {\n//line %s:%d\n%s\n\treturn nil\n}\n", b.Line, b.File, b.Line, b.Code)
	return []byte(src.String()), nil
}

// parse parses a block as Build compiles it, without its imports, so
// that the package names it uses are left unresolved.
func parse(b Block) (*ast.File, error) {
	src := fmt.Sprintf("//line %s:%d\n%s", b.File, b.Line, b.Code)
	if !isFile(b.Code) {
		src = fmt.Sprintf("package main\n\nfunc readme(ctx context.Context) error {\n%s\n\treturn nil\n}\n", src)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "", src, parser.AllErrors)
	var list scanner.ErrorList
	if errors.As(err, &list) {
		msgs := make([]string, len(list))
		for i, e := range list {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("a Go block does not parse:\n%s", strings.Join(msgs, "\n"))
	}
	if err != nil {
		return nil, err
	}
	if isFile(b.Code) {
		f.Unresolved = nil // a whole file imports what it uses
	}
	return f, nil
}

// isFile: the block is a whole file, package clause included.
func isFile(code string) bool {
	for _, line := range strings.Split(code, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		return strings.HasPrefix(line, "package ")
	}
	return false
}
