package stats

import (
	"context"
	"sync"
	"time"
)

// CounterStore is where counters end up (store.Store satisfies it).
type CounterStore interface {
	AddCounters(ctx context.Context, day string, deltas map[string]int64) error
	SetMark(ctx context.Context, name string, t time.Time) error
}

// Buffer buffers counter increments and writes them in one call per day on
// Flush. The ingest path uses it so that counting never sits between a
// request and its acknowledgement: on Lambda the handler flushes before it
// returns; locally a ticker flushes every interval, so a hard kill can lose at
// most one interval of ingest counts (never events).
type Buffer struct {
	// MarkEvery spaces the writes of a mark: one later than the last one
	// written by less than this stays pending. A mark like "last webhook
	// accepted" is read against a quiet period of minutes; writing it per
	// request would cost a write per request.
	MarkEvery time.Duration

	store    CounterStore
	mu       sync.Mutex
	pending  map[string]map[string]int64
	marks    map[string]time.Time
	written  map[string]time.Time // guarded by flushing
	flushing sync.Mutex
}

// NewBuffer returns a buffer writing to s.
func NewBuffer(s CounterStore) *Buffer {
	return &Buffer{store: s, pending: map[string]map[string]int64{}}
}

// Add counts n for name on day.
func (r *Buffer) Add(day, name string, n int64) {
	r.mu.Lock()
	m := r.pending[day]
	if m == nil {
		m = map[string]int64{}
		r.pending[day] = m
	}
	m[name] += n
	r.mu.Unlock()
}

// Mark records t under name, keeping the latest, for the next Flush.
func (r *Buffer) Mark(name string, t time.Time) {
	r.mu.Lock()
	if r.marks == nil {
		r.marks = map[string]time.Time{}
	}
	if t.After(r.marks[name]) {
		r.marks[name] = t
	}
	r.mu.Unlock()
}

// Flush writes what is pending. On error the increments are put back.
func (r *Buffer) Flush(ctx context.Context) error {
	r.flushing.Lock()
	defer r.flushing.Unlock()
	r.mu.Lock()
	p, marks := r.pending, r.marks
	r.pending, r.marks = map[string]map[string]int64{}, nil
	r.mu.Unlock()
	var first error
	for name, t := range marks {
		if last, ok := r.written[name]; ok && t.Sub(last) < r.MarkEvery {
			r.Mark(name, t)
			continue
		}
		if err := r.store.SetMark(ctx, name, t); err != nil {
			if first == nil {
				first = err
			}
			r.Mark(name, t)
			continue
		}
		if r.written == nil {
			r.written = map[string]time.Time{}
		}
		r.written[name] = t
	}
	for day, deltas := range p {
		if err := r.store.AddCounters(ctx, day, deltas); err != nil {
			if first == nil {
				first = err
			}
			for k, v := range deltas {
				r.Add(day, k, v)
			}
		}
	}
	return first
}

// Run flushes every interval until ctx ends, then flushes once more.
func (r *Buffer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = r.Flush(ctx)
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = r.Flush(fctx)
			cancel()
			return
		}
	}
}
