package local

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"supportpipe/internal/ops/report"
)

// jobs runs what EventBridge schedules on AWS: every JobEvery the SLA sweep,
// the queue alarms and the spool drain; the daily report at 09:00 UTC
// (and at start, if yesterday's is missing).
func (s *Server) jobs(ctx context.Context) {
	t := time.NewTicker(s.JobEvery)
	defer t.Stop()
	for {
		s.RunJobs(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunJobs runs one round of the periodic jobs.
func (s *Server) RunJobs(ctx context.Context) {
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	if n, err := s.Triage.Sweep(ctx, 10000); err != nil {
		s.Log.Error("sla sweep", "error", err)
	} else if n > 0 {
		s.Log.Info("sla sweep", "breaches", n)
	}
	if _, err := s.Monitor.Check(ctx, s.Store, s.Queue, s.Now(), s.Log); err != nil {
		s.Log.Error("queue alarms", "error", err)
	}
	if d, err := s.Spool.Drain(ctx, s.Queue, 1000); err != nil {
		s.Log.Error("spool drain", "error", err, "sent", d.Sent, "dead_lettered", d.DeadLettered, "failed", d.Failed, "waiting", d.Waiting)
	} else if d.Sent+d.DeadLettered > 0 {
		s.Log.Info("spool drained", "sent", d.Sent, "dead_lettered", d.DeadLettered, "waiting", d.Waiting)
	}
	// The file store has no lifecycle rule: the claim check's backstop.
	if n, err := s.Claims.Expire(ctx, s.Now()); err != nil {
		s.Log.Error("claim check expiry", "error", err)
	} else if n > 0 {
		s.Log.Warn("claim check objects expired unreleased", "count", n)
	}
	s.reportIfDue(ctx)
	if s.Reconciler != nil && !s.Now().Before(s.nextReconcile) {
		s.nextReconcile = s.Now().Add(ReconcileEvery)
		res, err := s.Reconciler.Run(ctx, ReconcileWindow)
		if err != nil {
			s.Log.Error("reconcile", "error", err, "conversations", res.Conversations)
		}
		if res.Messages+res.Statuses > 0 {
			s.Log.Info("reconciled", "conversations", res.Conversations, "messages", res.Messages, "statuses", res.Statuses)
		}
	}
}

// Reconciliation runs every 15 minutes over the last hour, so a webhook that
// never arrived is back-filled within a quarter of an hour, and a missed run
// or two still overlap.
const (
	ReconcileEvery  = 15 * time.Minute
	ReconcileWindow = time.Hour
)

// reportIfDue writes yesterday's report from 09:00 UTC on, once: the file's
// existence is the record that it was written, so a server started after
// 09:00, or one whose 09:00 run failed, catches up.
func (s *Server) reportIfDue(ctx context.Context) {
	now := s.Now().UTC()
	if now.Hour() < 9 {
		return
	}
	day := report.Yesterday(now)
	if _, err := os.Stat(filepath.Join(s.Env.ReportsRoot, report.Key(day))); err == nil {
		return
	}
	if _, err := s.WriteReport(ctx, day); err != nil {
		s.Log.Error("daily report", "day", day, "error", err)
	}
}

// WriteReport writes the report for day and returns its key.
func (s *Server) WriteReport(ctx context.Context, day string) (string, error) {
	src := report.Source{Store: s.Store, Queue: s.Queue, Policy: s.Deps.Policy(),
		AlertDepth: s.Config.Queue.AlertDepth, EscalateDepth: s.Config.Queue.EscalateDepth}
	key, err := report.Write(ctx, src, s.Reports, day)
	if err == nil {
		s.Log.Info("daily report written", "key", key)
	}
	return key, err
}
