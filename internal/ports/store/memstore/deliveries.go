package memstore

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"

	"supportpipe/internal/ports/store"
)

// LogDeliveries implements store.DeliveryLog.
func (s *Store) LogDeliveries(_ context.Context, ds ...store.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, store.Stamped(ds, s.now())...)
	return nil
}

// Deliveries implements store.DeliveryLog: newest first, entries recorded
// at the same time in the reverse of their write order. The cursor is the
// last entry's position in the log.
func (s *Store) Deliveries(_ context.Context, q store.DeliveryQuery) (store.DeliveryPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q = q.Window(s.now())
	after := -1
	if q.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if _, serr := fmt.Sscanf(string(b), "mem:%d", &after); err != nil || serr != nil || after < 0 || after >= len(s.log) {
			return store.DeliveryPage{}, store.ErrBadCursor
		}
	}
	var idx []int
	for i, d := range s.log {
		if q.Matches(d) {
			idx = append(idx, i)
		}
	}
	order := func(i, j int) int {
		if c := s.log[j].At.Compare(s.log[i].At); c != 0 {
			return c
		}
		return cmp.Compare(j, i)
	}
	slices.SortFunc(idx, order)
	if after >= 0 {
		n, _ := slices.BinarySearchFunc(idx, after, order)
		if n < len(idx) && idx[n] == after {
			n++
		}
		idx = idx[n:]
	}
	var page store.DeliveryPage
	n := min(len(idx), q.PageSize())
	for _, i := range idx[:n] {
		page.Deliveries = append(page.Deliveries, s.log[i])
	}
	if n < len(idx) {
		// The cursor names the last entry returned.
		page.Next = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "mem:%d", idx[n-1]))
	}
	return page, nil
}
