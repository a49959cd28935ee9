package sla

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEvaluate(t *testing.T) {
	const target, risk = 15 * time.Minute, 0.2
	// Opened at 10:00 on a Monday in New York: due 10:15, at risk from 10:12.
	const opened = "2026-06-01T10:00:00-04:00"
	tests := []struct {
		name               string
		cal                *Calendar
		opened, responded  string // responded "" for no response yet
		now                string
		want               State
		due                string // "" for none
		elapsed, remaining time.Duration
	}{
		{"pending", ny, opened, "", "2026-06-01T10:05:00-04:00", Pending, "2026-06-01T10:15:00-04:00", 5 * time.Minute, 10 * time.Minute},
		{"one second before at risk", ny, opened, "", "2026-06-01T10:11:59-04:00", Pending, "2026-06-01T10:15:00-04:00", 11*time.Minute + 59*time.Second, 3*time.Minute + time.Second},
		{"exactly 20% left", ny, opened, "", "2026-06-01T10:12:00-04:00", AtRisk, "2026-06-01T10:15:00-04:00", 12 * time.Minute, 3 * time.Minute},
		{"exactly due, no response", ny, opened, "", "2026-06-01T10:15:00-04:00", AtRisk, "2026-06-01T10:15:00-04:00", 15 * time.Minute, 0},
		{"breached by one second", ny, opened, "", "2026-06-01T10:15:01-04:00", Breached, "2026-06-01T10:15:00-04:00", 15*time.Minute + time.Second, -time.Second},
		{"met exactly at due", ny, opened, "2026-06-01T10:15:00-04:00", "2026-06-01T11:00:00-04:00", Met, "2026-06-01T10:15:00-04:00", 15 * time.Minute, 0},
		{"responded one second late", ny, opened, "2026-06-01T10:15:01-04:00", "2026-06-01T11:00:00-04:00", Breached, "2026-06-01T10:15:00-04:00", 15*time.Minute + time.Second, -time.Second},
		{"met early", ny, opened, "2026-06-01T10:03:00-04:00", "2026-06-01T12:00:00-04:00", Met, "2026-06-01T10:15:00-04:00", 3 * time.Minute, 12 * time.Minute},
		{"waiting overnight", ny, "2026-06-01T16:59:00-04:00", "", "2026-06-02T08:00:00-04:00", Pending, "2026-06-02T09:14:00-04:00", time.Minute, 14 * time.Minute},
		{"at risk over the weekend", ny, "2026-06-05T16:48:00-04:00", "", "2026-06-06T12:00:00-04:00", AtRisk, "2026-06-08T09:03:00-04:00", 12 * time.Minute, 3 * time.Minute},
		{"due at close, now after", ny, "2026-06-01T16:45:00-04:00", "", "2026-06-01T17:30:00-04:00", Breached, "2026-06-01T17:00:00-04:00", 15 * time.Minute, 0},
		{"due at close, answered next morning", ny, "2026-06-01T16:45:00-04:00", "2026-06-02T09:00:00-04:00", "2026-06-02T10:00:00-04:00", Breached, "2026-06-01T17:00:00-04:00", 15 * time.Minute, 0},
		{"response before opening", ny, opened, "2026-06-01T09:59:00-04:00", "2026-06-01T11:00:00-04:00", Met, "2026-06-01T10:15:00-04:00", 0, 15 * time.Minute},
		{"24x7 overrun", utc247, "2026-06-01T12:00:00Z", "", "2026-06-01T12:20:00Z", Breached, "2026-06-01T12:15:00Z", 20 * time.Minute, -5 * time.Minute},
		{"never open, waiting", never, "2026-06-01T12:00:00Z", "", "2027-06-01T12:00:00Z", Pending, "", 0, 15 * time.Minute},
		{"never open, answered", never, "2026-06-01T12:00:00Z", "2026-06-08T12:00:00Z", "2027-06-01T12:00:00Z", Met, "", 0, 15 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var responded time.Time
			if tc.responded != "" {
				responded = ts(tc.responded)
			}
			got := Evaluate(target, risk, tc.cal, ts(tc.opened), responded, ts(tc.now))
			assert.Equal(t, tc.want, got.State)
			if tc.due == "" {
				assert.True(t, got.DueAt.IsZero(), "due %v", got.DueAt)
			} else {
				assert.Equal(t, tc.due, format(got.DueAt, tc.due))
			}
			assert.Equal(t, tc.elapsed, got.Elapsed, "elapsed")
			assert.Equal(t, tc.remaining, got.Remaining, "remaining")
		})
	}
}

func TestDueAt(t *testing.T) {
	got, err := DueAt(berlin12, ts("2026-06-01T15:50:00+02:00"), 15*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "2026-06-08T06:05:00Z", got.UTC().Format(time.RFC3339))

	_, err = DueAt(never, ts("2026-06-01T15:50:00Z"), 15*time.Minute)
	assert.ErrorIs(t, err, ErrNeverOpen)
}

func BenchmarkDueAt(b *testing.B) {
	for _, bc := range []struct {
		name   string
		cal    *Calendar
		opened string
	}{
		{"24x7", utc247, "2026-06-01T12:00:00Z"},
		{"same day", ny, "2026-06-01T14:00:00Z"},
		{"next day", ny, "2026-06-01T20:59:00Z"},
		{"friday to monday", ny, "2026-06-05T20:50:00Z"},
		{"inbox 12 next week", berlin12, "2026-06-01T13:50:00Z"},
		{"clock change day", nyAllDay, "2026-03-08T06:50:00Z"},
	} {
		opened := ts(bc.opened)
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := DueAt(bc.cal, opened, 15*time.Minute); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
