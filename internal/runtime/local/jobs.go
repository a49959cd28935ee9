package local

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"supportpipe/internal/ops/report"
	"supportpipe/internal/runtime/compose"
)

// jobs runs what EventBridge schedules on AWS: every JobEvery a round of the
// jobs (compose.Pipeline.Jobs, as the sweeper runs it), and the daily
// report from 09:00 UTC.
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
func (s *Server) RunJobs(ctx context.Context) compose.Round {
	s.jobsMu.Lock()
	defer s.jobsMu.Unlock()
	r := s.Jobs(ctx, s.Now())
	s.reportIfDue(ctx)
	return r
}

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
