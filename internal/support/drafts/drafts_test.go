package drafts

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
)

type sent struct{ body []byte }

func (s *sent) Send(_ context.Context, body []byte, _ map[string]string) (string, error) {
	s.body = body
	return "m-1", nil
}

func TestEnqueueEncodesEveryTime(t *testing.T) {
	at := time.Date(2026, 5, 12, 9, 14, 27, 512e6, time.UTC)
	newYork := time.FixedZone("EST", -5*3600)
	tests := []struct {
		name                    string
		created, due, requested time.Time
		want                    string // created_at, due_at, requested_at
	}{
		{"ordinary", at, at.Add(15 * time.Minute), at.Add(time.Second),
			`"2026-05-12T09:14:27.512Z" "2026-05-12T09:29:27.512Z" "2026-05-12T09:14:28.512Z"`},
		{"no due time", at, time.Time{}, at, `"2026-05-12T09:14:27.512Z" <nil> "2026-05-12T09:14:27.512Z"`},
		{"in another zone", at.In(newYork), at.In(newYork), at.In(newYork),
			`"2026-05-12T09:14:27.512Z" "2026-05-12T09:14:27.512Z" "2026-05-12T09:14:27.512Z"`},
		{"due past year 9999", at, time.Date(10000, 1, 3, 14, 15, 0, 0, time.UTC), at,
			`"2026-05-12T09:14:27.512Z" "9999-12-31T23:59:59.999999999Z" "2026-05-12T09:14:27.512Z"`},
		{"year 10000 only in UTC", time.Date(9999, 12, 31, 23, 0, 0, 0, newYork), at, at,
			`"9999-12-31T23:59:59.999999999Z" "2026-05-12T09:14:27.512Z" "2026-05-12T09:14:27.512Z"`},
		{"before year 0", time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC), at, at,
			`"0000-01-01T00:00:00Z" "2026-05-12T09:14:27.512Z" "2026-05-12T09:14:27.512Z"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var q sent
			r := Request{ID: RequestID(7, 9001, 71), AccountID: 7, ConversationID: 9001,
				Message: Message{ID: 71, Content: "hi", CreatedAt: tc.created},
				SLA:     SLA{State: "pending", DueAt: tc.due}, RequestedAt: tc.requested}
			id, err := Enqueue(t.Context(), &q, r)
			require.NoError(t, err)
			assert.Equal(t, "m-1", id)

			var got struct {
				Message struct {
					CreatedAt json.RawMessage `json:"created_at"`
				} `json:"message"`
				SLA struct {
					DueAt json.RawMessage `json:"due_at"`
				} `json:"sla"`
				RequestedAt json.RawMessage `json:"requested_at"`
			}
			require.NoError(t, json.Unmarshal(q.body, &got))
			assert.Equal(t, tc.want, raw(got.Message.CreatedAt)+" "+raw(got.SLA.DueAt)+" "+raw(got.RequestedAt))
		})
	}
}

func raw(b json.RawMessage) string {
	if b == nil {
		return "<nil>"
	}
	return string(b)
}

// TestEnqueueBoundsTheContent: a 1 MiB message must not burst the drafts
// queue's message size (every driver refuses over 1 MiB).
func TestEnqueueBoundsTheContent(t *testing.T) {
	tests := []struct {
		name      string
		content   string
		want      string
		truncated bool
	}{
		{"short", "where is my order?", "where is my order?", false},
		{"exactly the cap", strings.Repeat("é", MaxContentRunes), strings.Repeat("é", MaxContentRunes), false},
		{"one character over", strings.Repeat("é", MaxContentRunes) + "x", strings.Repeat("é", MaxContentRunes), true},
		{"1 MiB of one word", strings.Repeat("a", 1<<20), strings.Repeat("a", MaxContentRunes), true},
		{"4-byte characters are not split", strings.Repeat("😀", MaxContentRunes+5), strings.Repeat("😀", MaxContentRunes), true},
		{"characters SQS refuses go escaped", "refund \uffff\ufffe please", "refund \uffff\ufffe please", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := &sent{}
			_, err := Enqueue(t.Context(), q, Request{ID: "draft:1:2:3", Message: Message{ID: 3, Content: tc.content}})
			require.NoError(t, err)
			var got Request
			require.NoError(t, json.Unmarshal(q.body, &got))
			assert.Equal(t, tc.want, got.Message.Content)
			assert.Equal(t, tc.truncated, got.Message.Truncated)
			assert.NoError(t, queue.Fits(q.body, nil))
		})
	}
}
