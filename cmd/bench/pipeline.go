package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"supportpipe/internal/pipeline/processor"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/runtime/local"
)

type nopQueue struct{}

func (nopQueue) ChangeVisibility(context.Context, string, time.Duration) error { return nil }
func (nopQueue) DeadLetter(context.Context, queue.Message, string, int) error  { return nil }

// pipelineCost returns the per-message CPU time of the processor against an
// in-memory store, and of json.Unmarshal of the same payload into any.
func pipelineCost() (pipe, base time.Duration) {
	p := &processor.Processor{Store: memstore.New(), Queue: nopQueue{}, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: time.Now}
	body, _ := payload()
	r := testing.Benchmark(func(b *testing.B) {
		msgs := make([]queue.Message, b.N)
		for i := range msgs {
			body, delivery := payload()
			msgs[i] = queue.Message{ID: delivery, ReceiptHandle: delivery, Body: body,
				Attributes: map[string]string{queue.AttrDelivery: delivery, queue.AttrAccount: "7"}, ReceiveCount: 1, SentAt: time.Now()}
		}
		b.ResetTimer()
		for i := range b.N {
			if failed := p.Process(context.Background(), msgs[i:i+1]); len(failed) > 0 {
				b.Fatal("processing failed")
			}
		}
	})
	d := testing.Benchmark(func(b *testing.B) {
		for range b.N {
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	return time.Duration(r.NsPerOp()), time.Duration(d.NsPerOp())
}

// drainRate fills the local queue and times the local processor loop until
// every message is stored.
func drainRate(ctx context.Context, log *slog.Logger, n int) (float64, error) {
	// Filled first, then drained by the loop below, in this process.
	_, srv, stop, err := startLocal(ctx, log, 0)
	if err != nil {
		return 0, err
	}
	defer stop()
	for range n {
		body, delivery := payload()
		if _, err := srv.Queue.Send(ctx, body, map[string]string{queue.AttrDelivery: delivery, queue.AttrAccount: "7"}); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	if err := drain(ctx, srv); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func drain(ctx context.Context, srv *local.Server) error {
	errc := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				got, err := srv.ProcessOnce(ctx, 10)
				if err != nil || got == 0 {
					errc <- err
					return
				}
			}
		}()
	}
	var first error
	for range 4 {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}
