package autocallriver

import (
	"io"
	"log/slog"
	"os"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testLogger() *slog.Logger {
	if os.Getenv("RIVER_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return quietLogger()
}
