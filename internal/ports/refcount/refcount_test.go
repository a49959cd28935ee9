package refcount_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/refcount"
)

type file struct{ name string }

func TestRegistry(t *testing.T) {
	var r refcount.Registry[string, *file]
	opened, closed := 0, 0
	open := func() (*file, error) { opened++; return &file{"a"}, nil }
	closeFile := func(*file) error { closed++; return nil }

	a, err := r.Acquire("a", open)
	require.NoError(t, err)
	b, err := r.Acquire("a", open)
	require.NoError(t, err)
	assert.Same(t, a, b, "a key is opened once")
	assert.Equal(t, 1, opened)

	require.NoError(t, r.Release("a", a, closeFile))
	assert.Zero(t, closed, "a user is left")
	require.NoError(t, r.Release("a", b, closeFile))
	assert.Equal(t, 1, closed, "the last user closes it")
	require.NoError(t, r.Release("a", a, closeFile))
	assert.Equal(t, 1, closed, "a value released already is not closed again")

	c, err := r.Acquire("a", open)
	require.NoError(t, err)
	assert.NotSame(t, a, c, "opened anew after the last release")
	require.NoError(t, r.Release("a", a, closeFile))
	assert.Equal(t, 1, closed, "a stale value does not release the new one")
	require.NoError(t, r.Release("a", c, closeFile))
	assert.Equal(t, 2, closed)
}

func TestRegistryOpenFails(t *testing.T) {
	var r refcount.Registry[string, *file]
	boom := errors.New("boom")
	_, err := r.Acquire("a", func() (*file, error) { return nil, boom })
	assert.ErrorIs(t, err, boom)
	f, err := r.Acquire("a", func() (*file, error) { return &file{"a"}, nil })
	require.NoError(t, err, "nothing was held after the failure")
	assert.Equal(t, "a", f.name)
}

func TestRegistryConcurrent(t *testing.T) {
	var r refcount.Registry[string, *file]
	var opened, closed atomic.Int64
	files := make([]*file, 16)
	var wg sync.WaitGroup
	for i := range files {
		wg.Go(func() {
			var err error
			files[i], err = r.Acquire("a", func() (*file, error) { opened.Add(1); return &file{"a"}, nil })
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), opened.Load(), "opened once for all")
	for _, f := range files {
		wg.Go(func() {
			assert.NoError(t, r.Release("a", f, func(*file) error { closed.Add(1); return nil }))
		})
	}
	wg.Wait()
	assert.Equal(t, int64(1), closed.Load(), "closed once, by the last")
}
