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

// TestCacheDoesNotHideTheFirstWebhook: a report saying "no webhook received
// yet" is served from the cache only while that stays true; the ingest
// check alone runs again, at most every RecheckEvery, and the first webhook
// makes the next request check everything anew. Other results stay cached
// for the whole TTL.
func TestCacheDoesNotHideTheFirstWebhook(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var last time.Time
	lastReads, storeRuns := 0, 0
	c := &Checker{TTL: 5 * time.Minute, Now: clock, RecheckEvery: time.Second, Checks: []Check{
		Ingest(func(context.Context) (time.Time, error) { lastReads++; return last, nil }, time.Hour, clock),
		{Name: "store", Run: func(context.Context) (string, string) { storeRuns++; return OK, "read ok" }},
	}}
	ctx := context.Background()

	r := c.Report(ctx)
	assert.False(t, r.Cached)
	assert.Equal(t, NoWebhookYet, r.Checks[0].Detail)
	assert.Equal(t, 1, lastReads)

	// Within RecheckEvery nothing runs again.
	now = now.Add(500 * time.Millisecond)
	r = c.Report(ctx)
	assert.True(t, r.Cached)
	assert.Equal(t, 1, lastReads)

	// Still no webhook: the ingest check alone ran again, the report is
	// still the cached one.
	now = now.Add(time.Second)
	r = c.Report(ctx)
	assert.True(t, r.Cached)
	assert.Equal(t, 2, lastReads)
	assert.Equal(t, 1, storeRuns)

	// The first webhook: the next request after RecheckEvery sees it, in a
	// report checked anew.
	last = now.Add(-200 * time.Millisecond)
	now = now.Add(time.Second)
	r = c.Report(ctx)
	assert.False(t, r.Cached)
	assert.Equal(t, "last webhook 1s ago", r.Checks[0].Detail)
	assert.Equal(t, now, r.CheckedAt)
	assert.Equal(t, 4, lastReads, "the recheck that saw it, then the whole report")
	assert.Equal(t, 2, storeRuns)

	// From then on the TTL holds for everything.
	now = now.Add(4 * time.Minute)
	r = c.Report(ctx)
	assert.True(t, r.Cached)
	assert.Equal(t, 4, lastReads)
	assert.Equal(t, 2, storeRuns)
}
