package compose

import (
	"context"
	"log/slog"
	"time"

	"supportpipe/internal/runtime/config"
)

// MarkReconciled is the store mark holding the slot of the last
// reconciliation, so that the local jobs loop and the sweeper Lambda (a
// new instance after a cold start included) run it on the same schedule.
const MarkReconciled = "reconciled_slot"

// Round is what one round of the periodic jobs did.
type Round struct {
	Breaches    int `json:"breaches"`     // first-response SLA breaches filed
	QueueAlarms int `json:"queue_alarms"` // queue alarm crossings filed
	// Of the spool's drain: re-enqueued, dead-lettered after their tries,
	// failed this time, still waiting, and the age of the oldest left.
	Respooled         int           `json:"respooled"`
	SpoolDeadLettered int           `json:"spool_dead_lettered"`
	SpoolFailed       int           `json:"spool_failed"`
	SpoolWaiting      int           `json:"spool_waiting"`
	SpoolOldest       time.Duration `json:"spool_oldest_ns"`
	ClaimsExpired     int           `json:"claims_expired"`
	// Reconciled says reconciliation ran; the back-filled counts follow.
	Reconciled         bool `json:"reconciled"`
	BackfilledMessages int  `json:"backfilled_messages"`
	BackfilledStatuses int  `json:"backfilled_statuses"`
	Errors             int  `json:"errors"`
}

// Jobs runs one round of what EventBridge schedules every minute on AWS and
// the local server's jobs loop runs as often: the SLA sweep, the queue
// alarms, the spool's drain, the claim check's expiry where the bucket has
// no lifecycle rule, and every ReconcileEvery a reconciliation. at is the
// round's scheduled time. A job's failure is logged and counted, and the
// others still run: the next round comes a minute later.
func (p *Pipeline) Jobs(ctx context.Context, at time.Time) Round {
	var r Round
	fail := func(job string, err error, attrs ...any) {
		r.Errors++
		p.Log.Error(job, append([]any{"error", err}, attrs...)...)
	}
	var err error
	if r.Breaches, err = p.Support.Sweep(ctx, config.SLASweepLimit); err != nil {
		fail("sla sweep", err)
	}
	if r.QueueAlarms, err = p.Monitor.Check(ctx, p.Store, p.Queue, at, p.Log); err != nil {
		fail("queue alarms", err)
	}
	d, err := p.Spool.Drain(ctx, p.Queue, config.SpoolDrainMax)
	r.Respooled, r.SpoolDeadLettered, r.SpoolFailed, r.SpoolWaiting = d.Sent, d.DeadLettered, d.Failed, d.Waiting
	if !d.Oldest.IsZero() {
		r.SpoolOldest = p.now().Sub(d.Oldest)
	}
	if err != nil {
		fail("spool drain", err, "sent", d.Sent, "dead_lettered", d.DeadLettered, "failed", d.Failed, "waiting", d.Waiting)
	} else if d.Sent+d.DeadLettered > 0 {
		p.Log.Info("spool drained", "sent", d.Sent, "dead_lettered", d.DeadLettered, "waiting", d.Waiting)
	}
	if p.ExpireClaims {
		if r.ClaimsExpired, err = p.Claims.Expire(ctx, p.now()); err != nil {
			fail("claim check expiry", err)
		} else if r.ClaimsExpired > 0 {
			p.Log.Warn("claim check objects expired unreleased", "count", r.ClaimsExpired)
		}
	}
	p.reconcile(ctx, at, &r, fail)
	return r
}

// reconcile runs reconciliation once per ReconcileEvery slot, whichever
// process or instance gets there first.
func (p *Pipeline) reconcile(ctx context.Context, at time.Time, r *Round, fail func(string, error, ...any)) {
	if p.Reconciler == nil {
		return
	}
	slot := at.UTC().Truncate(config.ReconcileEvery)
	last, err := p.Store.Mark(ctx, MarkReconciled)
	if err != nil {
		fail("reconcile", err)
		return
	}
	if !last.Before(slot) {
		return
	}
	res, err := p.Reconciler.Run(ctx, config.ReconcileWindow)
	r.Reconciled, r.BackfilledMessages, r.BackfilledStatuses = true, res.Messages, res.Statuses
	if err != nil {
		fail("reconcile", err, "conversations", res.Conversations)
	} else if res.Messages+res.Statuses > 0 {
		p.Log.LogAttrs(ctx, slog.LevelInfo, "reconciled", slog.Int("conversations", res.Conversations),
			slog.Int("messages", res.Messages), slog.Int("statuses", res.Statuses))
	}
	if err := p.Store.SetMark(ctx, MarkReconciled, slot); err != nil {
		fail("reconcile", err)
	}
}
