// Package local is the all-in-one local mode: the webhook and API handlers
// behind net/http with synthesized API Gateway events, a processor loop that
// feeds them SQS events built from the embedded queue, and the background
// jobs. Only adapters differ from AWS; every handler is the Lambda one.
package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"supportpipe/internal/api"
	"supportpipe/internal/apigw"
	"supportpipe/internal/chatwoot"
	"supportpipe/internal/ingest"
	"supportpipe/internal/processor"
	"supportpipe/internal/queue/sqlitequeue"
	"supportpipe/internal/stats"
	"supportpipe/internal/store/sqlitestore"
)

// Server is the local pipeline.
type Server struct {
	Config    Config
	Log       *slog.Logger
	Store     *sqlitestore.Store
	Queue     *sqlitequeue.Queue
	Recorder  *stats.Recorder
	Ingest    *ingest.Handler
	Processor *processor.Processor
	API       *api.Handler

	// Workers is the number of concurrent processor loops.
	Workers int
	// Visibility is how long a received batch stays hidden (the processor
	// function's timeout × 6 on AWS).
	Visibility time.Duration
	// Poll is the idle wait between empty receives.
	Poll time.Duration
}

// Open builds the server on the data dir.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	st, err := sqlitestore.Open(ctx, filepath.Join(cfg.DataDir, "store.db"))
	if err != nil {
		return nil, err
	}
	q, err := sqlitequeue.Open(ctx, filepath.Join(cfg.DataDir, "queue.db"), "events", sqlitequeue.Options{})
	if err != nil {
		st.Close()
		return nil, err
	}
	s := &Server{Config: cfg, Log: log, Store: st, Queue: q, Recorder: stats.NewRecorder(st),
		Workers: 4, Visibility: 30 * time.Second, Poll: 50 * time.Millisecond}
	s.Ingest = &ingest.Handler{
		Verifier: chatwoot.NewVerifier(cfg.WebhookSecrets, chatwoot.DefaultTolerance),
		Queue:    q, Counters: s.Recorder, Log: log, Now: time.Now,
		EnqueueTimeout: 2 * time.Second, DefaultAccount: cfg.DefaultAccount,
	}
	s.Processor = &processor.Processor{Store: st, Queue: q, Log: log, Now: time.Now, Concurrency: 1}
	s.API = &api.Handler{Store: st, Token: cfg.APIToken, Log: log, Now: time.Now}
	return s, nil
}

// Close releases the databases.
func (s *Server) Close() error {
	return errors.Join(s.Queue.Close(), s.Store.Close())
}

// Handler is the HTTP surface: the same paths as behind API Gateway.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	webhook := apigw.HTTP(s.Ingest.Handle, ingest.MaxBody)
	mux.Handle("/webhooks/chatwoot", webhook)
	mux.Handle("/webhooks/chatwoot/{account_id}", webhook)
	mux.Handle("/support/", apigw.HTTP(s.API.Handle, 0))
	return mux
}

// Run serves on the configured address until ctx ends, then shuts down
// gracefully: stop accepting, finish in-flight requests and batches, flush.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.Config.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on an existing listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler: s.Handler(),
		// Slow-loris protection: a client must send headers and body promptly.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.Recorder.Run(bg, 200*time.Millisecond) }()
	for range max(s.Workers, 1) {
		wg.Add(1)
		go func() { defer wg.Done(); s.processLoop(bg) }()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.Log.Info("serving", "addr", ln.Addr().String())

	select {
	case <-ctx.Done():
	case err := <-errc:
		stopBG()
		wg.Wait()
		return err
	}
	s.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	stopBG()
	wg.Wait()
	return err
}

// processLoop is the local event source mapping: receive a batch, invoke the
// processor with an SQSEvent, delete what it did not report as failed.
func (s *Server) processLoop(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := s.ProcessOnce(ctx, 10)
		if err != nil && ctx.Err() == nil {
			s.Log.Error("processor loop", "error", err)
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(s.Poll):
			}
		}
	}
}

// ProcessOnce runs one batch and returns how many messages it received.
func (s *Server) ProcessOnce(ctx context.Context, max int) (int, error) {
	msgs, err := s.Queue.Receive(ctx, max, s.Visibility)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
	for i, m := range msgs {
		ev.Records[i] = processor.Record(m)
	}
	// A batch in flight finishes even during shutdown; its messages would
	// otherwise wait out the visibility timeout.
	resp, err := s.Processor.Handle(context.WithoutCancel(ctx), ev)
	if err != nil {
		return len(msgs), fmt.Errorf("processor: %w", err)
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var done []string
	for _, m := range msgs {
		if !failed[m.ID] {
			done = append(done, m.ReceiptHandle)
		}
	}
	if err := s.Store.Sync(context.WithoutCancel(ctx)); err != nil {
		return len(msgs), err
	}
	if err := s.Queue.DeleteBatch(context.WithoutCancel(ctx), done); err != nil {
		return len(msgs), fmt.Errorf("delete: %w", err)
	}
	return len(msgs), nil
}

// Drained reports whether the queue has nothing visible or in flight.
func (s *Server) Drained(ctx context.Context) (bool, error) {
	d, err := s.Queue.Depth(ctx)
	if err != nil {
		return false, err
	}
	return d.Visible == 0 && d.InFlight == 0 && d.Delayed == 0, nil
}
