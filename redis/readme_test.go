package autocallredis_test

import (
	"testing"

	"github.com/autocallvn/autocall-go/internal/readmecheck"
)

// The README's Go blocks that use this module compile; the root module's
// readme_test.go compiles the others, since it cannot import this module.
func TestReadmeRedisBlocksCompile(t *testing.T) {
	readmecheck.CheckModule(t, "github.com/autocallvn/autocall-go/redis", []string{"autocallredis", "redis"},
		"github.com/redis/go-redis/v9")
}
