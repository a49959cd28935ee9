package sla

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/conversation"
)

func TestTrackNextResponse(t *testing.T) {
	allDay, err := ParseInterval("00:00-24:00")
	require.NoError(t, err)
	var week Week
	for d := range week {
		week[d] = []Interval{allDay}
	}
	cal, err := NewCalendar(time.UTC, week, nil)
	require.NoError(t, err)
	p := Policy{Target: 15 * time.Minute, NextTarget: 10 * time.Minute, AtRiskFraction: 0.2, Calendar: func(int64) *Calendar { return cal }}
	t0 := time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)
	k := conversation.Key{AccountID: 1, ConversationID: 2}
	var st conversation.State
	for _, f := range []conversation.Fact{
		{MessageID: 1, At: t0, Kind: conversation.KindCustomer},
		{MessageID: 2, At: t0.Add(5 * time.Minute), Kind: conversation.KindHuman},     // first response: met
		{MessageID: 3, At: t0.Add(20 * time.Minute), Kind: conversation.KindCustomer}, // waits again
		{MessageID: 4, At: t0.Add(22 * time.Minute), Kind: conversation.KindCustomer}, // same wait
	} {
		st.Apply(conversation.Observation{Key: k, Messages: []conversation.Fact{f}}, false)
	}
	r := p.Track(&st, t0.Add(25*time.Minute))
	require.Len(t, r, 1)
	assert.Equal(t, Met, r[0].State)
	require.NotNil(t, r[0].NextResponse)
	assert.Equal(t, t0.Add(20*time.Minute), r[0].NextResponse.Since, "the wait starts at the first unanswered message")
	assert.Equal(t, t0.Add(30*time.Minute), r[0].NextResponse.Due)
	assert.Equal(t, Pending, r[0].NextResponse.State, "5 of 10 min left")
	r = p.Track(&st, t0.Add(31*time.Minute))
	assert.Equal(t, Breached, r[0].NextResponse.State)

	st.Apply(conversation.Observation{Key: k, Messages: []conversation.Fact{{MessageID: 5, At: t0.Add(27 * time.Minute), Kind: conversation.KindHuman}}}, false)
	r = p.Track(&st, t0.Add(40*time.Minute))
	assert.Equal(t, Met, r[0].NextResponse.State)
	assert.Equal(t, t0.Add(27*time.Minute), r[0].NextResponse.RespondedAt)
}
