// Package compose is the composition root: from the settings and the
// adapters of a runtime it builds every handler and job of the pipeline,
// the same way for the Lambda functions (internal/runtime/lambdaenv) and
// the local server (internal/runtime/local). The runtimes differ only in the
// adapters they pass in; nothing here knows which one runs.
package compose

import (
	"context"

	"fmt"
	"log/slog"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ops/api"
	"supportpipe/internal/ops/health"
	"supportpipe/internal/ops/monitor"
	"supportpipe/internal/ops/report"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/pipeline/drafter"
	"supportpipe/internal/pipeline/edge"
	"supportpipe/internal/pipeline/processor"
	"supportpipe/internal/pipeline/reconcile"
	"supportpipe/internal/pipeline/retry"
	"supportpipe/internal/pipeline/spool"
	"supportpipe/internal/pipeline/stages"
	"supportpipe/internal/ports/blob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/support/anger"
	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/providers"
	"supportpipe/internal/support/drafts"
	"supportpipe/internal/support/escalation"
	"supportpipe/internal/support/sla"
	"supportpipe/internal/support/tagging"
)

// MarkLastAccepted is the store mark holding the time of the last accepted webhook.
const MarkLastAccepted = "last_accepted_webhook"

// Adapters are what a runtime gives the pipeline: where state, events and
// objects live, and how Chatwoot is reached.
type Adapters struct {
	Store  store.Store
	Queue  queue.Queue // the events queue and its DLQ
	Drafts drafts.Sender
	// Claims and Spool hold the claim-checked bodies (under claim.Prefix)
	// and the spooled events (under spool.Prefix); Reports, the reports.
	// On AWS the three are one bucket.
	Claims, Spool, Reports blob.Bucket
	// ExpireClaims says the claims bucket has no lifecycle rule (files on
	// disk), so the jobs expire what was never released.
	ExpireClaims bool
	// Chatwoot is the REST client, or rest.Offline when not live (Chatwoot).
	Chatwoot rest.Client
	Log      *slog.Logger
	Now      func() time.Time
}

// Pipeline is the assembled pipeline of one process.
type Pipeline struct {
	Settings config.Settings
	Adapters
	Claims  *claim.Check
	Spool   *spool.Spool
	Support *stages.Support
	Monitor *monitor.Monitor
	// Reconciler back-fills from Chatwoot's API; nil when not live or when
	// no account is configured, as there is nothing to ask.
	Reconciler *reconcile.Reconciler
}

// New assembles the pipeline. A runtime builds one per process (the local
// server, or one Lambda instance).
func New(s config.Settings, a Adapters) *Pipeline {
	if a.Now == nil {
		a.Now = time.Now
	}
	p := &Pipeline{Settings: s, Adapters: a,
		Monitor: &monitor.Monitor{AlertDepth: s.File.Queue.AlertDepth, EscalateDepth: s.File.Queue.EscalateDepth}}
	p.Claims = &claim.Check{Bucket: a.Claims, Prefix: claim.Prefix, Now: p.now}
	p.Spool = spool.New(a.Spool, spool.Prefix)
	p.Spool.Claims = p.Claims
	p.Spool.SetClock(p.now)
	p.Support = &stages.Support{
		Store: a.Store, Chatwoot: a.Chatwoot, SLA: p.Policy(), Drafts: a.Drafts, Log: a.Log, Now: p.now,
		Escalator: &escalation.Escalator{Store: a.Store, Chatwoot: a.Chatwoot, Config: s.File.Escalation.Config, Log: a.Log, Now: p.now},
	}
	if s.Live && s.Account > 0 {
		p.Reconciler = &reconcile.Reconciler{Chatwoot: a.Chatwoot, Store: a.Store, Queue: a.Queue, Claims: p.Claims,
			Accounts: []int64{s.Account}, Now: p.now, Log: a.Log}
	}
	return p
}

// now reads the adapters' clock at each call, so a runtime (or a test) may
// set it after New.
func (p *Pipeline) now() time.Time { return p.Adapters.Now() }

// Chatwoot builds the Chatwoot port from the settings: the REST client with
// token when live, else rest.Offline, which records the calls and seeds
// labels from st. A runtime running instances at once gives each its share
// of the rate.
func Chatwoot(s config.Settings, token string, st store.Store, instances int) (rest.Client, error) {
	if !s.Live {
		return rest.NewOffline(st), nil
	}
	if s.ChatwootURL == "" || token == "" {
		return nil, fmt.Errorf("CHATWOOT_LIVE=true needs CHATWOOT_BASE_URL and CHATWOOT_API_TOKEN")
	}
	return rest.NewHTTPClient(s.ChatwootURL, token,
		rest.Options{RatePerMinute: s.ChatwootRatePerMinute / float64(max(instances, 1)), Burst: 20})
}

// CheckTeam refuses, when live, an escalation.team_id the account lacks.
func (p *Pipeline) CheckTeam(ctx context.Context) error {
	if !p.Settings.Live {
		return nil
	}
	return p.Settings.File.Escalation.CheckTeam(ctx, p.Chatwoot, p.Settings.Account, p.Log)
}

// Policy is the first-response SLA policy of the configuration.
func (p *Pipeline) Policy() sla.Policy {
	c := p.Settings.File
	return sla.Policy{Target: c.SLA.FirstResponse, AtRiskFraction: c.SLA.AtRiskFraction,
		NextTarget: c.SLA.NextResponse, CountBots: c.SLA.CountBots, Calendar: c.Calendar}
}

// Edge builds the webhook handler, counting into counters and, if set, m;
// the runtime decides when they are written (Lambda: before each answer).
func (p *Pipeline) Edge(secrets []string, counters *stats.Buffer, m edge.Metrics) *edge.Handler {
	h := &edge.Handler{
		Verifier: chatwoot.NewVerifier(secrets, chatwoot.DefaultTolerance),
		Queue:    p.Queue, Claims: p.Claims, Spool: p.Spool, Counters: counters, Log: p.Log, Now: p.now,
		EnqueueTimeout: config.EnqueueTimeout, DefaultAccount: p.Settings.Account,
		Replays:    edge.NewReplayCache(2*chatwoot.DefaultTolerance, config.ReplayCacheSize),
		OnAccepted: func(t time.Time) { counters.Mark(MarkLastAccepted, t) },
		Deliveries: p.Store,
	}
	if m != nil {
		h.Metrics = m
	}
	return h
}

// Classifiers builds the tagger from the configured rules and loads the
// embedded anger model. Only the processor needs them: decoding the model
// costs tens of milliseconds of start-up the other functions need not pay.
func Classifiers(cfg *config.Config) (*tagging.Tagger, *anger.Detector, error) {
	t, err := tagging.New(cfg.Tags.Rules())
	if err != nil {
		return nil, nil, fmt.Errorf("tags: %w", err)
	}
	a, err := anger.New()
	if err != nil {
		return nil, nil, fmt.Errorf("anger model: %w", err)
	}
	return t, a, nil
}

// Processor builds the queue consumer with the support stage, classifying
// with tagger and scorer.
func (p *Pipeline) Processor(tagger stages.Tagger, scorer stages.Scorer, m processor.Metrics) *processor.Processor {
	p.Support.Tagger, p.Support.Anger = tagger, scorer
	return &processor.Processor{
		Store: p.Store, Queue: p.Queue, Claims: p.Claims, Stages: []processor.Stage{p.Support.Stage()},
		Log: p.Log, Now: p.now, Metrics: m, CountBots: p.Settings.File.SLA.CountBots, Concurrency: 4,
	}
}

// Health builds the checker behind /support/health; keep one per process so
// its cache is shared.
func (p *Pipeline) Health() *health.Checker {
	c := p.Settings.File
	return &health.Checker{
		TTL: c.Health.CacheTTL, Now: p.now,
		Checks: []health.Check{
			health.Chatwoot(func(ctx context.Context) error { _, err := p.Chatwoot.Profile(ctx); return err }, !p.Settings.Live),
			health.Ingest(func(ctx context.Context) (time.Time, error) { return p.Store.Mark(ctx, MarkLastAccepted) },
				c.Health.IngestQuietPeriod, p.now),
			health.Queue(p.Queue.Depth, c.Queue.AlertDepth, c.Queue.EscalateDepth),
			health.DLQ(p.Queue.DLQDepth),
			health.Store(p.Store.Ping),
			health.Spool(p.Spool.Oldest, p.now),
		},
	}
}

// API builds the /support/* handler, answering health from checker (one
// per process, so its cache is shared); token may list several,
// comma-separated.
func (p *Pipeline) API(token string, checker *health.Checker) *api.Handler {
	routes := api.TileRoutes()
	routes["/support/health"] = api.HealthRoute(checker)
	routes["/support/queue"] = api.QueueRoute(p.Store, p.Policy(), p.now)
	return &api.Handler{Store: p.Store, Token: token, Log: p.Log, Now: p.now, Routes: routes, Policy: p.Policy(),
		Offline: !p.Settings.Live, Account: p.Settings.Account}
}

// ReportSource is what the daily report reads.
func (p *Pipeline) ReportSource() report.Source {
	return report.Source{Store: p.Store, Queue: p.Queue, Policy: p.Policy(), Now: p.now}
}

// WriteReport writes day's report and returns its key.
func (p *Pipeline) WriteReport(ctx context.Context, day string) (string, error) {
	key, err := report.Write(ctx, p.ReportSource(), p.Reports, day)
	if err == nil {
		p.Log.Info("daily report written", "key", key)
	}
	return key, err
}

// Drafter builds the drafts queue's consumer: provider's suggestions
// posted in Chatwoot, the retry policy on q (the drafts queue and its DLQ),
// measurements to m (optional).
func (p *Pipeline) Drafter(provider drafting.Provider, q retry.Queue, m drafter.Metrics) *drafter.Drafter {
	d := &drafter.Drafter{Provider: provider, Chatwoot: p.Chatwoot, Store: p.Store,
		Retry: retry.Policy{Attempts: p.Store, Queue: q}, Log: p.Log, Now: p.now,
		Live: p.Settings.Live, Concurrency: DrafterConcurrency,
		// A model call may take its whole timeout before the provider
		// falls back to retrieval, which takes milliseconds.
		Timeout: p.Settings.File.Drafting.Timeout + fallbackAllowance}
	if m != nil {
		d.Metrics = m
	}
	return d
}

// fallbackAllowance is what a provider call may take beyond the model's
// timeout: the retrieval fallback, and the catalog's read of Chatwoot's
// canned responses (the client's own timeout bounds it).
const fallbackAllowance = 10 * time.Second

// DrafterConcurrency is how many draft requests of a batch one drafter
// runs at once: a model call waits seconds on the network, not on the CPU.
const DrafterConcurrency = 5

// DraftingProvider builds the configured drafting provider (the
// configuration's drafting: section) on what the runtime gives it: the
// Chatwoot client whose canned responses it draws on (the stand-in's when
// not live), and for the model providers their keys and clients.
func DraftingProvider(ctx context.Context, s config.Settings, d providers.Deps) (drafting.Provider, error) {
	return providers.New(ctx, s.File.Drafting.Config, d)
}
