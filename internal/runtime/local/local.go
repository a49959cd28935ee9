// Package local is the all-in-one local mode: the webhook and API handlers
// behind net/http with synthesized API Gateway events, a processor loop that
// feeds them SQS events built from the embedded queue, and the background
// jobs (SLA sweep, queue monitoring, spool drain, daily report). Only
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

	"github.com/aws/aws-lambda-go/events"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ops/api"
	"supportpipe/internal/ops/health"
	"supportpipe/internal/ops/monitor"
	"supportpipe/internal/ops/report"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/pipeline/edge"
	"supportpipe/internal/pipeline/processor"
	"supportpipe/internal/pipeline/reconcile"
	"supportpipe/internal/pipeline/spool"
	"supportpipe/internal/pipeline/stages"
	"supportpipe/internal/ports/blob/fileblob"
	"supportpipe/internal/ports/queue/sqlitequeue"
	"supportpipe/internal/ports/store/sqlitestore"
	"supportpipe/internal/runtime/apigw"
	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/runtime/config"
)

// Classifiers are the text models the triage stages use.
type Classifiers struct {
	Tagger stages.Tagger
	Anger  stages.Scorer
}

// Server is the local pipeline.
type Server struct {
	Env       Config
	Config    *config.Config
	Log       *slog.Logger
	Store     *sqlitestore.Store
	Queue     *sqlitequeue.Queue
	Drafts    *DraftsQueue
	Spool     *spool.Spool
	Claims    *claim.Check
	Reports   report.Bucket
	Recorder  *stats.Recorder
	Deps      *compose.Deps
	Ingest    *edge.Handler
	Processor *processor.Processor
	API       *api.Handler
	Health    *health.Checker
	Triage    *stages.Triage
	Monitor   *monitor.Monitor
	// Reconciler back-fills from Chatwoot's API; nil in mock mode, where
	// there is no Chatwoot to ask.
	Reconciler *reconcile.Reconciler
	// jobsMu serialises rounds of the periodic jobs (RunJobs): the jobs
	// loop's and an operator's (a test's) would share the alarm levels and
	// the reconciliation schedule.
	jobsMu        sync.Mutex
	nextReconcile time.Time

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
	Now         func() time.Time
}

// Open builds the server on the data dir.
func Open(ctx context.Context, env Config, cfg *config.Config, cls Classifiers, log *slog.Logger) (*Server, error) {
	s := &Server{Env: env, Config: cfg, Log: log, Workers: 2, Visibility: 2 * time.Minute, Poll: 50 * time.Millisecond,
		JobEvery: time.Minute, ReadTimeout: 10 * time.Second, Now: time.Now,
		Monitor: &monitor.Monitor{AlertDepth: cfg.Queue.AlertDepth, EscalateDepth: cfg.Queue.EscalateDepth}}
	var err error
	if s.Store, err = sqlitestore.Open(ctx, filepath.Join(env.DataDir, "store.db")); err != nil {
		return nil, err
	}
	qpath := filepath.Join(env.DataDir, "queue.db")
	if s.Queue, err = sqlitequeue.Open(ctx, qpath, "events", sqlitequeue.Options{}); err != nil {
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
	spoolDir, err := fileblob.NewPrivate(filepath.Join(env.DataDir, "spool"))
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	claimsDir, err := fileblob.NewPrivate(filepath.Join(env.DataDir, "claims"))
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	s.Claims = &claim.Check{Bucket: claimsDir, Prefix: claim.Prefix, Now: func() time.Time { return s.Now() }}
	s.Spool = spool.New(spoolDir, spool.Prefix)
	s.Spool.Claims = s.Claims
	s.Spool.SetClock(func() time.Time { return s.Now() })
	if s.Reports, err = fileblob.New(env.ReportsRoot); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	client, err := chatwootClient(env, s.Store)
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	if env.Live {
		if err := cfg.Escalation.CheckTeam(ctx, client, env.DefaultAccount, log); err != nil {
			return nil, errors.Join(err, s.Close())
		}
	}
	s.Recorder = stats.NewRecorder(s.Store)
	now := func() time.Time { return s.Now() }
	s.Deps = &compose.Deps{Config: cfg, Store: s.Store, Queue: s.Queue, Claims: s.Claims, Spool: s.Spool, Drafts: s.Drafts, Chatwoot: client, Live: env.Live,
		Tagger: cls.Tagger, Anger: cls.Anger, Log: log, Now: now}
	s.Ingest = &edge.Handler{
		Verifier: chatwoot.NewVerifier(env.WebhookSecrets, chatwoot.DefaultTolerance),
		Queue:    edgeQueue(s.Queue), Claims: s.Claims, Spool: s.Spool, Counters: s.Recorder, Log: log, Now: now,
		EnqueueTimeout: 2 * time.Second, DefaultAccount: env.DefaultAccount,
		Replays:    edge.NewReplayCache(2*chatwoot.DefaultTolerance, 100_000),
		OnAccepted: func(t time.Time) { s.Recorder.Mark(compose.MarkLastAccepted, t) },
	}
	s.Triage = s.Deps.Triage()
	s.Processor = s.Deps.Processor()
	s.Health = s.Deps.Health()
	s.API = s.Deps.API(env.APIToken, s.Health)
	if env.Live && env.DefaultAccount > 0 {
		s.Reconciler = &reconcile.Reconciler{Chatwoot: client, Store: s.Store, Queue: s.Queue, Claims: s.Claims,
			Accounts: []int64{env.DefaultAccount}, Now: now, Log: log}
	}
	return s, nil
}

func chatwootClient(env Config, st *sqlitestore.Store) (rest.Client, error) {
	if !env.Live {
		return rest.NewRecorder(st), nil
	}
	if env.ChatwootURL == "" || env.ChatwootToken == "" {
		return nil, errors.New("CHATWOOT_LIVE=true needs CHATWOOT_BASE_URL and CHATWOOT_API_TOKEN")
	}
	return rest.NewHTTPClient(env.ChatwootURL, env.ChatwootToken, rest.Options{})
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
		s.Recorder.Add(day, stats.Received, 1)
		s.Recorder.Add(day, stats.Rejected, 1)
		s.Recorder.Add(day, stats.RejectedPrefix+"timeout", 1)
	})
	mux.Handle("/webhooks/chatwoot", webhook)
	mux.Handle("/webhooks/chatwoot/{account_id}", webhook)
	mux.Handle("/support/", apigw.HTTP(s.API.Handle, 0, nil))
	return mux
}

// Recover makes the messages a killed predecessor held visible at once. Call
// it only from the process that will consume the queue.
func (s *Server) Recover(ctx context.Context) error {
	n, err := s.Queue.ReleaseInFlight(ctx)
	if n > 0 {
		s.Log.Info("recovered in-flight messages", "count", n)
	}
	return err
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
	wg.Go(func() { s.Recorder.Run(bg, 200*time.Millisecond) })
	if s.spawnable() {
		wg.Go(func() { s.superviseWorker(bg) })
	} else {
		wg.Go(func() { s.jobs(bg) })
		for range s.Workers {
			wg.Go(func() { s.processLoop(bg) })
		}
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

// processLoop is the local event source mapping.
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

// ProcessOnce receives a batch, invokes the processor with an SQSEvent, and
// deletes what it did not report as failed — after making the batch's
// results durable. It returns how many messages it received.
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
	work := context.WithoutCancel(ctx)
	resp, err := s.Processor.Handle(work, ev)
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
	if err := s.Store.Sync(work); err != nil {
		return len(msgs), err
	}
	if err := s.Queue.DeleteBatch(work, done); err != nil {
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
