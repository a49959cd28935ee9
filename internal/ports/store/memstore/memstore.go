// Package memstore implements store.Store in memory. It is the store for
// benchmarks and unit tests of code above the store; it passes the same
// conformance suite as the real drivers.
package memstore

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// Store is an in-memory store.
type Store struct {
	mu       sync.Mutex
	now      func() time.Time
	convs    map[conversation.Key]conversation.State
	idem     map[string]idem
	attempts map[string]int
	counters map[string]map[string]int64
	actions  map[conversation.Key][]store.Action
	days     map[string]map[string]store.DayRecord // day|kind → id → record
	marks    map[string]time.Time
	log      []store.Delivery // the delivery log, in write order
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{now: time.Now, convs: map[conversation.Key]conversation.State{}, idem: map[string]idem{},
		attempts: map[string]int{}, counters: map[string]map[string]int64{}, actions: map[conversation.Key][]store.Action{},
		days: map[string]map[string]store.DayRecord{}, marks: map[string]time.Time{}}
}

// SetClock sets the clock that expires idempotency records and bounds the
// delivery log's window, so a test can be about a day in the past.
func (s *Store) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// Close implements store.Store.
func (s *Store) Close() error { return nil }

// Ping implements store.Store.
func (s *Store) Ping(context.Context) error { return nil }

func clone(st conversation.State) conversation.State { return st.Clone() }

// Conversation implements store.Store.
func (s *Store) Conversation(_ context.Context, k conversation.Key) (conversation.State, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.convs[k]
	return clone(st), ok, nil
}

// UpdateConversation implements store.Store with store.UpdateWithRetry.
func (s *Store) UpdateConversation(ctx context.Context, k conversation.Key, fn func(*conversation.State) bool) (conversation.State, error) {
	return store.UpdateWithRetry(ctx, k, fn, store.Versioned{
		// Stored states are never changed in place, and fn gets a copy: the
		// state read is not cloned.
		Read: func(context.Context, bool) (conversation.State, bool, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			st, ok := s.convs[k]
			return st, ok, nil
		},
		Write: func(_ context.Context, next conversation.State, found bool) (bool, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if cur, ok := s.convs[k]; ok != found || ok && cur.Version != next.Version-1 {
				return false, nil
			}
			s.convs[k] = clone(next)
			return true, nil
		},
	})
}

// WaitingForFirstResponse implements store.Store.
func (s *Store) WaitingForFirstResponse(_ context.Context, limit int) ([]conversation.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []conversation.State
	for _, st := range s.convs {
		if st.WaitingForFirstResponse() {
			out = append(out, clone(st))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if wa, wb := a.WaitingSince(), b.WaitingSince(); !wa.Equal(wb) {
			return wa.Before(wb)
		}
		if a.AccountID != b.AccountID {
			return a.AccountID < b.AccountID
		}
		return a.ConversationID < b.ConversationID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

type idem struct {
	owner   string
	expires time.Time
}

// Seen implements store.Store.
func (s *Store) Seen(_ context.Context, keys ...string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := map[string]string{}
	for _, k := range keys {
		if r, ok := s.idem[k]; ok && r.expires.After(now) {
			out[k] = r.owner
		}
	}
	return out, nil
}

// Complete implements store.Store.
func (s *Store) Complete(_ context.Context, cs ...store.Completion) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var skipped []int
	for i, c := range cs {
		if slices.ContainsFunc(c.Keys, func(k string) bool { r, ok := s.idem[k]; return ok && r.expires.After(now) }) {
			skipped = append(skipped, i)
			continue
		}
		for _, k := range c.Keys {
			s.idem[k] = idem{c.Owner, c.ExpiresAt}
		}
		for day, d := range c.Counts {
			s.add(day, d)
		}
		if c.Delivery != nil {
			s.log = append(s.log, store.Stamped([]store.Delivery{*c.Delivery}, now)...)
		}
	}
	if skipped != nil {
		return &store.SkippedError{Index: skipped}
	}
	return nil
}

// RecordFailure implements store.Store.
func (s *Store) RecordFailure(_ context.Context, id, _ string, _ time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[id]++
	return s.attempts[id], nil
}

// AddCounters implements store.Store.
func (s *Store) AddCounters(_ context.Context, day string, d map[string]int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(day, d)
	return nil
}

func (s *Store) add(day string, d map[string]int64) {
	if len(d) == 0 {
		return
	}
	m := s.counters[day]
	if m == nil {
		m = map[string]int64{}
		s.counters[day] = m
	}
	for k, v := range d {
		if v != 0 { // like the drivers: a zero delta creates no counter
			m[k] += v
		}
	}
}

// Counters implements store.Store.
func (s *Store) Counters(_ context.Context, day string) (map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for k, v := range s.counters[day] {
		out[k] = v
	}
	return out, nil
}

// ClaimAction implements store.Store.
func (s *Store) ClaimAction(_ context.Context, a store.Action) (bool, store.Action, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if a.At.IsZero() {
		a.At = now
	}
	for i, x := range s.actions[a.Key] {
		if x.ID != a.ID {
			continue
		}
		if !store.MayTakeOver(x, a) {
			return false, x, nil
		}
		// The lock makes the read and the write one step.
		y := x
		y.Status, y.Owner, y.Result, y.At, y.Updated = store.ActionPending, a.Owner, "", a.At, now
		s.actions[a.Key][i] = y
		return true, x, nil
	}
	a.Status, a.Result, a.Updated = store.ActionPending, "", now
	s.actions[a.Key] = append(s.actions[a.Key], a)
	return true, store.Action{}, nil
}

// FinishAction implements store.Store.
func (s *Store) FinishAction(_ context.Context, k conversation.Key, id, status, result string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.actions[k] {
		if x.ID == id {
			s.actions[k][i].Status, s.actions[k][i].Result, s.actions[k][i].Updated = status, result, s.now()
			return nil
		}
	}
	return store.ErrNotFound
}

// Action implements store.Store.
func (s *Store) Action(_ context.Context, k conversation.Key, id string) (store.Action, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.actions[k] {
		if x.ID == id {
			return x, true, nil
		}
	}
	return store.Action{}, false, nil
}

// RecordAction implements store.Store; a replaced action keeps its place.
func (s *Store) RecordAction(_ context.Context, a store.Action) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	a.Updated = now
	if a.At.IsZero() {
		a.At = now
	}
	for i, x := range s.actions[a.Key] {
		if x.ID == a.ID {
			s.actions[a.Key][i] = a
			return nil
		}
	}
	s.actions[a.Key] = append(s.actions[a.Key], a)
	return nil
}

// Actions implements store.Store.
func (s *Store) Actions(_ context.Context, k conversation.Key) ([]store.Action, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.actions[k]), nil
}

// AddDayRecord implements store.Store.
func (s *Store) AddDayRecord(_ context.Context, r store.DayRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := r.Day + "|" + r.Kind
	if s.days[k] == nil {
		s.days[k] = map[string]store.DayRecord{}
	}
	if old, ok := s.days[k][r.ID]; ok && old.Version > r.Version {
		return nil
	}
	s.days[k][r.ID] = r
	return nil
}

// DayRecords implements store.Store.
func (s *Store) DayRecords(_ context.Context, day, kind string, limit int) ([]store.DayRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.DayRecord
	for _, r := range s.days[day+"|"+kind] {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return strings.Compare(out[i].ID, out[j].ID) < 0 })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// SetMark implements store.Store.
func (s *Store) SetMark(_ context.Context, name string, t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.After(s.marks[name]) {
		s.marks[name] = t
	}
	return nil
}

// Mark implements store.Store.
func (s *Store) Mark(_ context.Context, name string) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.marks[name], nil
}
