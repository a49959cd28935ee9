package health

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSpool(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		oldest time.Time
		err    error
		want   string
	}{
		{"empty", time.Time{}, nil, OK},
		{"a minute old", now.Add(-time.Minute), nil, OK},
		{"exactly 15 minutes", now.Add(-SpoolMaxAge), nil, OK},
		{"stuck", now.Add(-SpoolMaxAge - time.Second), nil, Degraded},
		{"unreadable", time.Time{}, errors.New("s3 down"), Degraded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Spool(func(context.Context) (time.Time, error) { return tc.oldest, tc.err }, func() time.Time { return now })
			status, detail := c.Run(context.Background())
			assert.Equal(t, tc.want, status, detail)
			assert.Equal(t, "spool", c.Name)
		})
	}
}
