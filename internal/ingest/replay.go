package ingest

import (
	"sync"
	"time"
)

// ReplayCache remembers signatures for the timestamp tolerance window (a
// replay older than that fails the timestamp check anyway). It is per
// process: on Lambda each instance has its own, and the processor's
// delivery-id deduplication is what guarantees once-only processing; this
// only turns an obvious replay into a 409 at the edge.
type ReplayCache struct {
	mu     sync.Mutex
	window time.Duration
	max    int
	seen   map[string]time.Time
	order  []string // insertion order, for expiry and the size bound
}

// NewReplayCache keeps at most max signatures for window.
func NewReplayCache(window time.Duration, max int) *ReplayCache {
	return &ReplayCache{window: window, max: max, seen: map[string]time.Time{}}
}

// Seen records sig at now and reports whether it was already there.
func (c *ReplayCache) Seen(sig string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.order) > 0 {
		oldest := c.order[0]
		if t := c.seen[oldest]; len(c.order) <= c.max && now.Sub(t) <= c.window {
			break
		}
		delete(c.seen, oldest)
		c.order = c.order[1:]
	}
	if t, ok := c.seen[sig]; ok && now.Sub(t) <= c.window {
		return true
	}
	c.seen[sig] = now
	c.order = append(c.order, sig)
	return false
}
