package chatwoot

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClamp(t *testing.T) {
	received := time.Date(2026, 5, 12, 9, 14, 30, 0, time.UTC)
	tests := []struct {
		name    string
		in      time.Time
		clamped bool
	}{
		{"none stays none", time.Time{}, false},
		{"ordinary", received.Add(-3 * time.Second), false},
		{"first instant of 2000", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"last instant of 1999", time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), true},
		{"epoch 1", time.Unix(1, 0).UTC(), true},
		{"year 1 but not zero", time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), true},
		{"a day ahead", received.Add(24 * time.Hour), false},
		{"a day and a nanosecond ahead", received.Add(24*time.Hour + 1), true},
		{"9999-12-31", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), true},
		{"past year 9999 in UTC", time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -5*3600)), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Time{Time: tc.in}
			got.Clamp(received)
			if !tc.clamped {
				assert.Equal(t, Time{Time: tc.in}, got)
				return
			}
			assert.Equal(t, received, got.Time)
			assert.Equal(t, tc.in, got.Reported)
		})
	}
}

func TestClampTimes(t *testing.T) {
	body := []byte(`{"event":"message_created","id":71,"content":"hi","message_type":"incoming",` +
		`"created_at":"9999-12-31T00:00:00.000Z","updated_at":"2026-05-12T09:14:27.512Z","account":{"id":7},` +
		`"conversation":{"id":9001,"labels":[],"created_at":1,"updated_at":253402214400.5,"waiting_since":0,"last_activity_at":1778577267,` +
		`"messages":[{"id":71,"message_type":0,"created_at":253402214400,"updated_at":"1970-01-01T00:00:01Z"}]}}`)
	received := time.Date(2026, 5, 12, 9, 14, 30, 0, time.UTC)
	for name, tc := range map[string]struct{ received, now, want time.Time }{
		"received":        {received, received.Add(time.Hour), received},
		"unknown receipt": {time.Time{}, received.Add(time.Hour), received.Add(time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := Decode(body)
			require.NoError(t, err)
			p.ClampTimes(tc.received, tc.now)

			m, c := p.Message, p.Message.Conversation
			for field, got := range map[string]Time{
				"created_at": m.CreatedAt, "conversation.created_at": c.CreatedAt, "conversation.updated_at": c.UpdatedAt,
				"messages[0].created_at": c.Messages[0].CreatedAt, "messages[0].updated_at": c.Messages[0].UpdatedAt,
			} {
				assert.Equal(t, tc.want, got.Time, field)
				assert.False(t, got.Reported.IsZero(), field)
			}
			assert.Equal(t, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), m.CreatedAt.Reported)
			assert.Equal(t, time.Unix(1, 0).UTC(), c.CreatedAt.Reported)

			assert.Equal(t, time.Date(2026, 5, 12, 9, 14, 27, 512e6, time.UTC), m.UpdatedAt.Time, "plausible times stay")
			assert.True(t, m.UpdatedAt.Reported.IsZero())
			assert.Equal(t, time.Unix(1778577267, 0).UTC(), c.LastActivityAt.Time)
			assert.True(t, c.WaitingSince.IsZero(), "none stays none")
		})
	}
}
