// Package blob is the port for object storage: the spool of webhook events
// the queue could not take, and the reports. Drivers live in subpackages
// (fileblob for the local mode, s3blob for AWS); blobtest is the conformance
// suite every driver must pass.
package blob

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrNotFound is returned by Get for a key that holds no object.
var ErrNotFound = errors.New("blob: not found")

// ErrInvalidKey is returned for a key that CheckKey rejects.
var ErrInvalidKey = errors.New("blob: invalid key")

// Bucket stores objects by key. Keys are "/"-separated paths; see CheckKey.
// Implementations must be safe for concurrent use.
type Bucket interface {
	// Put stores data under key, replacing what was there. Returning nil
	// means the object is durable, and a reader sees either the old object
	// or the new one, never a part.
	Put(ctx context.Context, key string, data []byte, contentType string) error
	// Get returns the object under key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// List returns up to limit keys that start with prefix (all when limit
	// is zero or less), sorted by their bytes, as S3 lists them. The prefix
	// must be empty or the start of a valid key (see CheckPrefix).
	List(ctx context.Context, prefix string, limit int) ([]string, error)
	// Delete removes the object under key; a missing object is no error.
	Delete(ctx context.Context, key string) error
}

// CheckKey reports whether key is one that every driver stores as the same
// object: valid UTF-8 of at most 1024 bytes (S3's limit), made of non-empty
// segments separated by single slashes, no segment starting with a dot (so no
// "." or ".." and nothing that a directory listing hides), no backslash and no
// control characters. The errors wrap ErrInvalidKey.
func CheckKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why) }
	switch {
	case key == "":
		return bad("empty")
	case len(key) > 1024:
		return bad("longer than 1024 bytes")
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	case strings.ContainsRune(key, '\\'):
		return bad("contains a backslash")
	case strings.ContainsFunc(key, unicode.IsControl):
		return bad("contains a control character")
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return bad("empty segment")
		}
		if seg[0] == '.' {
			return bad("segment starts with a dot")
		}
	}
	return nil
}

// CheckPrefix reports whether prefix is empty or the start of a valid key.
// The errors wrap ErrInvalidKey.
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := CheckKey(prefix + "x"); err != nil {
		return fmt.Errorf("%w %q: not the start of a valid key", ErrInvalidKey, prefix)
	}
	return nil
}
