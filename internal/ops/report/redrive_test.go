package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/processor"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqlitequeue"
	"supportpipe/internal/ports/store/memstore"
)

// failing fails its first runs, as Chatwoot answering 503 would.
type failing struct{ left atomic.Int32 }

func (f *failing) Name() string { return "failing" }
func (f *failing) Run(context.Context, *processor.Event) error {
	if f.left.Add(-1) >= 0 {
		return errors.New("chatwoot answered 503")
	}
	return nil
}

// TestRedrivenDeadLetterIsRecovered follows one webhook that failed its
// three attempts, through the report of its day before and after an
// operator redrove it the next morning and it was processed: the day's
// figures then count it delivered.
func TestRedrivenDeadLetterIsRecovered(t *testing.T) {
	ctx := context.Background()
	// The day is today's: memstore expires idempotency records by the
	// system clock, which a day in the past would outrun.
	day0 := time.Now().UTC().Truncate(24 * time.Hour)
	day, next := stats.Day(day0), stats.Day(day0.Add(24*time.Hour))
	var clock atomic.Pointer[time.Time]
	set := func(d time.Duration) { t := day0.Add(d); clock.Store(&t) }
	now := func() time.Time { return *clock.Load() }
	set(10*time.Hour + 5*time.Second)
	q, err := sqlitequeue.Open(ctx, filepath.Join(t.TempDir(), "q.db"), "events", sqlitequeue.Options{Now: now})
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	st := memstore.New()
	stage := &failing{}
	stage.left.Store(3)
	p := &processor.Processor{Store: st, Queue: q, Stages: []processor.Stage{stage}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: now, Backoff: []time.Duration{0}}
	body, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "chatwoot", "02_message_created_incoming.json"))
	require.NoError(t, err)
	_, err = q.Send(ctx, body, map[string]string{queue.AttrDelivery: "d1", queue.AttrAccount: "7", queue.AttrReceivedAt: day0.Add(10 * time.Hour).Format(time.RFC3339Nano)})
	require.NoError(t, err)
	drain := func() {
		var d queue.Depth
		waitfor.Until(t, func() bool {
			msgs, err := q.Receive(ctx, 10, time.Minute)
			require.NoError(t, err)
			failed := map[string]bool{}
			for _, id := range p.Process(ctx, msgs) {
				failed[id] = true
			}
			for _, m := range msgs {
				if !failed[m.ID] {
					require.NoError(t, q.Delete(ctx, m.ReceiptHandle))
				}
			}
			d, err = q.Depth(ctx)
			require.NoError(t, err)
			return len(msgs) == 0 && d.Visible+d.InFlight+d.Delayed == 0
		}, "the events queue drained (depth %s)", func() string { return fmt.Sprintf("%+v", d) })
	}
	drain()
	src := Source{Store: st, Queue: q, Policy: defaultPolicy(t), Now: now}

	set(32 * time.Hour)
	before, err := Build(ctx, src, day)
	require.NoError(t, err)
	md := string(Render(before))
	assert.Equal(t, [3]int64{1, 0, 1}, [3]int64{before.DeadLettered, before.Recovered, before.StillDead}, "dead-lettered, recovered, still in DLQ")
	require.NotNil(t, before.DeliveryPct)
	assert.Zero(t, *before.DeliveryPct)
	assert.Contains(t, md, "- Dead letters: dead-lettered 1, recovered 0, still in DLQ 1.\n")
	assert.Contains(t, md, "- 1 message(s) in the dead-letter queue")
	assert.Contains(t, md, "check dead letters")

	dls, err := q.ListDeadLetters(ctx, 10)
	require.NoError(t, err)
	require.Len(t, dls, 1)
	set(32*time.Hour + 30*time.Minute)
	n, err := q.Redrive(ctx, dls[0].ID)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	msgs, err := q.Receive(ctx, 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Empty(t, p.Process(ctx, msgs))
	require.Empty(t, p.Process(ctx, msgs), "a redelivery (its delete lost) of the recovered message")
	require.NoError(t, q.Delete(ctx, msgs[0].ReceiptHandle))

	set(33 * time.Hour)
	after, err := Build(ctx, src, day)
	require.NoError(t, err)
	md = string(Render(after))
	assert.Equal(t, [3]int64{1, 1, 0}, [3]int64{after.DeadLettered, after.Recovered, after.StillDead}, "counted once, on the day it was received")
	require.NotNil(t, after.DeliveryPct)
	assert.InDelta(t, 100, *after.DeliveryPct, 1e-9)
	assert.Contains(t, md, "- Dead letters: dead-lettered 1, recovered 1, still in DLQ 0.\n")
	assert.Contains(t, md, "- Delivery success: 100.00 % (target 99.9 %) — on target\n")
	assert.Contains(t, md, "- Events queue: 0 waiting, 0 in flight\n- Dead-letter queue: 0\n")
	assert.Contains(t, md, "## Needs attention\n\nNothing needs attention.\n")
	assert.Equal(t, int64(1), after.Counters[stats.Received], "received once")
	assert.Equal(t, int64(1), after.Counters[stats.Accepted])

	c, err := st.Counters(ctx, next)
	require.NoError(t, err)
	assert.Equal(t, int64(1), c[stats.Processed], "processed on the day it was")
	assert.Zero(t, c[stats.Recovered]+c[stats.DeadLettered])

	// The chart, from the delivery log: accepted once, in the hour it came,
	// though it was dead-lettered and then processed after a redrive;
	// processed in the hour that happened, on the next day.
	require.True(t, after.Hourly, after.HourlyNote)
	var accepted, processed int64
	for _, h := range after.Hours {
		accepted, processed = accepted+h.Accepted, processed+h.Processed
	}
	assert.Equal(t, [2]int64{1, 1}, [2]int64{after.Hours[10].Accepted, accepted}, "accepted once, at 10:00")
	assert.Zero(t, processed, "not processed that day")
	nextDay, err := Build(ctx, src, next)
	require.NoError(t, err)
	require.True(t, nextDay.Hourly, nextDay.HourlyNote)
	assert.Equal(t, int64(1), nextDay.Hours[8].Processed, "processed the next day at 08:30")
	for h, hr := range nextDay.Hours {
		assert.Zero(t, hr.Accepted, "nothing came the next day (%02d:00)", h)
	}
}
