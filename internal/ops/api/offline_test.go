package api_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ops/api"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/conversation"
)

// TestLookupSaysRecordedNotSent: offline, the Chatwoot actions of a lookup
// carry "sent": false and the view says "chatwoot": "offline", so a "done"
// is not read as a call Chatwoot received; the pipeline's own records
// (a draft request) carry no mark. Live, nothing is marked.
func TestLookupSaysRecordedNotSent(t *testing.T) {
	now := time.Date(2026, 5, 12, 12, 0, 0, 0, time.UTC)
	s := memstore.New()
	addWaiting(t, s, 7, now.Add(-time.Minute))
	k := conversation.Key{AccountID: 1, ConversationID: 7}
	for _, a := range []store.Action{
		{Key: k, ID: "labels:70", Kind: "label", Status: store.ActionDone, Detail: `{"add":["billing"]}`, At: now},
		{Key: k, ID: "priority:urgent", Kind: "priority", Status: store.ActionDone, At: now},
		{Key: k, ID: "note:escalation:vip", Kind: "note", Status: store.ActionDone, At: now},
		{Key: k, ID: "draft:70", Kind: "draft", Status: store.ActionDone, At: now},
	} {
		require.NoError(t, s.RecordAction(t.Context(), a))
	}
	tests := []struct {
		name     string
		offline  bool
		chatwoot string
		sent     map[string]any // action id → "sent" as JSON has it (nil: absent)
	}{
		{"offline", true, "offline", map[string]any{"labels:70": false, "priority:urgent": false, "note:escalation:vip": false, "draft:70": nil}},
		{"live", false, "live", map[string]any{"labels:70": nil, "priority:urgent": nil, "note:escalation:vip": nil, "draft:70": nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &api.Handler{Store: s, Token: tileToken, Log: slog.New(slog.DiscardHandler),
				Now: func() time.Time { return now }, Offline: tc.offline}
			resp, err := h.Handle(t.Context(), getRequest("/support/conversations/1/7"))
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
			var v struct {
				Chatwoot string           `json:"chatwoot"`
				Actions  []map[string]any `json:"actions"`
			}
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &v))
			assert.Equal(t, tc.chatwoot, v.Chatwoot)
			got := map[string]any{}
			for _, a := range v.Actions {
				assert.Equal(t, store.ActionDone, a["status"], "the status stays the contract's")
				got[a["id"].(string)] = a["sent"]
			}
			assert.Equal(t, tc.sent, got)
		})
	}
}
