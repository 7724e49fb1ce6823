package autocallriver_test

import (
	"testing"

	"github.com/autocallvn/autocall-go/internal/readmecheck"
)

// The README's Go blocks that use this module compile; the root module's
// readme_test.go compiles the others, since it cannot import this module.
func TestReadmeRiverBlocksCompile(t *testing.T) {
	readmecheck.CheckModule(t, "github.com/autocallvn/autocall-go/river", []string{"autocallriver"},
		"github.com/riverqueue/river", "github.com/riverqueue/river/riverdriver/riverpgxv5", "github.com/jackc/pgx/v5")
}
