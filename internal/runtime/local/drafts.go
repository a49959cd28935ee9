package local

import (
	"context"
	"errors"
	"sync"

	"supportpipe/internal/ports/queue/sqlitequeue"
)

// DraftsQueue is the drafts queue (drafts.db), opened on first use. The
// queue's intake journal belongs to the process that opens it first, and
// draft requests are sent by the processor: when serve runs the processor
// in a worker process, that process sends them through the journal, which
// the webhook process, never sending one, leaves to it.
type DraftsQueue struct {
	path string
	mu   sync.Mutex
	q    *sqlitequeue.Queue
}

// Queue returns the opened queue.
func (d *DraftsQueue) Queue(ctx context.Context) (*sqlitequeue.Queue, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.q == nil {
		q, err := sqlitequeue.Open(ctx, d.path, "drafts", sqlitequeue.Options{})
		if err != nil {
			return nil, err
		}
		d.q = q
	}
	return d.q, nil
}

// Send implements drafts.Sender.
func (d *DraftsQueue) Send(ctx context.Context, body []byte, attrs map[string]string) (string, error) {
	q, err := d.Queue(ctx)
	if err != nil {
		return "", errors.Join(errors.New("open drafts queue"), err)
	}
	return q.Send(ctx, body, attrs)
}

// Close closes the queue if it was opened.
func (d *DraftsQueue) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.q == nil {
		return nil
	}
	err := d.q.Close()
	d.q = nil
	return err
}
