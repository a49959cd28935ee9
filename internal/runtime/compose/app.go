// Package app assembles the handlers from their adapters. The Lambda
// functions and the local server both build through it, so they run the same
// logic and differ only in the adapters they pass in.
package compose

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ops/api"
	"supportpipe/internal/ops/health"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/pipeline/processor"
	"supportpipe/internal/pipeline/spool"
	"supportpipe/internal/pipeline/stages"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/support/anger"
	"supportpipe/internal/support/drafts"
	"supportpipe/internal/support/escalation"
	"supportpipe/internal/support/sla"
	"supportpipe/internal/support/tagging"
)

// MarkLastAccepted is the store mark holding the time of the last accepted webhook.
const MarkLastAccepted = "last_accepted_webhook"

// Deps are the adapters and settings every handler is built from.
type Deps struct {
	Config *config.Config
	Store  store.Store
	Queue  queue.Queue // the events queue and its DLQ
	// Claims holds the bodies the queue cannot carry (claim check).
	Claims   *claim.Check
	Spool    *spool.Spool
	Drafts   drafts.Sender
	Chatwoot rest.Client
	// Live is CHATWOOT_LIVE=true: Chatwoot is called, not recorded.
	Live    bool
	Tagger  stages.Tagger
	Anger   stages.Scorer
	Metrics processor.Metrics // optional
	Log     *slog.Logger
	Now     func() time.Time
}

// Classifiers builds the tagger from the configured rules and loads the
// embedded anger model.
func Classifiers(cfg *config.Config) (*tagging.Tagger, *anger.Detector, error) {
	t, err := tagging.New(cfg.Tags.Rules)
	if err != nil {
		return nil, nil, fmt.Errorf("tags: %w", err)
	}
	a, err := anger.New()
	if err != nil {
		return nil, nil, fmt.Errorf("anger model: %w", err)
	}
	return t, a, nil
}

// Policy is the first-response SLA policy of the configuration.
func (d *Deps) Policy() sla.Policy {
	return sla.Policy{Target: d.Config.SLA.FirstResponse, AtRiskFraction: d.Config.SLA.AtRiskFraction,
		NextTarget: d.Config.SLA.NextResponse, CountBots: d.Config.SLA.CountBots, Calendar: d.Config.Calendar}
}

// Triage builds the support stages and the sweeper.
func (d *Deps) Triage() *stages.Triage {
	return &stages.Triage{
		Store: d.Store, Chatwoot: d.Chatwoot, Tagger: d.Tagger, Anger: d.Anger, SLA: d.Policy(), Drafts: d.Drafts,
		Log: d.Log, Now: d.Now,
		Escalator: &escalation.Escalator{Store: d.Store, Chatwoot: d.Chatwoot, Config: d.Config.Escalation.Config, Log: d.Log, Now: d.Now},
	}
}

// Processor builds the queue consumer with the support stages.
func (d *Deps) Processor() *processor.Processor {
	return &processor.Processor{
		Store: d.Store, Queue: d.Queue, Claims: d.Claims, Stages: d.Triage().Stages(), Log: d.Log, Now: d.Now, Metrics: d.Metrics,
		CountBots: d.Config.SLA.CountBots, Concurrency: 4,
	}
}

// Health builds the checker behind /support/health; keep one per process so
// its cache is shared.
func (d *Deps) Health() *health.Checker {
	return &health.Checker{
		TTL: d.Config.Health.CacheTTL, Now: d.Now,
		Checks: []health.Check{
			health.Chatwoot(func(ctx context.Context) error { _, err := d.Chatwoot.Profile(ctx); return err }, !d.Live),
			health.Ingest(func(ctx context.Context) (time.Time, error) { return d.Store.Mark(ctx, MarkLastAccepted) },
				d.Config.Health.IngestQuietPeriod, d.Now),
			health.Queue(d.Queue.Depth, d.Config.Queue.AlertDepth, d.Config.Queue.EscalateDepth),
			health.DLQ(d.Queue.DLQDepth),
			health.Store(d.Store.Ping),
			health.Spool(d.Spool.Oldest, d.Now),
		},
	}
}

// API builds the /support/* handler.
func (d *Deps) API(token string, checker *health.Checker) *api.Handler {
	routes := api.TileRoutes()
	routes["/support/health"] = api.HealthRoute(checker)
	routes["/support/queue"] = api.QueueRoute(d.Store, d.Policy(), d.Now)
	return &api.Handler{Store: d.Store, Token: token, Log: d.Log, Now: d.Now, Routes: routes, Policy: d.Policy()}
}
