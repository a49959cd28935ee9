package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestJSONDurations: a duration reads as a Go duration, at the top level, in
// a group and through slog.Any; other kinds are untouched.
func TestJSONDurations(t *testing.T) {
	var buf bytes.Buffer
	log := JSON(&buf, slog.LevelInfo)
	log.LogAttrs(t.Context(), slog.LevelWarn, "retry",
		slog.Duration("backoff", time.Second),
		slog.Group("slow", slog.Duration("elapsed", 1500*time.Millisecond)),
		slog.Any("wait", 250*time.Millisecond),
		slog.Int64("attempt", 2))
	log.Debug("hidden below the level")

	var got map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got), buf.String())
	assert.Equal(t, "1s", got["backoff"])
	assert.Equal(t, map[string]any{"elapsed": "1.5s"}, got["slow"])
	assert.Equal(t, "250ms", got["wait"])
	assert.Equal(t, float64(2), got["attempt"])
	assert.Equal(t, 1, bytes.Count(buf.Bytes(), []byte("\n")), "the debug line is below the level")
}
