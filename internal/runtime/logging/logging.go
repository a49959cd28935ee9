// Package logging builds the JSON loggers of both runtimes (the Lambda
// functions, supportctl), so that every log line renders values the same
// way wherever it is written.
package logging

import (
	"io"
	"log/slog"
)

// JSON returns a logger writing JSON lines at level or above to w.
// Durations are written as Go durations ("1.5s", "120ms") rather than
// slog's integer nanoseconds, which nobody reads right at a glance.
func JSON(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: ReplaceAttr}))
}

// ReplaceAttr is the handlers' attribute rewrite: time.Duration values
// become their String form. It is exported for handlers built elsewhere
// (tests that capture logs).
func ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}
