// Package refcount shares what a process opens once per key (a database
// file, a queue's journal) among the handles that use it, and closes it
// when the last of them is done.
package refcount

import "sync"

// Registry holds values by key with the count of their users. The zero
// Registry is empty and ready to use.
type Registry[K comparable, V comparable] struct {
	mu   sync.Mutex
	held map[K]*counted[V]
}

type counted[V any] struct {
	v    V
	refs int
}

// Acquire returns the value held under k with one user more, or, when
// there is none, the value open returns, held with one user. open runs
// under the registry's lock: a key is opened once however many callers
// race for it. Nothing is held when open fails.
func (r *Registry[K, V]) Acquire(k K, open func() (V, error)) (V, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.held[k]; ok {
		c.refs++
		return c.v, nil
	}
	v, err := open()
	if err != nil {
		return v, err
	}
	if r.held == nil {
		r.held = map[K]*counted[V]{}
	}
	r.held[k] = &counted[V]{v: v, refs: 1}
	return v, nil
}

// Release counts one user of v under k less; the last one removes it and
// closes it with close, under the lock, so that an Acquire of k meanwhile
// waits and then opens it anew. Releasing a value k no longer holds does
// nothing.
func (r *Registry[K, V]) Release(k K, v V, close func(V) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.held[k]
	if !ok || c.v != v {
		return nil
	}
	c.refs--
	if c.refs > 0 {
		return nil
	}
	delete(r.held, k)
	return close(v)
}
