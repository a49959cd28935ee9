// Package local is the all-in-one local mode: the webhook and API handlers
// behind net/http with synthesized API Gateway events, processor loops that
// feed the processor the messages they receive from the embedded queue, and
// the background jobs (SLA sweep, queue monitoring, spool drain, daily report). Only
// adapters differ from AWS; every handler is the Lambda one, built by compose.
package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"supportpipe/internal/apigw"
	"supportpipe/internal/ops/api"
	"supportpipe/internal/ops/health"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/drafter"
	"supportpipe/internal/pipeline/edge"
	"supportpipe/internal/pipeline/processor"
	"supportpipe/internal/pipeline/stages"
	"supportpipe/internal/ports/blob/fileblob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqlitequeue"
	"supportpipe/internal/ports/store/sqlitestore"
	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/support/drafting/bedrock"
	"supportpipe/internal/support/drafting/providers"
)

// Classifiers are the text models the support stage uses.
type Classifiers struct {
	Tagger stages.Tagger
	Anger  stages.Scorer
}

// Server is the local pipeline: the composed pipeline on local adapters,
// behind net/http, with a processor loop and the jobs loop.
type Server struct {
	*compose.Pipeline
	Env      Config
	Store    *sqlitestore.Store
	Queue    *sqlitequeue.Queue
	Drafts   *DraftsQueue
	Counters *stats.Buffer
	Ingest   *edge.Handler
	// Processor is nil for a server opened without classifiers (one-shot
	// commands), which then neither serves nor processes.
	Processor *processor.Processor
	// Drafter consumes the drafts queue; nil when Processor is.
	Drafter *drafter.Drafter
	API     *api.Handler
	// Checker answers /support/health; its cache lives as long as the server.
	Checker *health.Checker
	// jobsMu serialises rounds of the periodic jobs (RunJobs): the jobs
	// loop's and an operator's (a test's) would share the alarm levels.
	jobsMu sync.Mutex

	// Workers is the number of concurrent processor loops.
	Workers int
	// Spawn, if set, makes Serve run the processor loops and the jobs in a
	// child process, the command it returns, which must call Work on a
	// Server opened like this one (worker.go). Linux only; elsewhere they
	// run in this process.
	Spawn func() *exec.Cmd
	// Visibility is how long a received batch stays hidden; it exceeds
	// store.Lease so a crashed worker's effects are taken over on redelivery.
	Visibility time.Duration
	// Poll is the idle wait between empty receives.
	Poll time.Duration
	// JobEvery is the period of the background jobs (1 min).
	JobEvery time.Duration
	// ReadTimeout bounds how long a client may take to send a request.
	ReadTimeout time.Duration
	// Now is the server's clock; tests may set it before the server starts.
	Now func() time.Time
}

// Open builds the server on the data dir: local adapters (SQLite store and
// queues, files for objects and reports), then the same composition as on
// AWS.
func Open(ctx context.Context, env Config, cls Classifiers, log *slog.Logger) (*Server, error) {
	s := &Server{Env: env, Workers: 2, Visibility: 2 * time.Minute, Poll: 50 * time.Millisecond,
		JobEvery: time.Minute, ReadTimeout: 10 * time.Second, Now: time.Now}
	now := func() time.Time { return s.Now() }
	var err error
	if s.Store, err = sqlitestore.Open(ctx, filepath.Join(env.DataDir, "store.db")); err != nil {
		return nil, err
	}
	if s.Queue, err = sqlitequeue.Open(ctx, filepath.Join(env.DataDir, "queue.db"), "events", sqlitequeue.Options{}); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	// Drafts live in their own file: each draft request is a durable send,
	// and sharing the events file's one connection would put those fsyncs
	// in front of webhook acknowledgements.
	s.Drafts = &DraftsQueue{path: filepath.Join(env.DataDir, "drafts.db")}
	// It is opened on first use; an install left readable by others is
	// fixed now all the same.
	if err := sqlitequeue.Tighten(s.Drafts.path, "drafts"); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	a := compose.Adapters{Store: s.Store, Queue: s.Queue, Drafts: s.Drafts, ExpireClaims: true, Log: log, Now: now}
	if a.Spool, err = fileblob.NewPrivate(filepath.Join(env.DataDir, "spool")); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	if a.Claims, err = fileblob.NewPrivate(filepath.Join(env.DataDir, "claims")); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	if a.Reports, err = fileblob.New(env.ReportsRoot); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	// One process: the whole rate allowance is its own.
	if a.Chatwoot, err = compose.Chatwoot(env.Settings, env.ChatwootToken, s.Store, 1); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.Pipeline = compose.New(env.Settings, a)
	if err := s.CheckTeam(ctx); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.Counters = stats.NewBuffer(s.Store)
	s.Ingest = s.Edge(env.WebhookSecrets, s.Counters, nil)
	s.Ingest.Queue = edgeQueue(s.Ingest.Queue)
	if cls.Tagger != nil {
		s.Processor = s.Pipeline.Processor(cls.Tagger, cls.Anger, nil)
		provider, err := compose.DraftingProvider(ctx, env.Settings,
			providers.Deps{Chatwoot: s.Chatwoot, OpenAIKey: env.OpenAIKey, Bedrock: bedrock.Open, Log: log})
		if err != nil {
			return nil, errors.Join(err, s.Close())
		}
		s.Drafter = s.Pipeline.Drafter(provider, s.Drafts, nil)
	}
	s.Checker = s.Health()
	s.API = s.Pipeline.API(env.APIToken, s.Checker)
	return s, nil
}

// Close releases the databases.
func (s *Server) Close() error {
	var errs []error
	if s.Queue != nil {
		errs = append(errs, s.Queue.Close())
	}
	if s.Drafts != nil {
		errs = append(errs, s.Drafts.Close())
	}
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	return errors.Join(errs...)
}

// Handler is the HTTP surface: the same paths as behind API Gateway.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	webhook := apigw.HTTP(s.Ingest.Handle, edge.MaxBody, func() {
		day := stats.Day(s.Now())
		s.Counters.Add(day, stats.Received, 1)
		s.Counters.Add(day, stats.Rejected, 1)
		s.Counters.Add(day, stats.RejectedPrefix+"timeout", 1)
	})
	mux.Handle("/webhooks/chatwoot", webhook)
	mux.Handle("/webhooks/chatwoot/{account_id}", webhook)
	mux.Handle("/support/", apigw.HTTP(s.API.Handle, 0, nil))
	return mux
}

// Recover makes the messages a killed predecessor held visible at once. Call
// it only from the process that will consume the queues.
func (s *Server) Recover(ctx context.Context) error {
	n, err := s.Queue.ReleaseInFlight(ctx)
	if n > 0 {
		s.Log.Info("recovered in-flight messages", "count", n)
	}
	if err != nil || s.Drafter == nil {
		return err
	}
	if n, err = s.Drafts.ReleaseInFlight(ctx); n > 0 {
		s.Log.Info("recovered in-flight draft requests", "count", n)
	}
	return err
}

// consumers starts the queues' loops: Workers on the events queue, one on
// the drafts queue (the drafter runs a batch's requests concurrently).
func (s *Server) consumers(ctx context.Context, wg *sync.WaitGroup) {
	for range s.Workers {
		wg.Go(func() { s.processLoop(ctx) })
	}
	if s.Drafter != nil {
		wg.Go(func() { s.draftLoop(ctx) })
	}
}

// Run serves on the configured address until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.Env.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.Env.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on an existing listener. On cancellation it shuts down
// gracefully: stop accepting, finish in-flight requests and batches, flush.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler: s.Handler(),
		// Slow-loris protection: a client must send headers and body promptly.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       s.ReadTimeout,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { s.Counters.Run(bg, 200*time.Millisecond) })
	if s.spawnable() {
		wg.Go(func() { s.superviseWorker(bg) })
	} else {
		wg.Go(func() { s.jobs(bg) })
		s.consumers(bg, &wg)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.Log.Info("serving", "addr", ln.Addr().String(), "chatwoot_live", s.Env.Live)

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

// processLoop and draftLoop are the local event source mappings of the
// events and drafts queues.
func (s *Server) processLoop(ctx context.Context) { s.loop(ctx, "processor", s.ProcessOnce) }

func (s *Server) draftLoop(ctx context.Context) { s.loop(ctx, "drafter", s.DraftOnce) }

func (s *Server) loop(ctx context.Context, name string, once func(context.Context, int) (int, error)) {
	for ctx.Err() == nil {
		n, err := once(ctx, 10)
		if err != nil && ctx.Err() == nil {
			s.Log.Error(name+" loop", "error", err)
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(s.Poll):
			}
		}
	}
}

// ProcessOnce receives a batch of events, runs the processor on it, and
// deletes what it did not report as failed — after making the batch's
// results durable. It returns how many messages it received.
func (s *Server) ProcessOnce(ctx context.Context, max int) (int, error) {
	return s.consume(ctx, s.Queue, s.Processor, max)
}

// DraftOnce is ProcessOnce for the drafts queue and the drafter.
func (s *Server) DraftOnce(ctx context.Context, max int) (int, error) {
	return s.consume(ctx, s.Drafts, s.Drafter, max)
}

// source is a queue a loop consumes.
type source interface {
	Receive(ctx context.Context, max int, visibility time.Duration) ([]queue.Message, error)
	DeleteBatch(ctx context.Context, receipts []string) error
}

// consumer is what a loop feeds: it returns the ids of the messages to retry.
type consumer interface {
	Process(ctx context.Context, msgs []queue.Message) (failed []string)
}

func (s *Server) consume(ctx context.Context, q source, c consumer, max int) (int, error) {
	msgs, err := q.Receive(ctx, max, s.Visibility)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	// A batch in flight finishes even during shutdown; its messages would
	// otherwise wait out the visibility timeout.
	work := context.WithoutCancel(ctx)
	failed := map[string]bool{}
	for _, id := range c.Process(work, msgs) {
		failed[id] = true
	}
	var done []string
	for _, m := range msgs {
		if !failed[m.ID] {
			done = append(done, m.ReceiptHandle)
		}
	}
	if err := s.Store.Sync(work); err != nil {
		return len(msgs), err
	}
	if err := q.DeleteBatch(work, done); err != nil {
		return len(msgs), fmt.Errorf("delete: %w", err)
	}
	return len(msgs), nil
}

// Drained reports whether the events queue has nothing visible or in flight.
func (s *Server) Drained(ctx context.Context) (bool, error) {
	d, err := s.Queue.Depth(ctx)
	if err != nil {
		return false, err
	}
	return d.Visible == 0 && d.InFlight == 0 && d.Delayed == 0, nil
}

// DraftsDrained reports whether the drafts queue has nothing visible or in
// flight. It opens the queue: call it from the process that consumes it.
func (s *Server) DraftsDrained(ctx context.Context) (bool, error) {
	q, err := s.Drafts.Queue(ctx)
	if err != nil {
		return false, err
	}
	d, err := q.Depth(ctx)
	if err != nil {
		return false, err
	}
	return d.Visible == 0 && d.InFlight == 0 && d.Delayed == 0, nil
}
