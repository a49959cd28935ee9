package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"supportpipe/internal/ops/report"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/sqlitestore"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/support/sla"
)

// reportDay seeds a SQLite store with what a day of `events` webhooks leaves
// behind — the counters, one SLA record per conversation (one per 20 events)
// and escalations for 10 % of them — and times rendering its report against
// only reading those records back.
func reportDay(ctx context.Context, events int) (render, read time.Duration, err error) {
	dir, err := os.MkdirTemp(os.Getenv(benchDirEnv), "report-")
	if err != nil {
		return 0, 0, err
	}
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "store.db"))
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	cfg, err := config.Parse(nil)
	if err != nil {
		return 0, 0, err
	}
	policy := sla.Policy{Target: cfg.SLA.FirstResponse, AtRiskFraction: cfg.SLA.AtRiskFraction, Calendar: cfg.Calendar}
	day := "2026-05-12"
	start, _ := time.Parse(time.DateOnly, day)
	c := map[string]int64{stats.Received: int64(events), stats.Accepted: int64(events), stats.Processed: int64(events)}
	for i := range events / 1000 {
		c[stats.Processing.Counter(time.Duration(i%200+1)*100*time.Microsecond)] += 1000
	}
	if err := st.AddCounters(ctx, day, c); err != nil {
		return 0, 0, err
	}
	convs := events / 20
	for i := range convs {
		r := sla.Record{AccountID: 7, ConversationID: int64(i + 1), Start: start.Add(time.Duration(i) * time.Second)}
		r.RespondedAt = r.Start.Add(time.Duration(i%1800) * time.Second)
		s := sla.Evaluate(policy.Target, policy.AtRiskFraction, policy.Calendar(0), r.Start, r.RespondedAt, r.RespondedAt)
		r.State, r.Due = s.State, s.DueAt
		r.BusinessSeconds = r.RespondedAt.Sub(r.Start).Seconds()
		r.WallSeconds = r.BusinessSeconds
		if err := st.AddDayRecord(ctx, store.DayRecord{Day: day, Kind: sla.DayRecordKind, ID: r.ID(), Data: r.JSON(), At: r.Start}); err != nil {
			return 0, 0, err
		}
		if i%10 == 0 {
			if err := st.AddDayRecord(ctx, store.DayRecord{Day: day, Kind: "escalation", ID: fmt.Sprintf("7:%d:angry_language", i+1), Data: "{}", At: r.Start}); err != nil {
				return 0, 0, err
			}
		}
	}
	t0 := time.Now()
	if _, err := st.DayRecords(ctx, day, sla.DayRecordKind, 10_000_000); err != nil {
		return 0, 0, err
	}
	read = time.Since(t0)
	t0 = time.Now()
	d, err := report.Build(ctx, report.Source{Store: st, Policy: policy}, day)
	if err != nil {
		return 0, 0, err
	}
	_ = report.Render(d)
	return time.Since(t0), read, nil
}
