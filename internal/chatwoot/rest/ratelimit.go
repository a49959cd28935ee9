package rest

import (
	"context"
	"sync"
	"time"
)

// bucket is a token bucket. A caller takes a token even when none is left,
// running the bucket into debt, and then sleeps the debt off outside the
// lock: waiters are served in arrival order without holding the lock.
type bucket struct {
	rate  float64 // tokens per second
	burst float64
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newBucket(perSecond float64, burst int, now func() time.Time, sleep func(context.Context, time.Duration) error) *bucket {
	return &bucket{rate: perSecond, burst: float64(burst), tokens: float64(burst), now: now, sleep: sleep}
}

// wait takes a token, sleeping until it is due. A cancelled wait gives the
// token back.
func (b *bucket) wait(ctx context.Context) error {
	b.mu.Lock()
	now := b.now()
	if now.After(b.last) {
		if !b.last.IsZero() {
			b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		}
		b.last = now
	}
	b.tokens--
	debt := -b.tokens
	b.mu.Unlock()
	if debt <= 0 {
		return nil
	}
	if err := b.sleep(ctx, time.Duration(debt/b.rate*float64(time.Second))); err != nil {
		b.mu.Lock()
		b.tokens++
		b.mu.Unlock()
		return err
	}
	return nil
}
