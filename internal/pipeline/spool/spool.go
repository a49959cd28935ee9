// Package spool keeps webhook events durable in a blob.Bucket when the queue
// cannot take them, and puts them back on the queue later.
//
// Chatwoot does not retry a webhook, so once the webhook has answered 2xx the
// event must survive somewhere; the spool is that somewhere when SendMessage
// fails. Drain re-enqueues and deletes an object only after its send
// succeeded: delivery is at least once, and the processor deduplicates.
//
// Nothing in the spool expires: an acknowledged event leaves it only when it
// is on the queue or in the DLQ. One event the queue keeps refusing must not
// hold the others back either: each failure pushes that event's next try
// further out, and after MaxAttempts failures it goes to the DLQ with the
// last error, while the queue is shown to work meanwhile.
package spool

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"time"
	"unicode/utf8"

	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/ports/blob"
	"supportpipe/internal/ports/queue"
)

// Defaults of the retry policy of spooled events.
const (
	DefaultMaxAttempts = 10
	DefaultBackoff     = time.Minute
	maxBackoff         = 15 * time.Minute
	// stopAfter is how many sends in a row may fail before Drain asks the
	// queue whether it is up at all (Target.Depth); if not, the drain stops
	// and blames no event.
	stopAfter = 3
	// idLayout starts every id, so keys list oldest first and tell their
	// spooling time.
	idLayout = "20060102T150405.000000000Z"
)

// Prefix is where the spool is kept in the bucket; the stack's grants are
// scoped to it.
const Prefix = "spool/"

// Target is where drained events go: the events queue and its DLQ.
type Target interface {
	Send(ctx context.Context, body []byte, attrs map[string]string) (string, error)
	SendDeadLetter(ctx context.Context, body []byte, attrs map[string]string, reason string) (string, error)
	Depth(ctx context.Context) (queue.Depth, error)
}

// Spool is a spool in a bucket, under a key prefix.
type Spool struct {
	// Claims, if set, carries bodies the queue cannot take (claim check).
	Claims *claim.Check
	// MaxAttempts is how many failed sends send an event to the DLQ.
	MaxAttempts int
	// Backoff is the wait after an event's first failure; it doubles with
	// each further failure, up to 15 minutes.
	Backoff time.Duration

	b      blob.Bucket
	prefix string
	now    func() time.Time
}

// New returns the spool under prefix (usually ending in "/") in b. Objects
// are named <prefix><UTC day>/<id>.json, and ids start with the UTC time, so
// a listing is oldest first.
func New(b blob.Bucket, prefix string) *Spool {
	return &Spool{b: b, prefix: prefix, now: time.Now, MaxAttempts: DefaultMaxAttempts, Backoff: DefaultBackoff}
}

// SetClock makes the spool read time from now (tests and the local mode's
// settable clock).
func (s *Spool) SetClock(now func() time.Time) { s.now = now }

// record is one spooled event. The body is kept as a JSON string, not as
// embedded JSON, so its bytes come back exactly as received; a body that is
// not valid UTF-8 (an authentic one kept for review) is kept in base64.
type record struct {
	ID         string            `json:"id"`
	SpooledAt  time.Time         `json:"spooled_at"`
	Body       string            `json:"body,omitempty"`
	BodyBytes  []byte            `json:"body_base64,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// Failed sends so far, and when the next may be tried.
	Attempts    int       `json:"attempts,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

func (r *record) body() []byte {
	if r.BodyBytes != nil {
		return r.BodyBytes
	}
	return []byte(r.Body)
}

func encode(r record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Operators read these files; "<" is easier to read than "\u003c".
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Put stores an event and returns its spool id.
func (s *Spool) Put(ctx context.Context, body []byte, attrs map[string]string) (string, error) {
	now := s.now().UTC()
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	id := now.Format(idLayout) + "-" + hex.EncodeToString(rnd[:])
	r := record{ID: id, SpooledAt: now, Attributes: attrs}
	if utf8.Valid(body) {
		r.Body = string(body)
	} else {
		r.BodyBytes = body
	}
	data, err := encode(r)
	if err != nil {
		return "", fmt.Errorf("spool: put: %w", err)
	}
	key := s.prefix + now.Format(time.DateOnly) + "/" + id + ".json"
	if err := s.b.Put(ctx, key, data, "application/json"); err != nil {
		return "", fmt.Errorf("spool: put: %w", err)
	}
	return id, nil
}

// Drained is the outcome of one Drain.
type Drained struct {
	Sent         int // on the queue, or in the DLQ for events kept as invalid
	DeadLettered int // gave up after MaxAttempts, or unreadable: in the DLQ
	Failed       int // sends that failed this time
	Waiting      int // left in the spool, their next try not yet due or not reached
	// Oldest is when the oldest event left in the spool was spooled; zero
	// when the spool is empty.
	Oldest time.Time
}

// Drain sends up to max due spooled events (all when max is zero or less),
// oldest first, deleting each once it is on the queue (or, for an event
// kept as an invalid payload, in the DLQ). A failed send is the event's
// fault only while the queue is shown to work: another send succeeded, or
// the queue answers Depth; then the event waits its backoff, and after
// MaxAttempts failures goes to the DLQ. When the queue is down, the drain
// stops after a few failures and blames no one. Drains running at once may
// both send an event; the processor deduplicates.
func (s *Spool) Drain(ctx context.Context, t Target, max int) (Drained, error) {
	var out Drained
	keys, err := s.b.List(ctx, s.prefix, 0)
	if err != nil {
		return out, fmt.Errorf("spool: drain: %w", err)
	}
	var errs []error
	// Failures wait for the verdict on the queue: a later send that
	// succeeds, or a Depth that answers, shows the queue works, and then
	// the failed events are to blame.
	var pending []failure
	blameAll := func() {
		for _, f := range pending {
			if err := s.blame(ctx, t, f, &out); err != nil {
				errs = append(errs, err)
			}
		}
		pending = pending[:0]
	}
	queueUp := func() bool { _, err := t.Depth(ctx); return err == nil }
	inARow := 0
	now := s.now()
	for i, key := range keys {
		if max > 0 && out.Sent+out.DeadLettered >= max {
			out.Waiting += len(keys) - i
			break
		}
		if inARow >= stopAfter {
			if !queueUp() {
				out.Waiting += len(keys) - i
				break
			}
			blameAll()
			inARow = 0
		}
		data, err := s.b.Get(ctx, key)
		if errors.Is(err, blob.ErrNotFound) {
			continue // drained by someone else meanwhile
		}
		if err != nil {
			out.Waiting += len(keys) - i
			return out, errors.Join(append(errs, fmt.Errorf("spool: drain: %w", err))...)
		}
		var r record
		if err := json.Unmarshal(data, &r); err != nil || r.ID == "" {
			// Not a record this package wrote: keep the bytes for review.
			r = record{Body: string(data), Attributes: map[string]string{"spool_key": key}, LastError: "not a spool record"}
			if !utf8.Valid(data) {
				r.Body, r.BodyBytes = "", data
			}
			r.Attempts = s.maxAttempts()
		}
		if r.Attempts < s.maxAttempts() && r.NextAttempt.After(now) {
			out.Waiting++
			continue
		}
		if r.Attempts >= s.maxAttempts() {
			if err := s.deadLetter(ctx, t, key, r); err != nil {
				errs = append(errs, err)
				out.Waiting++
				continue
			}
			out.DeadLettered++
			continue
		}
		if err := s.send(ctx, t, r); err != nil {
			errs = append(errs, fmt.Errorf("spool: drain: send %s: %w", r.ID, err))
			pending = append(pending, failure{key: key, r: r, err: err})
			out.Failed++
			out.Waiting++
			inARow++
			continue
		}
		blameAll()
		inARow = 0
		out.Sent++
		if err := s.b.Delete(ctx, key); err != nil {
			return out, errors.Join(append(errs, fmt.Errorf("spool: drain: sent %s but %w", r.ID, err))...)
		}
	}
	if len(pending) > 0 && queueUp() {
		blameAll()
	}
	if out.Waiting > 0 {
		if out.Oldest, err = s.Oldest(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

type failure struct {
	key string
	r   record
	err error
}

// blame counts a failed send against its event: it waits its backoff, or
// goes to the DLQ after MaxAttempts.
func (s *Spool) blame(ctx context.Context, t Target, f failure, out *Drained) error {
	r := f.r
	r.Attempts++
	r.LastError = f.err.Error()
	if r.Attempts >= s.maxAttempts() {
		if err := s.deadLetter(ctx, t, f.key, r); err != nil {
			return err
		}
		out.Waiting--
		out.DeadLettered++
		return nil
	}
	r.NextAttempt = s.now().Add(s.backoff(r.Attempts))
	data, err := encode(r)
	if err == nil {
		err = s.b.Put(ctx, f.key, data, "application/json")
	}
	if err != nil {
		return fmt.Errorf("spool: drain: record the failure of %s: %w", r.ID, err)
	}
	return nil
}

// send puts a spooled event where it belongs: the queue, or the DLQ for an
// authentic payload the edge kept as invalid.
func (s *Spool) send(ctx context.Context, t Target, r record) error {
	to := t.Send
	if r.Attributes[queue.AttrInvalid] != "" {
		to = func(ctx context.Context, body []byte, attrs map[string]string) (string, error) {
			return t.SendDeadLetter(ctx, body, attrs, queue.InvalidPayload)
		}
	}
	return s.through(ctx, to, r.body(), r.Attributes)
}

// deadLetter gives up on a spooled event: it goes to the DLQ with the last
// error, and leaves the spool.
func (s *Spool) deadLetter(ctx context.Context, t Target, key string, r record) error {
	reason := "spool: " + r.LastError
	err := s.through(ctx, func(ctx context.Context, body []byte, attrs map[string]string) (string, error) {
		return t.SendDeadLetter(ctx, body, attrs, reason)
	}, r.body(), r.Attributes)
	if err != nil {
		return fmt.Errorf("spool: drain: dead-letter %s: %w", key, err)
	}
	if err := s.b.Delete(ctx, key); err != nil {
		return fmt.Errorf("spool: drain: dead-lettered %s but %w", key, err)
	}
	return nil
}

func (s *Spool) through(ctx context.Context, send claim.SendFunc, body []byte, attrs map[string]string) error {
	if s.Claims != nil {
		_, _, err := s.Claims.Send(ctx, send, body, attrs)
		return err
	}
	_, err := send(ctx, body, attrs)
	return err
}

// Oldest returns when the oldest spooled event was spooled, or zero when
// the spool is empty. It lists one key.
func (s *Spool) Oldest(ctx context.Context) (time.Time, error) {
	keys, err := s.b.List(ctx, s.prefix, 1)
	if err != nil {
		return time.Time{}, fmt.Errorf("spool: oldest: %w", err)
	}
	if len(keys) == 0 {
		return time.Time{}, nil
	}
	// The key's name tells the spooling time. A foreign object has no
	// time of its own: it is as old as anything can be, so it shows.
	name := path.Base(keys[0])
	if len(name) < len(idLayout) {
		return time.Unix(0, 0).UTC(), nil
	}
	t, err := time.Parse(idLayout, name[:len(idLayout)])
	if err != nil {
		return time.Unix(0, 0).UTC(), nil
	}
	return t, nil
}

func (s *Spool) maxAttempts() int {
	if s.MaxAttempts > 0 {
		return s.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (s *Spool) backoff(attempts int) time.Duration {
	b := s.Backoff
	if b <= 0 {
		b = DefaultBackoff
	}
	for i := 1; i < attempts && b < maxBackoff; i++ {
		b *= 2
	}
	return min(b, maxBackoff)
}
