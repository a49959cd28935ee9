package conversation

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
)

// implausibleBody is a customer message whose created_at is createdAt, in a
// conversation created at epoch 1.
func implausibleBody(id int64, createdAt string) []byte {
	return fmt.Appendf(nil, `{"event":"message_created","id":%d,"content":"hi","message_type":"incoming","created_at":%q,`+
		`"account":{"id":7},"conversation":{"id":9001,"labels":[],"created_at":1,"updated_at":1778577267.6}}`, id, createdAt)
}

func observeClamped(t *testing.T, body []byte, received time.Time) Observation {
	t.Helper()
	p, err := chatwoot.Decode(body)
	require.NoError(t, err)
	p.ClampTimes(received, time.Time{})
	o, ok := Observe(p, 7)
	require.True(t, ok)
	return o
}

func TestObserveKeepsImplausibleTimes(t *testing.T) {
	received := time.Date(2026, 5, 12, 9, 14, 30, 250e6, time.UTC)
	tests := []struct {
		name      string
		createdAt string
		reported  string // "" when the time is plausible
		at        time.Time
	}{
		{"plausible", "2026-05-12T09:14:27.512Z", "", time.Date(2026, 5, 12, 9, 14, 27, 0, time.UTC)},
		{"9999-12-31", "9999-12-31T00:00:00.000Z", "9999-12-31T00:00:00Z", received.Truncate(time.Second)},
		{"past 9999 in UTC", "9999-12-31T23:00:00-05:00", "10000-01-01T04:00:00Z", received.Truncate(time.Second)},
		{"1970", "1970-01-01T00:00:01Z", "1970-01-01T00:00:01Z", received.Truncate(time.Second)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := observeClamped(t, implausibleBody(71, tc.createdAt), received)
			assert.Equal(t, []Fact{{MessageID: 71, At: tc.at, Kind: KindCustomer}}, o.Messages)
			want := []ImplausibleTime{{Field: "conversation.created_at", Reported: "1970-01-01T00:00:01Z", Used: received}}
			if tc.reported != "" {
				want = append(want, ImplausibleTime{Field: "message.created_at", MessageID: 71, Reported: tc.reported, Used: received})
			}
			assert.Equal(t, want, o.ImplausibleTimes)
			assert.Equal(t, received, o.Snapshot.CreatedAt)

			var s State
			s.Apply(o, false)
			b, err := json.Marshal(s)
			require.NoError(t, err, "the state is stored as JSON")
			var back State
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, len(want), len(back.ImplausibleTimes))
		})
	}
}

func TestImplausibleTimesMergeAsASet(t *testing.T) {
	t0 := time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)
	var obs []Observation
	for i := range maxImplausible + 4 {
		obs = append(obs, observeClamped(t, implausibleBody(int64(100+i), "9999-12-31T00:00:00Z"), t0.Add(time.Duration(i)*time.Minute)))
	}
	var forward, backward State
	for i := range obs {
		assert.True(t, forward.Apply(obs[i], false))
		backward.Apply(obs[len(obs)-1-i], false)
	}
	assert.Equal(t, forward.ImplausibleTimes, backward.ImplausibleTimes)
	require.Len(t, forward.ImplausibleTimes, maxImplausible)
	assert.Equal(t, t0.Add(time.Duration(len(obs)-1)*time.Minute), forward.ImplausibleTimes[maxImplausible-1].Used, "the latest stay")

	again := forward.Clone()
	assert.False(t, again.Apply(obs[len(obs)-1], false), "an entry already kept changes nothing")
	assert.Equal(t, forward.ImplausibleTimes, again.ImplausibleTimes)
}
