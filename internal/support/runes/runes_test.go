package runes

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPrefix(t *testing.T) {
	const n = 20_000
	tests := []struct {
		name, text, want string
		cut              bool
	}{
		{"short", "refund", "refund", false},
		{"empty", "", "", false},
		{"exactly n", strings.Repeat("a", n), strings.Repeat("a", n), false},
		{"characters, not bytes", strings.Repeat("é", n), strings.Repeat("é", n), false},
		{"over n", strings.Repeat("é", n+1), strings.Repeat("é", n), true},
		{"a four-byte character is kept whole", strings.Repeat("a", n-1) + "😡😡", strings.Repeat("a", n-1) + "😡", true},
		{"an invalid byte counts as one character", strings.Repeat("\xff", n+5), strings.Repeat("\xff", n), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := Prefix(tt.text, n)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.cut, cut)
		})
	}
	got, cut := Prefix("abc", 0)
	assert.Equal(t, "", got)
	assert.True(t, cut)
}

func TestTruncate(t *testing.T) {
	assert.Equal(t, "refund", Truncate("refund", 6))
	assert.Equal(t, "ref…", Truncate("refund", 3))
	assert.Equal(t, "caf…", Truncate("café", 4), "é's two bytes straddle the bound")
	assert.Equal(t, "café", Truncate("café", 5))
	assert.Equal(t, "…", Truncate("😡", 3))
	assert.Equal(t, "…", Truncate("abc", 0))
}
