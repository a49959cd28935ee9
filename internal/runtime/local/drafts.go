package local

import (
	"context"
	"errors"
	"sync"
	"time"

	"supportpipe/internal/ports/queue"
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

// Receive, DeleteBatch, ChangeVisibility, DeadLetter and ReleaseInFlight
// are the drafter's: the queue's consumer runs in the process that sends.

func (d *DraftsQueue) Receive(ctx context.Context, max int, visibility time.Duration) ([]queue.Message, error) {
	q, err := d.Queue(ctx)
	if err != nil {
		return nil, err
	}
	return q.Receive(ctx, max, visibility)
}

func (d *DraftsQueue) DeleteBatch(ctx context.Context, receipts []string) error {
	q, err := d.Queue(ctx)
	if err != nil {
		return err
	}
	return q.DeleteBatch(ctx, receipts)
}

func (d *DraftsQueue) ChangeVisibility(ctx context.Context, receipt string, v time.Duration) error {
	q, err := d.Queue(ctx)
	if err != nil {
		return err
	}
	return q.ChangeVisibility(ctx, receipt, v)
}

func (d *DraftsQueue) DeadLetter(ctx context.Context, m queue.Message, reason string, attempts int) error {
	q, err := d.Queue(ctx)
	if err != nil {
		return err
	}
	return q.DeadLetter(ctx, m, reason, attempts)
}

func (d *DraftsQueue) ReleaseInFlight(ctx context.Context) (int64, error) {
	q, err := d.Queue(ctx)
	if err != nil {
		return 0, err
	}
	return q.ReleaseInFlight(ctx)
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
