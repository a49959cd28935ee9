// Package spool keeps webhook events durable in a blob.Bucket when the queue
// cannot take them, and puts them back on the queue later.
//
// Chatwoot does not retry a webhook, so once the webhook has answered 2xx the
// event must survive somewhere; the spool is that somewhere when SendMessage
// fails. Drain re-enqueues and deletes an object only after its send
// succeeded: delivery is at least once, and the processor deduplicates.
package spool

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"supportpipe/internal/blob"
)

// Spool is a spool in a bucket, under a key prefix.
type Spool struct {
	b      blob.Bucket
	prefix string
	now    func() time.Time
}

// New returns the spool under prefix (usually ending in "/") in b. Objects
// are named <prefix><UTC day>/<id>.json, and ids start with the UTC time, so
// a listing is oldest first.
func New(b blob.Bucket, prefix string) *Spool {
	return &Spool{b: b, prefix: prefix, now: time.Now}
}

// record is one spooled event. The body is kept as a JSON string, not as
// embedded JSON, so its bytes come back exactly as received; JSON strings
// carry any valid UTF-8.
type record struct {
	ID         string            `json:"id"`
	SpooledAt  time.Time         `json:"spooled_at"`
	Body       string            `json:"body"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Put stores an event and returns its spool id. The body must be valid UTF-8
// (the queue could not carry anything else either).
func (s *Spool) Put(ctx context.Context, body []byte, attrs map[string]string) (string, error) {
	if !utf8.Valid(body) {
		return "", errors.New("spool: put: body is not valid UTF-8")
	}
	now := s.now().UTC()
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	id := now.Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(rnd[:])
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Operators read these files; "<" is easier to read than "\u003c".
	enc.SetEscapeHTML(false)
	if err := enc.Encode(record{ID: id, SpooledAt: now, Body: string(body), Attributes: attrs}); err != nil {
		return "", fmt.Errorf("spool: put: %w", err)
	}
	key := s.prefix + now.Format(time.DateOnly) + "/" + id + ".json"
	if err := s.b.Put(ctx, key, buf.Bytes(), "application/json"); err != nil {
		return "", fmt.Errorf("spool: put: %w", err)
	}
	return id, nil
}

// stopAfter is how many sends in a row may fail before Drain gives up: by
// then the queue is most likely down, and one event that the queue refuses
// (too large, say) must not block the ones behind it.
const stopAfter = 3

// Drain sends up to max spooled events (all when max is zero or less),
// oldest first, deleting each once send has returned nil, and returns how
// many were sent. An event whose send fails stays in place, and the drain goes
// on until stopAfter sends in a row have failed. An object that is not a spool
// record is left in place too. All failures are in the error. Drains running
// at once may both send an event; the processor deduplicates.
func (s *Spool) Drain(ctx context.Context, send func(ctx context.Context, body []byte, attrs map[string]string) (string, error), max int) (int, error) {
	keys, err := s.b.List(ctx, s.prefix, 0)
	if err != nil {
		return 0, fmt.Errorf("spool: drain: %w", err)
	}
	var errs []error
	n, failed := 0, 0
	for _, key := range keys {
		if max > 0 && n >= max || failed >= stopAfter {
			break
		}
		data, err := s.b.Get(ctx, key)
		if errors.Is(err, blob.ErrNotFound) {
			continue // drained by someone else meanwhile
		}
		if err != nil {
			return n, errors.Join(append(errs, fmt.Errorf("spool: drain: %w", err))...)
		}
		var r record
		if err := json.Unmarshal(data, &r); err != nil {
			errs = append(errs, fmt.Errorf("spool: drain: %s is not a spool record: %w", key, err))
			continue
		}
		if _, err := send(ctx, []byte(r.Body), r.Attributes); err != nil {
			errs = append(errs, fmt.Errorf("spool: drain: send %s: %w", r.ID, err))
			failed++
			continue
		}
		n++
		failed = 0
		if err := s.b.Delete(ctx, key); err != nil {
			return n, errors.Join(append(errs, fmt.Errorf("spool: drain: sent %s but %w", r.ID, err))...)
		}
	}
	return n, errors.Join(errs...)
}
