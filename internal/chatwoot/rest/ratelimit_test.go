package rest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBucket(t *testing.T) {
	tests := []struct {
		name      string
		perMinute float64
		burst     int
		calls     int
		gap       time.Duration // clock advance between calls
		want      []time.Duration
	}{
		{name: "burst passes", perMinute: 60, burst: 3, calls: 3},
		{name: "then one per second", perMinute: 60, burst: 2, calls: 5,
			want: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "idle time refills", perMinute: 60, burst: 2, calls: 6, gap: time.Second},
		{name: "refill is capped at the burst", perMinute: 120, burst: 1, calls: 3, gap: time.Hour},
		{name: "faster rate", perMinute: 120, burst: 1, calls: 3,
			want: []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			b := newBucket(tt.perMinute/60, tt.burst, clk.Now, clk.Sleep)
			for range tt.calls {
				require.NoError(t, b.wait(t.Context()))
				if tt.gap > 0 {
					clk.mu.Lock()
					clk.now = clk.now.Add(tt.gap)
					clk.mu.Unlock()
				}
			}
			assert.Equal(t, tt.want, clk.slept())
		})
	}
}

// TestBucketQueues checks that concurrent callers with a stopped clock wait
// one, two, three … intervals: each takes its own place in the queue.
func TestBucketQueues(t *testing.T) {
	var mu sync.Mutex
	var waits []time.Duration
	now := time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)
	b := newBucket(1, 1, func() time.Time { return now }, func(_ context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return nil
	})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { assert.NoError(t, b.wait(t.Context())) })
	}
	wg.Wait()
	assert.ElementsMatch(t, []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}, waits)
}

func TestBucketCancelReturnsToken(t *testing.T) {
	var waits []time.Duration
	now := time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)
	b := newBucket(1, 1, func() time.Time { return now }, func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	})
	require.NoError(t, b.wait(t.Context()))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, b.wait(ctx), context.Canceled)
	require.NoError(t, b.wait(t.Context()))
	// The cancelled caller gave its place back: the next waits 1 s, not 2 s.
	assert.Equal(t, []time.Duration{time.Second, time.Second}, waits)
}

func TestClientIsRateLimited(t *testing.T) {
	f, srv := newFake(t, inOrder(reply{status: 200, body: `{"payload":[]}`}))
	clk := newClock()
	c := newTestClient(t, srv.URL, clk, Options{RatePerMinute: 30, Burst: 2})
	for range 4 {
		_, err := c.Labels(t.Context(), 7, 1)
		require.NoError(t, err)
	}
	assert.Len(t, f.requests(), 4)
	assert.Equal(t, []time.Duration{2 * time.Second, 2 * time.Second}, clk.slept())
}

func TestRateLimitDefaults(t *testing.T) {
	c, err := NewHTTPClient("https://chat.example.com", testToken, Options{})
	require.NoError(t, err)
	require.NotNil(t, c.limit)
	assert.Equal(t, float64(DefaultRatePerMinute)/60, c.limit.rate, "per second")
	assert.Equal(t, float64(DefaultBurst), c.limit.burst)

	c, err = NewHTTPClient("https://chat.example.com", testToken, Options{RatePerMinute: -1})
	require.NoError(t, err)
	assert.Nil(t, c.limit)
}
