// Package monitor evaluates the queue alarms with the thresholds CloudWatch
// uses on AWS (depth above queue.alert_depth alert, above
// queue.escalate_depth escalate, DLQ ≥ 1) and files each crossing once for
// the daily report. The local jobs loop and the sweeper Lambda both run it,
// so the report lists the same alerts in either runtime.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"supportpipe/internal/ops/report"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store"
)

// Alarms.
const (
	QueueDepth = "queue_depth"
	DLQDepth   = "dlq_depth"
)

// Levels, in increasing severity.
const (
	LevelOK       = "ok"
	LevelAlert    = "alert"
	LevelEscalate = "escalate"
)

var levels = []string{LevelOK, LevelAlert, LevelEscalate}

// Store is what the monitor needs of the store port: day records for the
// report, and marks that keep each alarm's level across restarts and cold
// starts (store.Store satisfies it).
type Store interface {
	AddDayRecord(ctx context.Context, r store.DayRecord) error
	SetMark(ctx context.Context, name string, t time.Time) error
	Mark(ctx context.Context, name string) (time.Time, error)
}

// Depths is where the depths are read (queue.Queue satisfies it).
type Depths interface {
	Depth(ctx context.Context) (queue.Depth, error)
	DLQDepth(ctx context.Context) (queue.Depth, error)
}

// Monitor holds the level of each alarm as last filed. It is not safe for
// concurrent use: its callers run one round at a time.
type Monitor struct {
	AlertDepth, EscalateDepth int
	alarms                    map[string]*alarm // nil until read from the store
}

type alarm struct {
	level string
	// A crossing the store did not take is filed again with the time it
	// was first observed, so that its record id is the one a partial
	// write may already have used.
	unfiled   string
	unfiledAt time.Time
}

type crossing struct {
	alarm, level, from string
	value              int64
	at                 time.Time
}

// Check reads the depths from src and observes them (Observe).
func (m *Monitor) Check(ctx context.Context, st Store, src Depths, at time.Time, log *slog.Logger) (int, error) {
	q, err := src.Depth(ctx)
	if err != nil {
		return 0, fmt.Errorf("queue depth: %w", err)
	}
	dlq, err := src.DLQDepth(ctx)
	if err != nil {
		return 0, fmt.Errorf("dead-letter queue depth: %w", err)
	}
	return m.Observe(ctx, st, at, q, dlq, log)
}

// Observe evaluates depths observed at time at, and logs and files every
// alarm whose level changed since its last crossing; it returns how many it
// filed.
//
// A crossing to alert or escalate is a day record of report.AlertKind whose
// id is the alarm, the level and at's minute: observations of the same
// minute (a scheduled event delivered twice) file it under one id, which
// the store keeps once. The levels are read from the store on first use, so
// a restart with the queue still deep files nothing new.
func (m *Monitor) Observe(ctx context.Context, st Store, at time.Time, q, dlq queue.Depth, log *slog.Logger) (int, error) {
	if m.alarms == nil {
		if err := m.load(ctx, st); err != nil {
			return 0, err
		}
	}
	depth := q.Visible + q.Delayed
	ql := LevelOK
	switch {
	case depth > int64(m.EscalateDepth):
		ql = LevelEscalate
	case depth > int64(m.AlertDepth):
		ql = LevelAlert
	}
	dl := dlq.Visible + dlq.InFlight + dlq.Delayed
	dll := LevelOK
	if dl >= 1 {
		dll = LevelAlert
	}
	filed := 0
	var errs []error
	for _, c := range []crossing{{alarm: QueueDepth, level: ql, value: depth}, {alarm: DLQDepth, level: dll, value: dl}} {
		a := m.alarms[c.alarm]
		if c.level == a.level {
			a.unfiled = ""
			continue
		}
		c.from, c.at = a.level, at
		if c.level == a.unfiled {
			c.at = a.unfiledAt
		} else {
			lvl := slog.LevelWarn
			if c.level == LevelOK {
				lvl = slog.LevelInfo
			}
			log.LogAttrs(ctx, lvl, "queue alarm", slog.String("alarm", c.alarm), slog.String("level", c.level),
				slog.String("from", c.from), slog.Int64("value", c.value), slog.String("detail", m.detail(c)))
		}
		if err := m.file(ctx, st, c); err != nil {
			a.unfiled, a.unfiledAt = c.level, c.at
			errs = append(errs, err)
			continue
		}
		a.level, a.unfiled = c.level, ""
		filed++
	}
	return filed, errors.Join(errs...)
}

func (m *Monitor) detail(c crossing) string {
	if c.alarm == DLQDepth {
		return fmt.Sprintf("dead-letter queue %s: %d message(s)", c.level, c.value)
	}
	return fmt.Sprintf("events queue %s: %d waiting (alert > %d, escalate > %d)", c.level, c.value, m.AlertDepth, m.EscalateDepth)
}

// file writes the record before the level: a level the store holds has
// been reported. A return to ok is not listed by the report, so only its
// level is kept.
func (m *Monitor) file(ctx context.Context, st Store, c crossing) error {
	if c.level != LevelOK {
		r := store.DayRecord{Day: c.at.UTC().Format(time.DateOnly), Kind: report.AlertKind, ID: recordID(c.alarm, c.level, c.at),
			Data: m.detail(c), At: c.at}
		if err := st.AddDayRecord(ctx, r); err != nil {
			return fmt.Errorf("file %s %s: %w", c.alarm, c.level, err)
		}
	}
	if err := st.SetMark(ctx, markName(c.alarm, c.level), c.at); err != nil {
		return fmt.Errorf("keep %s level %s: %w", c.alarm, c.level, err)
	}
	return nil
}

// load reads each alarm's level: the one whose mark, the time it was last
// entered, is latest. Two observations of the same minute that disagreed
// leave a tie, settled for the more severe level: at worst the next round
// files a return to ok, never a second alert.
func (m *Monitor) load(ctx context.Context, st Store) error {
	alarms := map[string]*alarm{}
	for _, name := range []string{QueueDepth, DLQDepth} {
		a := &alarm{level: LevelOK}
		var latest time.Time
		for _, lvl := range levels {
			t, err := st.Mark(ctx, markName(name, lvl))
			if err != nil {
				return fmt.Errorf("read %s level: %w", name, err)
			}
			if !t.IsZero() && !t.Before(latest) {
				a.level, latest = lvl, t
			}
		}
		alarms[name] = a
	}
	m.alarms = alarms
	return nil
}

// recordID is the id of the day record of a crossing of alarm to level at
// at: the minute first, so the report lists alerts in time order.
func recordID(alarm, level string, at time.Time) string {
	return at.UTC().Truncate(time.Minute).Format("2006-01-02T15:04Z") + ":" + alarm + ":" + level
}

func markName(alarm, level string) string { return "queue_alarm:" + alarm + ":" + level }
