package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/local"
)

// fakeChatwoot answers the REST calls the pipeline makes, as Chatwoot
// does, and keeps the messages of each conversation: the customer's and
// agents' (set by the test) and the notes posted. Canned responses are the
// account's.
type fakeChatwoot struct {
	mu       sync.Mutex
	messages map[int64][]map[string]any
	nextID   int64
	// cannedHang makes the canned responses hang (until the request is
	// given up), so a provider that reads them times out.
	cannedHang bool
}

func newFakeChatwoot(t *testing.T) (*fakeChatwoot, string) {
	f := &fakeChatwoot{messages: map[int64][]map[string]any{}, nextID: 1_000_000}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeChatwoot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("api_access_token") != "tok-drafts" {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	var conv int64
	var suffix string
	path := r.URL.Path
	switch {
	case path == "/api/v1/profile":
		writeJSONBody(w, map[string]any{"id": 1, "name": "Pipeline", "accounts": []map[string]any{{"id": 7, "role": "administrator"}}})
		return
	case path == "/api/v1/accounts/7/teams":
		writeJSONBody(w, []any{})
		return
	case path == "/api/v1/accounts/7/conversations":
		writeJSONBody(w, map[string]any{"data": map[string]any{"meta": map[string]any{}, "payload": []any{}}})
		return
	case path == "/api/v1/accounts/7/canned_responses":
		f.mu.Lock()
		hang := f.cannedHang
		f.mu.Unlock()
		if hang {
			<-r.Context().Done()
			return
		}
		writeJSONBody(w, []map[string]any{
			{"id": 1, "account_id": 7, "short_code": "refund_status",
				"content": "Hi {{contact.name}}, refunds reach your card within 5 business days of the return."},
			{"id": 2, "account_id": 7, "short_code": "opening_hours", "content": "We answer Monday to Friday, 9 to 5."},
		})
		return
	}
	if _, err := fmt.Sscanf(path, "/api/v1/accounts/7/conversations/%d/%s", &conv, &suffix); err != nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case suffix == "labels" && r.Method == http.MethodGet:
		writeJSONBody(w, map[string]any{"payload": []string{}})
	case suffix == "labels":
		var b struct {
			Labels []string `json:"labels"`
		}
		_ = json.NewDecoder(r.Body).Decode(&b)
		writeJSONBody(w, map[string]any{"payload": b.Labels})
	case suffix == "messages" && r.Method == http.MethodGet:
		f.mu.Lock()
		defer f.mu.Unlock()
		writeJSONBody(w, map[string]any{"meta": map[string]any{}, "payload": append([]map[string]any{}, f.messages[conv]...)})
	case suffix == "messages":
		var b struct {
			Content           string          `json:"content"`
			Private           bool            `json:"private"`
			ContentAttributes json.RawMessage `json:"content_attributes"`
		}
		_ = json.NewDecoder(r.Body).Decode(&b)
		m := f.add(conv, map[string]any{"content": b.Content, "message_type": 1, "private": b.Private,
			"content_attributes": b.ContentAttributes, "sender_type": "User", "sender": map[string]any{"id": 1, "name": "Pipeline", "type": "user"}})
		writeJSONBody(w, m)
	default:
		writeJSONBody(w, map[string]any{})
	}
}

func writeJSONBody(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// add appends a message to a conversation, with Chatwoot's fields.
func (f *fakeChatwoot) add(conv int64, m map[string]any) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := m["id"]; !ok {
		f.nextID++
		m["id"] = f.nextID
	}
	if _, ok := m["created_at"]; !ok {
		m["created_at"] = time.Now().Unix()
	}
	m["conversation_id"], m["account_id"] = conv, 7
	f.messages[conv] = append(f.messages[conv], m)
	return m
}

// notes are the suggested replies posted on a conversation.
func (f *fakeChatwoot) notes(conv int64) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.messages[conv] {
		if c, _ := m["content"].(string); m["private"] == true && strings.Contains(c, "Suggested reply") {
			out = append(out, c)
		}
	}
	return out
}

// withoutDrafter leaves the draft requests on the drafts queue, for a test
// that reads them.
func withoutDrafter(s *local.Server) { s.Drafter = nil }

// startLive starts the local server live against the fake, with the
// drafting configuration given.
func startLive(t *testing.T, chatwootURL, drafting string) *server {
	t.Helper()
	t.Setenv("SUPPORT_DATA_DIR", t.TempDir())
	t.Setenv("CHATWOOT_WEBHOOK_SECRET", secret)
	t.Setenv("SUPPORT_API_TOKEN", "api-token")
	t.Setenv("CHATWOOT_LIVE", "true")
	t.Setenv("CHATWOOT_BASE_URL", chatwootURL)
	t.Setenv("CHATWOOT_API_TOKEN", "tok-drafts")
	t.Setenv("CHATWOOT_ACCOUNT_ID", "7")
	env, err := local.LoadConfig()
	require.NoError(t, err)
	env.ReportsRoot = t.TempDir()
	conf, err := config.Parse(append(append([]byte{}, configYAML...), drafting...))
	require.NoError(t, err)
	cls, err := local.NewClassifiers(conf)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := local.Open(ctx, withFile(env, conf), cls, slog.New(slog.NewJSONHandler(&logs, nil)))
	require.NoError(t, err)
	s.JobEvery = time.Hour
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
		s.Close()
	})
	return &server{url: "http://" + ln.Addr().String(), token: env.APIToken, s: s}
}

// waitDrafted waits until both queues are empty: every event processed and
// every draft request it made handled.
func (s *server) waitDrafted(t *testing.T) {
	t.Helper()
	waitfor.Until(t, func() bool {
		events, err := s.s.Drained(context.Background())
		if err != nil || !events {
			return false
		}
		drafts, err := s.s.DraftsDrained(context.Background())
		return err == nil && drafts
	}, "the events and drafts queues drained")
}

func (s *server) drafts(t *testing.T) stats.Drafts {
	t.Helper()
	var d stats.Daily
	require.Equal(t, 200, s.get(t, "/support/stats?date="+stats.Day(time.Now()), s.token, &d))
	return d.Drafts
}

// TestSuggestedReplies: through the local server, live against a fake
// Chatwoot, a customer message gets exactly one suggested reply as a
// private note; replaying its webhooks adds nothing; a message an agent
// answered first gets none; a provider that times out leaves no note and
// a counted failure.
func TestSuggestedReplies(t *testing.T) {
	fake, url := newFakeChatwoot(t)
	s := startLive(t, url, "drafting:\n  canned_refresh: 1h\n")
	now := time.Now().UTC().Truncate(time.Second)

	// A customer asks; the suggestion comes from the account's canned
	// response, with the contact's name filled in.
	ask := messageBody(5001, 500, now.Add(-time.Minute), "Hi, where is my refund?", "priya@example.com", `{}`, `[]`)
	fake.add(500, map[string]any{"id": 5001, "content": "Hi, where is my refund?", "message_type": 0,
		"private": false, "sender_type": "Contact", "created_at": now.Add(-time.Minute).Unix()})
	require.Equal(t, 202, s.post(t, ask, "d-5001"))
	s.waitDrafted(t)
	notes := fake.notes(500)
	require.Len(t, notes, 1, "one suggested reply: %+v", s.drafts(t))
	assert.True(t, strings.HasPrefix(notes[0], rest.NotePrefix+" Suggested reply (not sent) — canned response `refund_status`"), notes[0])
	assert.Contains(t, notes[0], "Hi Priya, refunds reach your card")
	d := s.drafts(t)
	assert.EqualValues(t, 1, d.Made)

	// Chatwoot echoes the note as a webhook; the same delivery is replayed,
	// and Chatwoot double-emits the message under a new delivery id.
	echo := []byte(fmt.Sprintf(`{"event":"message_created","id":%d,"content":%q,"content_type":"text","content_attributes":{"supportpipe":true},`+
		`"message_type":"outgoing","private":true,"created_at":%q,"account":{"id":7,"name":"Northwind"},"inbox":{"id":4,"name":"Web"},`+
		`"sender":{"id":1,"name":"Pipeline","type":"user"},"conversation":{"id":500,"inbox_id":4,"status":"open","labels":[],"updated_at":%d.7,"created_at":%d,"messages":[],"meta":{}}}`,
		fake.nextID, notes[0], now.Format(time.RFC3339Nano), now.Unix(), now.Unix()))
	require.Equal(t, 202, s.post(t, echo, "d-echo"))
	require.Equal(t, 202, s.post(t, ask, "d-5001-again"))
	require.Equal(t, 202, s.post(t, ask, "d-5001-replayed-by-chatwoot"))
	s.waitDrafted(t)
	assert.Len(t, fake.notes(500), 1, "replays add nothing")
	v := s.view(t, 500)
	assert.True(t, v.Waiting, "our note is no first response")
	assert.EqualValues(t, 1, s.drafts(t).Made)

	// An agent answers before the drafter gets to the request: no note.
	answered := messageBody(5101, 510, now.Add(-2*time.Minute), "Do you ship to Canada?", "sam@example.com", `{}`, `[]`)
	fake.add(510, map[string]any{"id": 5101, "content": "Do you ship to Canada?", "message_type": 0, "private": false, "sender_type": "Contact"})
	fake.add(510, map[string]any{"id": 5102, "content": "Yes, in 5 days.", "message_type": 1, "private": false,
		"sender_type": "User", "sender": map[string]any{"id": 3, "name": "Rafael", "type": "user"}})
	require.Equal(t, 202, s.post(t, answered, "d-5101"))
	s.waitDrafted(t)
	assert.Empty(t, fake.notes(510))
	assert.EqualValues(t, 1, s.drafts(t).SkippedBy["answered"])
}

// TestSuggestionProviderTimeout: a model that never answers, with no
// fallback, leaves no note and a counted failure.
func TestSuggestionProviderTimeout(t *testing.T) {
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(model.Close)
	fake, url := newFakeChatwoot(t)
	t.Setenv("OPENAI_API_KEY", "sk-test")
	s := startLive(t, url, fmt.Sprintf("drafting:\n  provider: openai\n  fallback: none\n  timeout: 100ms\n  openai:\n    base_url: %s/v1\n    model: m\n", model.URL))
	now := time.Now().UTC().Truncate(time.Second)
	require.Equal(t, 202, s.post(t, messageBody(5201, 520, now.Add(-time.Minute), "Where is my refund?", "kim@example.com", `{}`, `[]`), "d-5201"))
	s.waitDrafted(t)
	assert.Empty(t, fake.notes(520))
	d := s.drafts(t)
	assert.EqualValues(t, 1, d.Failed)
	assert.Zero(t, d.Made)
}
