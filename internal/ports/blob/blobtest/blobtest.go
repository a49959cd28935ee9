// Package blobtest is the conformance suite for blob.Bucket drivers, so the
// spool and the reports behave the same on a directory and on S3.
package blobtest

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/blob"
)

// Run runs the suite. open must return a new, empty bucket and release it
// when t ends.
func Run(t *testing.T, open func(t *testing.T) blob.Bucket) {
	tests := []struct {
		name string
		run  func(t *testing.T, b blob.Bucket)
	}{
		{"PutGet", putGet},
		{"Overwrite", overwrite},
		{"GetMissing", getMissing},
		{"Delete", deleteObject},
		{"List", list},
		{"ListMany", listMany},
		{"InvalidKeys", invalidKeys},
		{"CancelledContext", cancelled},
		{"ConcurrentPuts", concurrentPuts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("driver panicked: %v\n%s", r, debug.Stack())
				}
			}()
			tc.run(t, open(t))
		})
	}
}

func put(t *testing.T, b blob.Bucket, key string, data []byte) {
	t.Helper()
	require.NoError(t, b.Put(t.Context(), key, data, "application/json"), "Put %s", key)
}

func putGet(t *testing.T, b blob.Bucket) {
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	tests := []struct {
		name, key, contentType string
		data                   []byte
	}{
		{"JSON", "spool/2026-11-28/20261128T102000.123456789Z-0a1b.json", "application/json",
			[]byte(`{"body":"{\"content\":\"héllo 👋 \\u003cb\\u003e\"}"}`)},
		{"binary", "bin/all-bytes", "application/octet-stream", binary},
		{"empty", "empty", "", []byte{}},
		{"large", "reports/2026/11/large.html", "text/html; charset=utf-8", bytes.Repeat([]byte("<p>report</p>\n"), 80<<10)},
		{"unicode key", "reports/Grüße 👋/daily report (1).json", "application/json", []byte(`{}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, b.Put(t.Context(), tc.key, tc.data, tc.contentType))
			got, err := b.Get(t.Context(), tc.key)
			require.NoError(t, err)
			assert.Equal(t, len(tc.data), len(got))
			assert.True(t, bytes.Equal(tc.data, got), "data must come back byte for byte")
		})
	}
}

func overwrite(t *testing.T, b blob.Bucket) {
	put(t, b, "a/b.json", []byte("first, longer value"))
	put(t, b, "a/b.json", []byte("second"))
	got, err := b.Get(t.Context(), "a/b.json")
	require.NoError(t, err)
	assert.Equal(t, "second", string(got))
	keys, err := b.List(t.Context(), "", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"a/b.json"}, keys, "one object, no leftovers")
}

func getMissing(t *testing.T, b blob.Bucket) {
	put(t, b, "dir/file", []byte("x"))
	for _, key := range []string{"nothing", "dir/nothing", "no/such/dir/file", "dir", "dir/file/below"} {
		_, err := b.Get(t.Context(), key)
		assert.ErrorIs(t, err, blob.ErrNotFound, "Get %s", key)
	}
}

func deleteObject(t *testing.T, b blob.Bucket) {
	put(t, b, "d/one", []byte("1"))
	put(t, b, "d/two", []byte("2"))
	require.NoError(t, b.Delete(t.Context(), "d/one"))
	_, err := b.Get(t.Context(), "d/one")
	assert.ErrorIs(t, err, blob.ErrNotFound)
	keys, err := b.List(t.Context(), "", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"d/two"}, keys)
	for _, key := range []string{"d/one", "never/was", "d"} {
		assert.NoError(t, b.Delete(t.Context(), key), "deleting %s, which holds no object", key)
	}
	got, err := b.Get(t.Context(), "d/two")
	require.NoError(t, err)
	assert.Equal(t, "2", string(got), "deleting the 'directory' d leaves its objects")
}

func list(t *testing.T, b blob.Bucket) {
	keys := []string{
		"spool/2026-11-27/a.json",
		"spool/2026-11-28/b.json",
		"spool/2026-11-28/c.json",
		"spool/2026-11-28.json",
		"spool2/x",
		"reports/r.json",
		"a/b", "a.c", "a-b",
	}
	for _, k := range keys {
		put(t, b, k, []byte(k))
	}
	all := slices.Clone(keys)
	slices.Sort(all)
	tests := []struct {
		prefix string
		limit  int
		want   []string
	}{
		{"", 0, all},
		{"", 3, all[:3]},
		{"a", 0, []string{"a-b", "a.c", "a/b"}},
		{"spool/", 0, []string{"spool/2026-11-27/a.json", "spool/2026-11-28.json", "spool/2026-11-28/b.json", "spool/2026-11-28/c.json"}},
		{"spool", 0, []string{"spool/2026-11-27/a.json", "spool/2026-11-28.json", "spool/2026-11-28/b.json", "spool/2026-11-28/c.json", "spool2/x"}},
		{"spool/2026-11-28/", 0, []string{"spool/2026-11-28/b.json", "spool/2026-11-28/c.json"}},
		{"spool/2026-11-28/", 1, []string{"spool/2026-11-28/b.json"}},
		{"spool/2026-11-2", 2, []string{"spool/2026-11-27/a.json", "spool/2026-11-28.json"}},
		{"spool/2026-11-28/c.json", 0, []string{"spool/2026-11-28/c.json"}},
		{"nothing/", 0, nil},
		{"spool/2026-11-28/d", 0, nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q limit %d", tc.prefix, tc.limit), func(t *testing.T) {
			got, err := b.List(t.Context(), tc.prefix, tc.limit)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// listMany lists more keys than a small page holds; drivers with pages run
// the suite with a small page size.
func listMany(t *testing.T, b blob.Bucket) {
	var keys []string
	for i := range 25 {
		keys = append(keys, fmt.Sprintf("many/%03d.json", i))
	}
	for _, k := range slices.Backward(keys) {
		put(t, b, k, []byte("{}"))
	}
	put(t, b, "other/x", []byte("{}"))
	got, err := b.List(t.Context(), "many/", 0)
	require.NoError(t, err)
	assert.Equal(t, keys, got)
	for _, limit := range []int{1, 10, 24, 25, 26} {
		got, err := b.List(t.Context(), "many/", limit)
		require.NoError(t, err)
		assert.Equal(t, keys[:min(limit, len(keys))], got, "limit %d", limit)
	}
}

func invalidKeys(t *testing.T, b blob.Bucket) {
	put(t, b, "ok/key", []byte("x"))
	for _, key := range []string{
		"", "/a", "a/", "a//b", "..", "../x", "a/../b", "a/./b", ".hidden", "a/.tmp-123",
		`a\b`, "a\x00b", "a\nb", "a\xffb", strings.Repeat("k", 1025),
	} {
		t.Run(fmt.Sprintf("%q", key), func(t *testing.T) {
			assert.ErrorIs(t, b.Put(t.Context(), key, []byte("x"), ""), blob.ErrInvalidKey, "Put")
			_, err := b.Get(t.Context(), key)
			assert.ErrorIs(t, err, blob.ErrInvalidKey, "Get")
			assert.ErrorIs(t, b.Delete(t.Context(), key), blob.ErrInvalidKey, "Delete")
		})
	}
	for _, prefix := range []string{"/", "../", "a//", ".", "ok/.."} {
		_, err := b.List(t.Context(), prefix, 0)
		assert.ErrorIs(t, err, blob.ErrInvalidKey, "List %q", prefix)
	}
	keys, err := b.List(t.Context(), "", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"ok/key"}, keys, "nothing else was stored")
}

func cancelled(t *testing.T, b blob.Bucket) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.Error(t, b.Put(ctx, "c/key", []byte("x"), ""), "Put")
	_, err := b.Get(ctx, "c/key")
	assert.Error(t, err, "Get")
	_, err = b.List(ctx, "", 0)
	assert.Error(t, err, "List")
	keys, err := b.List(t.Context(), "", 0)
	require.NoError(t, err)
	assert.Empty(t, keys, "a cancelled Put stores nothing")
}

// concurrentPuts: readers racing writers of one key see a whole object.
func concurrentPuts(t *testing.T, b blob.Bucket) {
	const writers = 8
	values := make([][]byte, writers)
	for i := range values {
		values[i] = bytes.Repeat([]byte{byte('a' + i)}, 64<<10)
	}
	put(t, b, "race/key", values[0])
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for range 5 {
				assert.NoError(t, b.Put(t.Context(), "race/key", values[i], ""))
			}
		})
		wg.Go(func() {
			for range 5 {
				got, err := b.Get(t.Context(), "race/key")
				if assert.NoError(t, err) {
					assert.True(t, slices.ContainsFunc(values, func(v []byte) bool { return bytes.Equal(v, got) }),
						"a read returns one whole written value")
				}
			}
		})
	}
	wg.Wait()
	keys, err := b.List(t.Context(), "", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"race/key"}, keys, "no temporary objects left")
}
