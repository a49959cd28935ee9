// Package claim sends event bodies that the queue cannot carry by claim
// check: the body goes to the blob store first, and the queue message
// carries its key. An email of a few hundred KiB of HTML makes a Chatwoot
// body of over 1 MiB (SQS's limit for body and attributes together), and a
// valid JSON body may hold characters SQS refuses (U+FFFE, U+FFFF, raw
// control characters); both are authentic webhooks that must be kept.
//
// The edge, the spool's drain and reconciliation send through Check.Send;
// the processor reads the body back with Check.Body and deletes the object
// with Check.Release once the event is complete. The bucket's lifecycle
// (longer than the DLQ's retention) is only the backstop for objects whose
// message was lost after a crash between the two writes.
package claim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"supportpipe/internal/ports/blob"
	"supportpipe/internal/ports/queue"
)

// Attr is the message attribute that names the object holding the body.
const Attr = "claim_check"

// Prefix is where the bodies are kept in the bucket; the stack's lifecycle
// rule and grants are scoped to it.
const Prefix = "claims/"

// Retention is how long an object outlives its message at most: the DLQ
// keeps a dead letter 14 days, and a redrive must still find the body.
const Retention = 21 * 24 * time.Hour

// SendFunc sends one message (queue.Queue's Send, or SendDeadLetter with
// its reason bound).
type SendFunc func(ctx context.Context, body []byte, attrs map[string]string) (string, error)

// Check is the claim check on a bucket, under a key prefix.
type Check struct {
	Bucket blob.Bucket
	// Prefix starts every key (usually "claims/"); the day after it lets
	// a lifecycle rule or an operator find old objects by listing.
	Prefix string
	Now    func() time.Time
}

// ticket is the body of a claim message: what an operator reading the DLQ
// needs to find and check the object.
type ticket struct {
	Key    string `json:"key"`
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Send sends body with attrs through send. A message the queue cannot
// carry (queue.ErrUnfit) is sent again as a claim: the body is stored
// first, so the message never names an object that is not there. It
// reports whether the body went by claim.
func (c *Check) Send(ctx context.Context, send SendFunc, body []byte, attrs map[string]string) (id string, claimed bool, err error) {
	id, err = send(ctx, body, attrs)
	if !errors.Is(err, queue.ErrUnfit) {
		return id, false, err
	}
	if attrs[Attr] != "" {
		return "", false, err // a claim that does not fit: its attributes are at fault
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	sum := sha256.Sum256(body)
	t := ticket{Key: c.Prefix + now().UTC().Format(time.DateOnly) + "/" + uuid.NewString(), Bytes: len(body), SHA256: hex.EncodeToString(sum[:])}
	if err := c.Bucket.Put(ctx, t.Key, body, "application/json"); err != nil {
		return "", false, fmt.Errorf("claim check: store body: %w", err)
	}
	tb, _ := json.Marshal(map[string]ticket{Attr: t})
	with := make(map[string]string, len(attrs)+1)
	for k, v := range attrs {
		with[k] = v
	}
	with[Attr] = t.Key
	id, err = send(ctx, tb, with)
	if err != nil {
		// The object stays for the lifecycle rule: deleting it here could
		// race a send that failed on our side but reached the queue.
		return "", false, fmt.Errorf("claim check: send ticket: %w", err)
	}
	return id, true, nil
}

// Claimed reports whether a message's body is in the bucket.
func Claimed(attrs map[string]string) bool { return attrs[Attr] != "" }

// ErrGone is returned by Body when the object is missing: its event was
// completed by an earlier delivery of the message (Release ran), or the
// object expired.
var ErrGone = errors.New("claim check: body no longer stored")

// Body returns the event body of a message: the message's own, or the
// object its claim names, checked against the ticket.
func (c *Check) Body(ctx context.Context, body []byte, attrs map[string]string) ([]byte, error) {
	key := attrs[Attr]
	if key == "" {
		return body, nil
	}
	var t map[string]ticket
	if err := json.Unmarshal(body, &t); err != nil || t[Attr].Key != key {
		return nil, fmt.Errorf("claim check: message body is not the ticket of %s", key)
	}
	data, err := c.Bucket.Get(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrGone, key)
	}
	if err != nil {
		return nil, fmt.Errorf("claim check: read %s: %w", key, err)
	}
	sum := sha256.Sum256(data)
	if len(data) != t[Attr].Bytes || hex.EncodeToString(sum[:]) != t[Attr].SHA256 {
		return nil, fmt.Errorf("claim check: %s holds %d bytes that do not match the ticket", key, len(data))
	}
	return data, nil
}

// Release deletes the object of a completed event's message, if any.
func (c *Check) Release(ctx context.Context, attrs map[string]string) error {
	key := attrs[Attr]
	if key == "" {
		return nil
	}
	if err := c.Bucket.Delete(ctx, key); err != nil {
		return fmt.Errorf("claim check: release %s: %w", key, err)
	}
	return nil
}

// Expire deletes the objects stored on days older than Retention before
// now, for drivers without a lifecycle rule (the local file store); on S3
// the bucket's lifecycle does it. It returns how many it deleted.
func (c *Check) Expire(ctx context.Context, now time.Time) (int, error) {
	keys, err := c.Bucket.List(ctx, c.Prefix, 0)
	if err != nil {
		return 0, fmt.Errorf("claim check: expire: %w", err)
	}
	cutoff := now.UTC().Add(-Retention).Format(time.DateOnly)
	n := 0
	for _, k := range keys {
		day := k[len(c.Prefix):]
		if len(day) < len(time.DateOnly) || day[:len(time.DateOnly)] >= cutoff {
			break // keys list oldest day first
		}
		if err := c.Bucket.Delete(ctx, k); err != nil {
			return n, fmt.Errorf("claim check: expire: %w", err)
		}
		n++
	}
	return n, nil
}
