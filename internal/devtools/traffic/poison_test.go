package traffic

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/chatwoottest"
	"supportpipe/internal/ports/queue"
)

func corpusLarge(t *testing.T) [][]byte {
	t.Helper()
	dir := chatwoottest.Dir()
	entries, err := chatwoottest.Manifest(dir)
	require.NoError(t, err)
	var out [][]byte
	for _, e := range entries {
		if e.Bytes > queue.MaxMessageSize {
			raw, err := chatwoottest.ReadFile(filepath.Join(dir, e.File))
			require.NoError(t, err)
			out = append(out, raw)
		}
	}
	require.NotEmpty(t, out)
	return out
}

func TestPoisonIsWhatItSays(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	p := &Poisoner{Large: corpusLarge(t), NextMessage: 9_000_000, NextConversation: 90_000}
	convs := map[int64]bool{}
	for i := range 4 * len(PoisonKinds) {
		e, err := p.Next(rng, now)
		require.NoError(t, err)
		require.Equal(t, PoisonKinds[i%len(PoisonKinds)], e.Poison)
		if e.Poison == WrongType {
			_, err := chatwoot.Check(e.Body)
			require.ErrorIs(t, err, chatwoot.ErrBadPayload, "a wrong type is kept as invalid, not as something else")
			assert.False(t, e.Processable())
			continue
		}
		assert.True(t, e.Processable())
		pl, err := chatwoot.Decode(e.Body)
		require.NoError(t, err, e.Poison)
		require.False(t, convs[pl.ConversationID], "each poison event has a conversation of its own")
		convs[pl.ConversationID] = true
		switch e.Poison {
		case LongWord:
			n := utf8.RuneCountInString(pl.Message.Content)
			assert.True(t, n >= 150_000 && n <= 1_000_000, "%d characters", n)
			assert.NotContains(t, pl.Message.Content, " ")
		case FarFuture, Epoch:
			pl.ClampTimes(now, now)
			var at chatwoot.Time
			if pl.Kind == chatwoot.KindMessage {
				at = pl.Message.CreatedAt
			} else {
				at = pl.Conversation.UpdatedAt
			}
			assert.Equal(t, now, at.Time, "implausible, so clamped to the receipt time")
			assert.False(t, at.Reported.IsZero())
		case LargeBody:
			assert.Greater(t, len(e.Body), queue.MaxMessageSize)
			assert.ErrorIs(t, queue.Fits(e.Body, nil), queue.ErrUnfit)
		case NonCharacters:
			assert.ErrorIs(t, queue.Fits(e.Body, nil), queue.ErrUnfit)
			assert.Contains(t, pl.Message.Content, "\uFFFF")
			assert.Contains(t, pl.Message.Content, "\uFFFE")
		}
	}
}

func TestReissueRewritesOnlyTheIDs(t *testing.T) {
	for _, src := range corpusLarge(t) {
		h, err := chatwoot.Check(src)
		require.NoError(t, err)
		same, err := Reissue(src, h.ID, h.ConversationID)
		require.NoError(t, err)
		assert.Equal(t, src, same)
		out, err := Reissue(src, 9_123_456, 91_234)
		require.NoError(t, err)
		got, err := chatwoot.Check(out)
		require.NoError(t, err)
		assert.Equal(t, int64(91_234), got.ConversationID)
		assert.Equal(t, h.AccountID, got.AccountID)
		if h.Kind == chatwoot.KindMessage {
			assert.Equal(t, int64(9_123_456), got.ID)
		}
	}
}

func TestReplaceNumberMatchesWholeNumbers(t *testing.T) {
	in := `{"id":12,"a":{"id":123},"b":{"id":12.5},"c":[{"id":12}]}`
	assert.Equal(t, `{"id":7,"a":{"id":123},"b":{"id":12.5},"c":[{"id":7}]}`, string(replaceNumber([]byte(in), `"id":`, 12, 7)))
}

func TestProbeIsAnOrdinaryFirstMessage(t *testing.T) {
	e := Probe(8_000_001, 80_001, time.Now(), rand.New(rand.NewPCG(1, 2)))
	pl, err := chatwoot.Decode(e.Body)
	require.NoError(t, err)
	assert.Equal(t, chatwoot.Incoming, pl.Message.MessageType)
	assert.Equal(t, int64(80_001), pl.ConversationID)
	assert.Empty(t, e.Poison)
}
