package rest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/conversation"
	"supportpipe/internal/support/drafting"
)

// labelSource is a LabelSource backed by a map.
type labelSource struct {
	mu     sync.Mutex
	labels map[conversation.Key][]string
	reads  int
	err    error
}

func (s *labelSource) Conversation(_ context.Context, k conversation.Key) (conversation.State, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.err != nil {
		return conversation.State{}, false, s.err
	}
	l, ok := s.labels[k]
	return conversation.State{Key: k, Labels: l}, ok, nil
}

func TestOffline(t *testing.T) {
	k := conversation.Key{AccountID: 7, ConversationID: 1423}
	tests := []struct {
		name       string
		src        map[conversation.Key][]string
		set        []string // SetLabels before the calls, when non-nil
		run        func(context.Context, *Offline) (any, error)
		want       any
		wantCalls  []Call
		wantLabels []string
	}{
		{
			name: "merge onto seeded labels",
			set:  []string{"billing"},
			run: func(ctx context.Context, r *Offline) (any, error) {
				return r.AddLabels(ctx, 7, 1423, []string{"escalated"})
			},
			want:       []string{"billing", "escalated"},
			wantCalls:  []Call{{Op: OpAddLabels, Key: k, Labels: []string{"escalated"}, Changed: true}},
			wantLabels: []string{"billing", "escalated"},
		},
		{
			name: "nothing new",
			set:  []string{"billing", "escalated"},
			run: func(ctx context.Context, r *Offline) (any, error) {
				return r.AddLabels(ctx, 7, 1423, []string{"escalated"})
			},
			want:       []string{"billing", "escalated"},
			wantCalls:  []Call{{Op: OpAddLabels, Key: k, Labels: []string{"escalated"}}},
			wantLabels: []string{"billing", "escalated"},
		},
		{
			name: "seeded from the store",
			src:  map[conversation.Key][]string{k: {"vip"}},
			run: func(ctx context.Context, r *Offline) (any, error) {
				return r.AddLabels(ctx, 7, 1423, []string{"urgent"})
			},
			want:       []string{"vip", "urgent"},
			wantCalls:  []Call{{Op: OpAddLabels, Key: k, Labels: []string{"urgent"}, Changed: true}},
			wantLabels: []string{"vip", "urgent"},
		},
		{
			name: "caller's labels win over the store",
			src:  map[conversation.Key][]string{k: {"vip"}},
			set:  []string{},
			run: func(ctx context.Context, r *Offline) (any, error) {
				return r.Labels(ctx, 7, 1423)
			},
			want:      []string{},
			wantCalls: []Call{{Op: OpLabels, Key: k}},
		},
		{
			name: "priority, note and team",
			run: func(ctx context.Context, r *Offline) (any, error) {
				return nil, errors.Join(
					r.SetPriority(ctx, 7, 1423, "urgent"),
					r.PrivateNote(ctx, 7, 1423, "SLA breached"),
					r.AssignTeam(ctx, 7, 1423, 3),
				)
			},
			wantCalls: []Call{
				{Op: OpSetPriority, Key: k, Priority: "urgent"},
				{Op: OpPrivateNote, Key: k, Content: "[supportpipe] SLA breached"},
				{Op: OpAssignTeam, Key: k, TeamID: 3},
			},
		},
		{
			name: "reads",
			run: func(ctx context.Context, r *Offline) (any, error) {
				p, err1 := r.Profile(ctx)
				cs, err2 := r.Conversations(ctx, 7, time.Hour)
				ms, err3 := r.Messages(ctx, 7, 1423)
				ts, err4 := r.Teams(ctx, 7)
				crs, err5 := r.CannedResponses(ctx, 7)
				return []any{p, len(cs), len(ms), len(ts), len(crs)}, errors.Join(err1, err2, err3, err4, err5)
			},
			want: []any{Profile{Name: "mock"}, 0, 0, 0, len(SampleCanned())},
			wantCalls: []Call{
				{Op: OpProfile},
				{Op: OpConversations, Key: conversation.Key{AccountID: 7}, Within: time.Hour},
				{Op: OpMessages, Key: k},
				{Op: OpTeams, Key: conversation.Key{AccountID: 7}},
				{Op: OpCannedResponses, Key: conversation.Key{AccountID: 7}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *Offline
			if tt.src != nil {
				r = NewOffline(&labelSource{labels: tt.src})
			} else {
				r = NewOffline(nil)
			}
			if tt.set != nil {
				r.SetLabels(7, 1423, tt.set)
			}
			got, err := tt.run(t.Context(), r)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantCalls, r.Calls())
			if tt.wantLabels != nil {
				l, err := r.Labels(t.Context(), 7, 1423)
				require.NoError(t, err)
				assert.Equal(t, tt.wantLabels, l)
			}
		})
	}
}

func TestOfflineSeedsOnce(t *testing.T) {
	k := conversation.Key{AccountID: 7, ConversationID: 1}
	src := &labelSource{labels: map[conversation.Key][]string{k: {"vip"}}}
	r := NewOffline(src)
	for range 3 {
		_, err := r.AddLabels(t.Context(), 7, 1, []string{"urgent"})
		require.NoError(t, err)
	}
	assert.Equal(t, 1, src.reads)
}

func TestOfflineSeedError(t *testing.T) {
	r := NewOffline(&labelSource{err: errors.New("store down")})
	_, err := r.AddLabels(t.Context(), 7, 1, []string{"urgent"})
	assert.ErrorContains(t, err, "store down")
	assert.Empty(t, r.Calls())
}

func TestOfflineIsolation(t *testing.T) {
	r := NewOffline(nil)
	in := []string{"billing"}
	r.SetLabels(7, 1, in)
	in[0] = "changed"
	got, err := r.AddLabels(t.Context(), 7, 1, []string{"vip"})
	require.NoError(t, err)
	got[0] = "changed"
	l, err := r.Labels(t.Context(), 7, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"billing", "vip"}, l)
	calls := r.Calls()
	calls[0].Labels[0] = "changed"
	assert.Equal(t, []string{"vip"}, r.Calls()[0].Labels)
	other, err := r.Labels(t.Context(), 7, 2)
	require.NoError(t, err)
	assert.Empty(t, other, "conversations do not share labels")
}

func TestOfflineConcurrent(t *testing.T) {
	r := NewOffline(nil)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			_, err := r.AddLabels(t.Context(), 7, 1, []string{fmt.Sprintf("l%02d", i), "shared"})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	l, err := r.Labels(t.Context(), 7, 1)
	require.NoError(t, err)
	assert.Len(t, l, 51)
	assert.Len(t, r.Calls(), 51)
}

func TestOfflineCannedResponses(t *testing.T) {
	r := NewOffline(nil)
	set := []drafting.Canned{{ShortCode: "hours", Content: "We answer 9 to 5."}}
	r.SetCanned(7, set)
	set[0].Content = "changed after the call"
	got, err := r.CannedResponses(t.Context(), 7)
	require.NoError(t, err)
	assert.Equal(t, []drafting.Canned{{ShortCode: "hours", Content: "We answer 9 to 5."}}, got, "a copy of what was set")
	got, err = r.CannedResponses(t.Context(), 8)
	require.NoError(t, err)
	assert.Equal(t, SampleCanned(), got, "another account has the stand-in account's set")
	r.SetCanned(9, nil)
	got, err = r.CannedResponses(t.Context(), 9)
	require.NoError(t, err)
	assert.Empty(t, got, "an account set to none has none")
}

// TestSampleCanned: the stand-in account's set parses, and each entry
// fills the variables a suggestion greets with.
func TestSampleCanned(t *testing.T) {
	c := SampleCanned()
	require.GreaterOrEqual(t, len(c), 8)
	for _, e := range c {
		assert.Contains(t, e.Content, "{{contact.name}}", e.ShortCode)
		assert.GreaterOrEqual(t, len(e.Examples), 3, e.ShortCode)
	}
}
