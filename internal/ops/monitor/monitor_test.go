package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ops/report"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/runtime/config"
)

var t0 = time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)

func minute(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// logged decodes the crossings logged into b, as "alarm:from→level".
func logged(t *testing.T, b *bytes.Buffer) []string {
	t.Helper()
	var out []string
	for line := range strings.Lines(b.String()) {
		var l struct{ Msg, Alarm, From, Level string }
		require.NoError(t, json.Unmarshal([]byte(line), &l))
		if l.Msg == "queue alarm" {
			out = append(out, l.Alarm+":"+l.From+"→"+l.Level)
		}
	}
	b.Reset()
	return out
}

// alerts lists the ids of the day's alert records.
func alerts(t *testing.T, st store.Store, day string) []string {
	t.Helper()
	recs, err := st.DayRecords(context.Background(), day, report.AlertKind, 1000)
	require.NoError(t, err)
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	return ids
}

func defaults(t *testing.T) config.Queue {
	t.Helper()
	cfg, err := config.Parse(nil)
	require.NoError(t, err)
	return cfg.Queue
}

// TestCrossingsFiledOnce runs one store through a day of observations. A
// restart is a new Monitor on the same store, as a Lambda cold start or a
// local restart is.
func TestCrossingsFiledOnce(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	q := defaults(t)
	newMonitor := func() *Monitor { return &Monitor{AlertDepth: q.AlertDepth, EscalateDepth: q.EscalateDepth} }
	m := newMonitor()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))

	steps := []struct {
		name       string
		restart    bool
		at         time.Time
		depth, dlq int64
		logged     []string
		filed      []string // ids of the records this step adds
	}{
		{name: "at the threshold", at: minute(0), depth: 50},
		{name: "rise to alert", at: minute(1), depth: 51,
			logged: []string{"queue_depth:ok→alert"}, filed: []string{"2026-05-12T10:01Z:queue_depth:alert"}},
		{name: "still alert", at: minute(2), depth: 70},
		{name: "restart, queue still deep", restart: true, at: minute(3), depth: 70},
		{name: "rise to escalate", at: minute(4), depth: 101,
			logged: []string{"queue_depth:alert→escalate"}, filed: []string{"2026-05-12T10:04Z:queue_depth:escalate"}},
		{name: "duplicate invocation of the minute", restart: true, at: minute(4), depth: 150},
		{name: "back down to alert", at: minute(5), depth: 60,
			logged: []string{"queue_depth:escalate→alert"}, filed: []string{"2026-05-12T10:05Z:queue_depth:alert"}},
		{name: "back to ok, DLQ gets a message", at: minute(6), depth: 3, dlq: 1,
			logged: []string{"queue_depth:alert→ok", "dlq_depth:ok→alert"}, filed: []string{"2026-05-12T10:06Z:dlq_depth:alert"}},
		{name: "restart, DLQ still holds messages", restart: true, at: minute(7), depth: 3, dlq: 4},
		{name: "DLQ emptied", at: minute(8), logged: []string{"dlq_depth:alert→ok"}},
		{name: "restart after ok, the queue deepens again", restart: true, at: minute(9), depth: 51,
			logged: []string{"queue_depth:ok→alert"}, filed: []string{"2026-05-12T10:09Z:queue_depth:alert"}},
		{name: "restart two days later, still deep", restart: true, at: minute(9).Add(48 * time.Hour), depth: 51},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if step.restart {
				m = newMonitor()
			}
			day := step.at.Format(time.DateOnly)
			before := alerts(t, st, day)
			n, err := m.Observe(ctx, st, step.at, queue.Depth{Visible: step.depth}, queue.Depth{Visible: step.dlq}, log)
			require.NoError(t, err)
			assert.Equal(t, step.logged, logged(t, &logs), "logged")
			var added []string
			for _, id := range alerts(t, st, day) {
				if !slices.Contains(before, id) {
					added = append(added, id)
				}
			}
			assert.Equal(t, step.filed, added, "filed")
			assert.Equal(t, len(step.logged), n, "crossings filed, a return to ok included")
		})
	}
}

func TestThresholdsFromConfig(t *testing.T) {
	cfg, err := config.Parse([]byte("queue: {alert_depth: 5, escalate_depth: 8}\n"))
	require.NoError(t, err)
	st := memstore.New()
	m := &Monitor{AlertDepth: cfg.Queue.AlertDepth, EscalateDepth: cfg.Queue.EscalateDepth}
	log := slog.New(slog.DiscardHandler)
	for i, depth := range []int64{5, 6, 8, 9} {
		_, err := m.Observe(context.Background(), st, minute(i), queue.Depth{Visible: depth}, queue.Depth{}, log)
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"2026-05-12T10:01Z:queue_depth:alert", "2026-05-12T10:03Z:queue_depth:escalate"},
		alerts(t, st, "2026-05-12"))
}

// Two invocations for the same minute that overlap both see the crossing
// before either has filed it: one record all the same.
func TestOverlappingInvocationsFileOneRecord(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	log := slog.New(slog.DiscardHandler)
	a, b := &Monitor{AlertDepth: 50, EscalateDepth: 100}, &Monitor{AlertDepth: 50, EscalateDepth: 100}
	for _, m := range []*Monitor{a, b} {
		_, err := m.Observe(ctx, st, minute(0), queue.Depth{}, queue.Depth{}, log)
		require.NoError(t, err)
	}
	for _, m := range []*Monitor{a, b} {
		n, err := m.Observe(ctx, st, minute(1).Add(20*time.Second), queue.Depth{Visible: 80}, queue.Depth{}, log)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	}
	assert.Equal(t, []string{"2026-05-12T10:01Z:queue_depth:alert"}, alerts(t, st, "2026-05-12"))
}

// A duplicate of a minute that saw the queue drained leaves the marks of
// alert and ok at the same time: a restart takes alert, and the next round
// files the return to ok, not a second alert.
func TestTiedLevelsSettleWithoutASecondAlert(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	log := slog.New(slog.DiscardHandler)
	m := &Monitor{AlertDepth: 50, EscalateDepth: 100}
	for _, depth := range []int64{80, 10} {
		_, err := m.Observe(ctx, st, minute(1), queue.Depth{Visible: depth}, queue.Depth{}, log)
		require.NoError(t, err)
	}
	m = &Monitor{AlertDepth: 50, EscalateDepth: 100}
	n, err := m.Observe(ctx, st, minute(2), queue.Depth{Visible: 80}, queue.Depth{}, log)
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = m.Observe(ctx, st, minute(3), queue.Depth{Visible: 10}, queue.Depth{}, log)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "back to ok")
	assert.Equal(t, []string{"2026-05-12T10:01Z:queue_depth:alert"}, alerts(t, st, "2026-05-12"))
}

// flaky fails the next write of a kind, then behaves.
type flaky struct {
	*memstore.Store
	failRecord, failMark int
}

var errDown = errors.New("store down")

func (f *flaky) AddDayRecord(ctx context.Context, r store.DayRecord) error {
	if f.failRecord > 0 {
		f.failRecord--
		return errDown
	}
	return f.Store.AddDayRecord(ctx, r)
}

func (f *flaky) SetMark(ctx context.Context, name string, t time.Time) error {
	if f.failMark > 0 {
		f.failMark--
		return errDown
	}
	return f.Store.SetMark(ctx, name, t)
}

func TestStoreFailures(t *testing.T) {
	cases := []struct {
		name                 string
		failRecord, failMark int
	}{
		{name: "record refused", failRecord: 1},
		// The record is in; the level is not. The retry must not file the
		// crossing under the minute it retries at.
		{name: "level refused after the record", failMark: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := &flaky{Store: memstore.New(), failRecord: tc.failRecord, failMark: tc.failMark}
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			m := &Monitor{AlertDepth: 50, EscalateDepth: 100}
			n, err := m.Observe(ctx, st, minute(1), queue.Depth{Visible: 80}, queue.Depth{}, log)
			require.ErrorIs(t, err, errDown)
			assert.Zero(t, n)
			n, err = m.Observe(ctx, st, minute(2), queue.Depth{Visible: 90}, queue.Depth{}, log)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			assert.Equal(t, []string{"queue_depth:ok→alert"}, logged(t, &logs), "logged once")
			assert.Equal(t, []string{"2026-05-12T10:01Z:queue_depth:alert"}, alerts(t, st, "2026-05-12"))

			m = &Monitor{AlertDepth: 50, EscalateDepth: 100}
			n, err = m.Observe(ctx, st, minute(3), queue.Depth{Visible: 90}, queue.Depth{}, log)
			require.NoError(t, err)
			assert.Zero(t, n, "the level was kept")
		})
	}
}

// depths is a queue whose depths are given.
type depths struct {
	q, dlq queue.Depth
	err    error
}

func (d depths) Depth(context.Context) (queue.Depth, error)    { return d.q, d.err }
func (d depths) DLQDepth(context.Context) (queue.Depth, error) { return d.dlq, d.err }

func TestCheckReadsTheQueue(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	log := slog.New(slog.DiscardHandler)
	m := &Monitor{AlertDepth: 50, EscalateDepth: 100}
	_, err := m.Check(ctx, st, depths{err: errDown}, minute(0), log)
	require.ErrorIs(t, err, errDown)
	// Waiting counts visible and delayed messages; the DLQ counts all it holds.
	n, err := m.Check(ctx, st, depths{q: queue.Depth{Visible: 30, Delayed: 21, InFlight: 500}, dlq: queue.Depth{InFlight: 1}}, minute(1), log)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, []string{"2026-05-12T10:01Z:dlq_depth:alert", "2026-05-12T10:01Z:queue_depth:alert"}, alerts(t, st, "2026-05-12"))
}

// The daily report lists what this path files, in time order, and no
// return to ok.
func TestReportListsFiledAlerts(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	log := slog.New(slog.DiscardHandler)
	m := &Monitor{AlertDepth: 50, EscalateDepth: 100}
	for i, d := range []struct{ depth, dlq int64 }{{63, 0}, {120, 0}, {10, 2}, {10, 0}} {
		_, err := m.Observe(ctx, st, minute(i*30).Add(15*time.Second), queue.Depth{Visible: d.depth}, queue.Depth{Visible: d.dlq}, log)
		require.NoError(t, err)
	}
	d, err := report.Build(ctx, report.Source{Store: st}, "2026-05-12")
	require.NoError(t, err)
	var lines []string
	for line := range strings.Lines(string(report.Render(d))) {
		if strings.HasPrefix(line, "- Queue alert") {
			lines = append(lines, line)
		}
	}
	assert.Equal(t, []string{
		"- Queue alert at 10:00: events queue alert: 63 waiting (alert > 50, escalate > 100)\n",
		"- Queue alert at 10:30: events queue escalate: 120 waiting (alert > 50, escalate > 100)\n",
		"- Queue alert at 11:00: dead-letter queue alert: 2 message(s)\n",
	}, lines)
}
