package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/conversation"
)

func (s suite) testConversation(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	k := conversation.Key{AccountID: 1, ConversationID: 7}
	other := conversation.Key{AccountID: 2, ConversationID: 7}

	_, ok, err := st.Conversation(ctx, k)
	require.NoError(t, err)
	require.False(t, ok, "conversation exists before any update")

	snap := &conversation.Snapshot{
		UpdatedAt: base.Add(time.Minute), InboxID: 3, Status: "open", Priority: "high",
		Labels: []string{"billing", "vip"}, AssigneeID: 4, TeamID: 5, ContactID: 6, CreatedAt: base,
	}
	steps := []struct {
		name    string
		fn      func(*conversation.State) bool
		version int64 // stored version afterwards; 0: nothing stored
		check   func(t *testing.T, st conversation.State)
	}{
		{
			name:    "no change on a new conversation stores nothing",
			fn:      func(s *conversation.State) bool { s.Status = "open"; return false },
			version: 0,
			check:   func(t *testing.T, st conversation.State) { assert.Empty(t, st.Status) },
		},
		{
			name:    "first observation creates version 1",
			fn:      observe(k, customer(10, base)),
			version: 1,
			check: func(t *testing.T, st conversation.State) {
				assert.Equal(t, int64(10), st.FirstCustomerMessageID)
				assert.Equal(t, base, utc(st.FirstCustomerMessageAt))
			},
		},
		{
			name:    "snapshot adds every field",
			fn:      apply(conversation.Observation{Key: k, Snapshot: snap}),
			version: 2,
			check: func(t *testing.T, st conversation.State) {
				assert.Equal(t, "open", st.Status)
				assert.Equal(t, "high", st.Priority)
				assert.Equal(t, []string{"billing", "vip"}, st.Labels)
				assert.Equal(t, []int64{3, 4, 5, 6}, []int64{st.InboxID, st.AssigneeID, st.TeamID, st.ContactID})
				assert.Equal(t, base, utc(st.CreatedAt))
				assert.Equal(t, base.Add(time.Minute), utc(st.SnapshotAt))
			},
		},
		{
			name:    "replayed observation changes nothing",
			fn:      observe(k, customer(10, base)),
			version: 2,
		},
		{
			name: "fn that mutates and reports no change writes nothing",
			fn: func(s *conversation.State) bool {
				s.Status = "resolved"
				s.Labels[0] = "mutated"
				s.Messages[0].At = base.Add(time.Hour)
				s.Messages = append(s.Messages, reply(99, base))
				return false
			},
			version: 2,
			check: func(t *testing.T, st conversation.State) {
				assert.Equal(t, "open", st.Status)
				assert.Equal(t, []string{"billing", "vip"}, st.Labels)
				assert.Equal(t, []conversation.Fact{customer(10, base)}, st.Messages)
			},
		},
		{
			name:    "reply answers the customer",
			fn:      observe(k, reply(11, base.Add(5*time.Minute))),
			version: 3,
			check: func(t *testing.T, st conversation.State) {
				assert.Equal(t, int64(11), st.FirstResponseMessageID)
				assert.Equal(t, []conversation.Fact{customer(10, base), reply(11, base.Add(5*time.Minute))}, st.Messages)
				assert.Equal(t, 5*time.Minute, st.FirstResponseTime())
			},
		},
	}
	var version int64
	for _, step := range steps {
		ok := t.Run(step.name, func(t *testing.T) {
			var in conversation.State
			got, err := st.UpdateConversation(ctx, k, func(s *conversation.State) bool {
				in = *s
				return step.fn(s)
			})
			require.NoError(t, err)
			assert.Equal(t, k, in.Key, "fn sees the key")
			assert.Equal(t, version, in.Version, "fn sees the stored version")
			assert.Equal(t, k, got.Key)
			assert.Equal(t, step.version, got.Version)

			stored, ok, err := st.Conversation(ctx, k)
			require.NoError(t, err)
			if step.version == 0 {
				assert.False(t, ok, "stored although fn reported no change")
			} else {
				require.True(t, ok)
				assert.Equal(t, got, stored, "returned state differs from stored state")
			}
			if step.check != nil {
				step.check(t, got)
				step.check(t, stored)
			}
			version = got.Version
		})
		if !ok {
			return // later steps build on this one
		}
	}

	t.Run("keys are independent", func(t *testing.T) {
		_, ok, err := st.Conversation(ctx, other)
		require.NoError(t, err)
		assert.False(t, ok, "same conversation id in another account")

		got, err := st.UpdateConversation(ctx, other, observe(other, customer(20, base)))
		require.NoError(t, err)
		assert.Equal(t, int64(1), got.Version)
		assert.Equal(t, other, got.Key)

		mine, ok, err := st.Conversation(ctx, k)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, int64(3), mine.Version)
		assert.Equal(t, int64(10), mine.FirstCustomerMessageID)
	})
}

// testUpdateConversationConcurrent has 16 writers each merge one customer
// message and one reply into the same conversation. Every merge changes the
// state, so any lost update shows as a missing message or a low version.
func (s suite) testUpdateConversationConcurrent(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	k := conversation.Key{AccountID: 1, ConversationID: 42}
	const n = 16

	var calls atomic.Int64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			up := observe(k,
				customer(int64(100+i), base.Add(time.Duration(i)*time.Second)),
				reply(int64(200+i), base.Add(time.Hour+time.Duration(i)*time.Minute)))
			_, errs[i] = st.UpdateConversation(ctx, k, func(s *conversation.State) bool {
				calls.Add(1)
				return up(s)
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "writer %d", i)
	}

	got, ok, err := st.Conversation(ctx, k)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(n), got.Version, "one version per merge")
	assert.GreaterOrEqual(t, calls.Load(), int64(n))
	var want []conversation.Fact
	for i := range n {
		want = append(want, customer(int64(100+i), base.Add(time.Duration(i)*time.Second)))
	}
	for i := range n {
		want = append(want, reply(int64(200+i), base.Add(time.Hour+time.Duration(i)*time.Minute)))
	}
	assert.Equal(t, want, got.Messages, "messages lost")
	assert.Equal(t, int64(100), got.FirstCustomerMessageID)
	assert.Equal(t, int64(200), got.FirstResponseMessageID)
	require.Len(t, got.Periods, 1)
	assert.Equal(t, n, got.Periods[0].CustomerMessages)
}

func (s suite) testWaitingForFirstResponse(t *testing.T) {
	ctx := t.Context()
	st := s.open(t)
	key := func(acct, id int64) conversation.Key {
		return conversation.Key{AccountID: acct, ConversationID: id}
	}
	a, b, c := key(1, 1), key(1, 2), key(1, 3)
	answered, replyOnly, snapOnly, replyFirst := key(1, 4), key(1, 5), key(1, 6), key(1, 7)
	a2 := key(2, 1)

	setup := []struct {
		k    conversation.Key
		msgs []conversation.Fact
	}{
		{a, []conversation.Fact{customer(1, base.Add(2*time.Minute))}},
		{b, []conversation.Fact{customer(2, base.Add(1*time.Minute))}},
		{c, []conversation.Fact{customer(3, base.Add(3*time.Minute))}},
		{answered, []conversation.Fact{customer(4, base), reply(5, base.Add(time.Minute))}},
		{replyOnly, []conversation.Fact{reply(6, base)}},
		// A reply before the first customer message does not answer it.
		{replyFirst, []conversation.Fact{reply(7, base.Add(-time.Minute)), customer(8, base.Add(4*time.Minute))}},
		{a2, []conversation.Fact{customer(9, base.Add(5*time.Minute))}},
	}
	for _, x := range setup {
		_, err := st.UpdateConversation(ctx, x.k, observe(x.k, x.msgs...))
		require.NoError(t, err)
	}
	_, err := st.UpdateConversation(ctx, snapOnly,
		apply(conversation.Observation{Key: snapOnly, Snapshot: &conversation.Snapshot{UpdatedAt: base, Status: "open"}}))
	require.NoError(t, err)

	steps := []struct {
		name   string
		update func(t *testing.T)
		limit  int
		want   []conversation.Key
	}{
		{name: "oldest first", limit: 10, want: []conversation.Key{b, a, c, replyFirst, a2}},
		{name: "limit", limit: 2, want: []conversation.Key{b, a}},
		{name: "limit one", limit: 1, want: []conversation.Key{b}},
		{name: "limit zero", limit: 0, want: nil},
		{
			name: "answered conversation leaves the list",
			update: func(t *testing.T) {
				_, err := st.UpdateConversation(ctx, b, observe(b, reply(10, base.Add(10*time.Minute))))
				require.NoError(t, err)
			},
			limit: 10, want: []conversation.Key{a, c, replyFirst, a2},
		},
		{
			name: "earlier customer message moves a conversation up",
			update: func(t *testing.T) {
				_, err := st.UpdateConversation(ctx, c, observe(c, customer(11, base)))
				require.NoError(t, err)
			},
			limit: 10, want: []conversation.Key{c, a, replyFirst, a2},
		},
		{
			name: "later customer message keeps the place",
			update: func(t *testing.T) {
				_, err := st.UpdateConversation(ctx, a, observe(a, customer(12, base.Add(time.Hour))))
				require.NoError(t, err)
			},
			limit: 10, want: []conversation.Key{c, a, replyFirst, a2},
		},
		{
			name: "resolved conversation leaves the list",
			update: func(t *testing.T) {
				_, err := st.UpdateConversation(ctx, a, resolve(a, base.Add(2*time.Hour)))
				require.NoError(t, err)
			},
			limit: 10, want: []conversation.Key{c, replyFirst, a2},
		},
		{
			name: "customer message after resolution waits from that message",
			update: func(t *testing.T) {
				_, err := st.UpdateConversation(ctx, a, observe(a, customer(13, base.Add(3*time.Hour))))
				require.NoError(t, err)
			},
			limit: 10, want: []conversation.Key{c, replyFirst, a2, a},
		},
	}
	for _, step := range steps {
		ok := t.Run(step.name, func(t *testing.T) {
			if step.update != nil {
				step.update(t)
			}
			got, err := st.WaitingForFirstResponse(ctx, step.limit)
			require.NoError(t, err)
			var keys []conversation.Key
			for _, g := range got {
				keys = append(keys, g.Key)
				assert.True(t, g.WaitingForFirstResponse(), "listed conversation %v is not waiting", g.Key)
				stored, ok, err := st.Conversation(ctx, g.Key)
				require.NoError(t, err)
				require.True(t, ok)
				assert.Equal(t, stored, g, "listed state differs from stored state")
			}
			assert.Equal(t, step.want, keys)
		})
		if !ok {
			return // later steps build on this one
		}
	}
}
