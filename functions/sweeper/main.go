// Command sweeper is the Lambda EventBridge runs every minute: it marks
// first-response SLA breaches on time, escalates them, re-enqueues events the
// webhook had to spool, files queue alarm crossings for the daily report,
// and every 15 minutes back-fills from Chatwoot's API what never arrived by
// webhook.
package main

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/ops/metrics"
	"supportpipe/internal/ops/monitor"
	"supportpipe/internal/pipeline/reconcile"
	"supportpipe/internal/runtime/lambdaenv"
)

func main() {
	ctx := context.Background()
	env, deps := lambdaenv.MustLoad(ctx)
	if err := env.CheckTeam(ctx, deps.Chatwoot); err != nil {
		log.Fatal(err)
	}
	tr := deps.Triage()
	m := metrics.New(os.Stdout, "sweeper")
	mon := &monitor.Monitor{AlertDepth: env.Config.Queue.AlertDepth, EscalateDepth: env.Config.Queue.EscalateDepth}
	var rec *reconcile.Reconciler
	if env.Live && env.Account > 0 {
		rec = &reconcile.Reconciler{Chatwoot: deps.Chatwoot, Store: env.Store, Queue: env.Queue, Claims: env.Claims,
			Accounts: []int64{env.Account}, Now: time.Now, Log: env.Log}
	}
	lambda.Start(func(ctx context.Context, ev events.EventBridgeEvent) (map[string]int, error) {
		breaches, err := tr.Sweep(ctx, 10000)
		if err != nil {
			return nil, err
		}
		d, err := env.Spool.Drain(ctx, env.Queue, 500)
		if err != nil {
			env.Log.Error("spool drain", "error", err, "sent", d.Sent, "dead_lettered", d.DeadLettered, "failed", d.Failed, "waiting", d.Waiting)
		}
		// The alarms on the spool read these: a failure the drain could not
		// get past, and an event waiting longer than it should.
		m.Count(metrics.SpoolFailures, int64(d.Failed))
		m.Count(metrics.SpoolDeadLetters, int64(d.DeadLettered))
		age := 0.0
		if !d.Oldest.IsZero() {
			age = time.Since(d.Oldest).Seconds()
		}
		m.Gauge(metrics.SpoolOldestAge, age)
		_ = m.Flush()
		out := map[string]int{"breaches": breaches, "respooled": d.Sent, "spool_dead_lettered": d.DeadLettered, "spool_waiting": d.Waiting}
		// The scheduled minute, not the clock: a second delivery of the
		// event files what the first did under the same record ids.
		at := ev.Time
		if at.IsZero() {
			at = time.Now()
		}
		if out["queue_alarms"], err = mon.Check(ctx, env.Store, env.Queue, at, env.Log); err != nil {
			env.Log.Error("queue alarms", "error", err)
		}
		if rec != nil && ev.Time.UTC().Minute()%15 == 0 {
			res, err := rec.Run(ctx, time.Hour)
			if err != nil {
				env.Log.Error("reconcile", "error", err)
			}
			out["backfilled_messages"], out["backfilled_statuses"] = res.Messages, res.Statuses
		}
		return out, nil
	})
}
