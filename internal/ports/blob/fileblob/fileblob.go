// Package fileblob implements blob.Bucket on a local directory, for the local
// mode. A key maps to a file, its slashes to subdirectories.
//
// Put writes a temporary file next to the target, syncs it, renames it over
// the target and syncs the directory: a reader sees the old or the new object,
// and after Put returns the object survives a crash. Temporary files start
// with a dot, which blob.CheckKey forbids in keys, so they never show up as
// objects; one left by a crash is ignored. Files carry no content type, so
// the one given to Put is not kept. A key cannot name both an object and the
// "directory" of other objects ("a" and "a/b"), which S3 would allow.
package fileblob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"supportpipe/internal/ports/blob"
	"supportpipe/internal/ports/private"
)

// Bucket is a blob.Bucket in a directory.
type Bucket struct {
	root string
}

var _ blob.Bucket = (*Bucket)(nil)

// New returns a bucket in dir, creating the directory if needed. What it
// creates is readable by the owner only, whatever the umask: objects 0600,
// folders 0700 (the spool holds customer messages). An existing dir, and
// what is already in it, keep their modes: dir may be a folder the bucket
// shares, such as the working directory reports are written under.
func New(dir string) (*Bucket, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fileblob: %w", err)
	}
	if err := os.MkdirAll(root, private.Dir); err != nil {
		return nil, fmt.Errorf("fileblob: %w", err)
	}
	return &Bucket{root: root}, nil
}

// NewPrivate is New for a dir that holds nothing but the bucket, such as a
// folder in the local data dir: an existing dir and everything in it lose
// their group and other permissions (folders 0700, files 0600), so that an
// install an earlier version or a user left readable by others is fixed
// when it is opened.
func NewPrivate(dir string) (*Bucket, error) {
	b, err := New(dir)
	if err != nil {
		return nil, err
	}
	if err := private.TightenTree(b.root); err != nil {
		return nil, fmt.Errorf("fileblob: %w", err)
	}
	return b, nil
}

func (b *Bucket) path(key string) (string, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", err
	}
	return filepath.Join(b.root, filepath.FromSlash(key)), nil
}

// Put implements blob.Bucket.
func (b *Bucket) Put(ctx context.Context, key string, data []byte, _ string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fileblob: put %s: %w", key, err)
	}
	p, err := b.path(key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := b.mkdirs(dir); err != nil {
		return fmt.Errorf("fileblob: put %s: %w", key, err)
	}
	if err := writeAtomic(dir, p, data); err != nil {
		return fmt.Errorf("fileblob: put %s: %w", key, err)
	}
	return nil
}

func writeAtomic(dir, p string, data []byte) error {
	// CreateTemp makes the file 0600 whatever the umask; the rename keeps
	// that mode, and replaces an object left looser rather than rewriting it.
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// mkdirs creates dir and its missing parents below the root, syncing each
// parent so that the new directory entries are as durable as the file.
func (b *Bucket) mkdirs(dir string) error {
	if dir == b.root {
		return nil
	}
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := b.mkdirs(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, private.Dir); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// missing reports whether err means there is no file at the path: nothing
// there, a directory there, or a file where a parent directory would be.
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOTDIR)
}

// Get implements blob.Bucket.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fileblob: get %s: %w", key, err)
	}
	p, err := b.path(key)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if missing(err) {
		return nil, fmt.Errorf("fileblob: get %s: %w", key, blob.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("fileblob: get %s: %w", key, err)
	}
	return data, nil
}

// List implements blob.Bucket. It walks the directory under the prefix's
// last slash; the whole listing is sorted before limit applies, because a
// directory walk does not visit keys in byte order ("a/b" comes after "a.c").
func (b *Bucket) List(ctx context.Context, prefix string, limit int) ([]string, error) {
	if err := blob.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	start := b.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = filepath.Join(b.root, filepath.FromSlash(prefix[:i]))
	}
	var keys []string
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && missing(err) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == start {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(b.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fileblob: list %s: %w", prefix, err)
	}
	slices.Sort(keys)
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	return keys, nil
}

// Delete implements blob.Bucket. Emptied directories stay: removing them
// would race with a Put creating a file in them.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fileblob: delete %s: %w", key, err)
	}
	p, err := b.path(key)
	if err != nil {
		return err
	}
	// A directory is no object: removing an empty one would race with a Put.
	if fi, err := os.Lstat(p); missing(err) || err == nil && fi.IsDir() {
		return nil
	}
	if err := os.Remove(p); err != nil && !missing(err) {
		return fmt.Errorf("fileblob: delete %s: %w", key, err)
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("fileblob: delete %s: %w", key, err)
	}
	return nil
}
