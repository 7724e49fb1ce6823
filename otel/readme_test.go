package autocallotel_test

import (
	"testing"

	"github.com/autocallvn/autocall-go/internal/readmecheck"
)

// The README's Go blocks that use this module compile; the root module's
// readme_test.go compiles the others, since it cannot import this module.
func TestReadmeOtelBlocksCompile(t *testing.T) {
	readmecheck.CheckModule(t, "github.com/autocallvn/autocall-go/otel", []string{"autocallotel"},
		"go.opentelemetry.io/otel", "go.opentelemetry.io/otel/sdk/metric")
}
