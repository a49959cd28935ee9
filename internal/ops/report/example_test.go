package report

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/sla"
)

// example is the day the README's chart shows (docs/img/report-chart.svg,
// rewritten by TestGolden -update): a working day's traffic, quick answers
// in office hours, slow ones at lunch and at night, two customers still
// unanswered at midnight.
func example(t *testing.T) *Data {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	now := at("2026-05-13T09:00:00Z")
	st.SetClock(fixed(now))
	policy := defaultPolicy(t)
	day := "2026-05-12"
	start := at("2026-05-12T00:00:00Z")
	shape := [24]int64{12, 8, 6, 5, 6, 10, 25, 60, 140, 210, 240, 230, 190, 215, 235, 225, 200, 160, 110, 80, 60, 45, 30, 18}
	c := map[string]int64{}
	for h, n := range shape {
		// Each webhook is done 90 s after it came, so those of an hour's
		// last 90 s (1 in 40) are processed in the next one; one in 20 is
		// a duplicate, accepted and not processed again.
		accepted := 4 * n
		every := time.Hour / time.Duration(accepted)
		for i := range accepted {
			received := start.Add(time.Duration(h)*time.Hour + time.Duration(i)*every)
			e := store.Delivery{ID: fmt.Sprintf("d-%d-%d", h, i), MessageID: fmt.Sprintf("m-%d-%d", h, i), Event: "message_created",
				AccountID: 7, ConversationID: int64(h)*1000 + i%50, ReceivedAt: received, At: received.Add(90 * time.Second), Outcome: store.DeliveryProcessed}
			switch {
			case i%20 == 19:
				e.Outcome = store.DeliveryDuplicate
				c[stats.Duplicates]++
			case stats.Day(e.At) == day: // the last minute's are the next day's
				c[stats.Processed]++
			}
			require.NoError(t, st.LogDeliveries(ctx, e))
		}
		c[stats.Received] += accepted
		c[stats.Accepted] += accepted
	}
	require.NoError(t, st.AddCounters(ctx, day, c))

	// Minutes to a first answer, by hour: short-staffed at night, busy at lunch.
	wait := [24]int{22, 25, 28, 30, 26, 20, 12, 6, 4, 3, 4, 6, 14, 17, 5, 4, 4, 5, 8, 11, 13, 16, 19, 21}
	for h, n := range shape {
		for i := range n/20 + 1 {
			begin := start.Add(time.Duration(h)*time.Hour + time.Duration(i*7%60)*time.Minute)
			r := sla.Record{AccountID: 7, ConversationID: int64(h)*100 + i, Start: begin}
			if h < 23 || i == 0 {
				r.RespondedAt = begin.Add(time.Duration(wait[h]+int(i%5)-2) * time.Minute)
			}
			file(t, st, policy, r)
		}
	}
	d, err := Build(ctx, Source{Store: st, Policy: policy, Now: fixed(now)}, day)
	require.NoError(t, err)
	require.True(t, d.Hourly, fmt.Sprintf("%v", d.Hours))
	return d
}
