package edge

import (
	"hash/maphash"
	"sync"
	"time"
)

// ReplayCache remembers signatures for the timestamp tolerance window (a
// replay older than that fails the timestamp check anyway). It is per
// process: on Lambda each instance has its own, and the processor's
// deduplication is what guarantees once-only processing; this only turns an
// obvious replay into a 409 at the edge.
//
// It holds 128-bit keyed hashes and times in a ring, no strings and no
// pointers: with 100,000 entries the garbage collector has nothing to scan,
// and a request allocates nothing here. Two different requests collide with
// probability 2^-128 per pair; the seeds are per process.
type ReplayCache struct {
	mu     sync.Mutex
	window int64 // nanoseconds
	seeds  [2]maphash.Seed
	seen   map[replayKey]int64 // key → when, in unix nanoseconds
	ring   []replayEntry       // insertion order, for expiry and the size bound
	head   int                 // oldest entry in ring
	n      int
}

type replayKey [2]uint64

type replayEntry struct {
	key replayKey
	at  int64
}

// NewReplayCache keeps at most size signatures for window.
func NewReplayCache(window time.Duration, size int) *ReplayCache {
	return &ReplayCache{
		window: int64(window), seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		seen: make(map[replayKey]int64), ring: make([]replayEntry, max(size, 1)),
	}
}

// Seen records the request with this delivery id and signature header at
// now, and reports whether it was already there.
func (c *ReplayCache) Seen(delivery, signature string, now time.Time) bool {
	var k replayKey
	for i, seed := range c.seeds {
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteString(delivery)
		h.WriteByte(0)
		h.WriteString(signature)
		k[i] = h.Sum64()
	}
	t := now.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.n > 0 && t-c.ring[c.head].at > c.window {
		c.evict()
	}
	if at, ok := c.seen[k]; ok && t-at <= c.window {
		return true
	}
	if c.n == len(c.ring) {
		c.evict()
	}
	c.seen[k] = t
	c.ring[(c.head+c.n)%len(c.ring)] = replayEntry{key: k, at: t}
	c.n++
	return false
}

// evict forgets the oldest entry, unless its key was seen again since.
func (c *ReplayCache) evict() {
	old := c.ring[c.head]
	if c.seen[old.key] == old.at {
		delete(c.seen, old.key)
	}
	c.head = (c.head + 1) % len(c.ring)
	c.n--
}
