package rest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOfflineNotes(t *testing.T) {
	tests := []struct {
		name      string
		resumed   []bool // one note post each, the same content
		wantNotes int
	}{
		{name: "once", resumed: []bool{false}, wantNotes: 1},
		{name: "posted again, not resumed: a second note", resumed: []bool{false, false}, wantNotes: 2},
		{name: "posted again, resumed: found", resumed: []bool{false, true}, wantNotes: 1},
		{name: "resumed, never posted: posted", resumed: []bool{true}, wantNotes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewOffline(nil)
			for _, res := range tt.resumed {
				ctx := t.Context()
				if res {
					ctx = resumed(t)
				}
				require.NoError(t, r.PrivateNote(ctx, 7, 1423, "SLA breached"))
			}
			require.NoError(t, r.PrivateNote(t.Context(), 7, 99, "other conversation"))

			msgs, err := r.Messages(t.Context(), 7, 1423)
			require.NoError(t, err)
			require.Len(t, msgs, tt.wantNotes)
			for _, m := range msgs {
				assert.True(t, IsOwnNote(&m))
				assert.Equal(t, NotePrefix+" SLA breached", m.Content)
			}
			assert.True(t, HasNote(msgs, NotePrefix+" SLA breached"))
			notes := 0
			for _, c := range r.Calls() {
				if c.Op == OpPrivateNote && c.ConversationID == 1423 {
					notes++
				}
			}
			assert.Equal(t, tt.wantNotes, notes, "a note found is not recorded as posted")
		})
	}
}
