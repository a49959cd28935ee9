// Package monitor evaluates the queue alarms of the local mode with the
// thresholds CloudWatch uses on AWS (depth > 50 alert, > 100 escalate,
// DLQ ≥ 1), reporting each crossing once instead of on every evaluation.
package monitor

import (
	"fmt"

	"supportpipe/internal/queue"
)

// Levels, in increasing severity.
const (
	LevelOK       = "ok"
	LevelAlert    = "alert"
	LevelEscalate = "escalate"
)

// Event is a change of level of one alarm.
type Event struct {
	Alarm  string `json:"alarm"` // "queue_depth" or "dlq_depth"
	Level  string `json:"level"`
	From   string `json:"from"`
	Value  int64  `json:"value"`
	Detail string `json:"detail"`
}

// Monitor remembers the current level of each alarm.
type Monitor struct {
	AlertDepth, EscalateDepth int
	levels                    map[string]string
}

// Observe evaluates the depths and returns the alarms whose level changed.
func (m *Monitor) Observe(q, dlq queue.Depth) []Event {
	if m.levels == nil {
		m.levels = map[string]string{"queue_depth": LevelOK, "dlq_depth": LevelOK}
	}
	var out []Event
	depth := q.Visible + q.Delayed
	lvl := LevelOK
	switch {
	case depth > int64(m.EscalateDepth):
		lvl = LevelEscalate
	case depth > int64(m.AlertDepth):
		lvl = LevelAlert
	}
	if e, ok := m.set("queue_depth", lvl, depth); ok {
		e.Detail = fmt.Sprintf("events queue %s: %d waiting (alert > %d, escalate > %d)", e.Level, depth, m.AlertDepth, m.EscalateDepth)
		out = append(out, e)
	}
	dl := dlq.Visible + dlq.InFlight + dlq.Delayed
	lvl = LevelOK
	if dl >= 1 {
		lvl = LevelAlert
	}
	if e, ok := m.set("dlq_depth", lvl, dl); ok {
		e.Detail = fmt.Sprintf("dead-letter queue %s: %d message(s)", e.Level, dl)
		out = append(out, e)
	}
	return out
}

func (m *Monitor) set(alarm, lvl string, v int64) (Event, bool) {
	from := m.levels[alarm]
	if from == lvl {
		return Event{}, false
	}
	m.levels[alarm] = lvl
	return Event{Alarm: alarm, Level: lvl, From: from, Value: v}, true
}
