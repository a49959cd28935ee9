package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/conversation"
)

// outcome is how the fake messages endpoint answers one request.
type outcome int

const (
	okay       outcome = iota
	failBefore         // 500 before the note is created, as a proxy would
	failAfter          // the note is created, then 500
	hangAfter          // the note is created, then no answer until the client gives up
	throttled          // 429, before anything happens
	invalid            // 422
)

// notesChatwoot is the messages endpoint of one conversation: a POST adds a
// note, stored as Chatwoot stores it (without surrounding whitespace); a GET
// lists the latest page, newest last. Each request takes the next outcome
// of its method's script; the last repeats.
type notesChatwoot struct {
	posts, gets []outcome

	mu       sync.Mutex
	messages []map[string]any
	created  int
	log      []string
}

func (f *notesChatwoot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.log = append(f.log, r.Method)
	script := f.gets
	if r.Method == http.MethodPost {
		script = f.posts
	}
	n := 0
	for _, m := range f.log {
		if m == r.Method {
			n++
		}
	}
	out := okay
	if len(script) > 0 {
		out = script[min(n, len(script))-1]
	}
	f.mu.Unlock()
	switch out {
	case failBefore:
		http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
		return
	case throttled:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "Retry later\n", http.StatusTooManyRequests)
		return
	case invalid:
		http.Error(w, `{"message":"Validation failed"}`, http.StatusUnprocessableEntity)
		return
	}
	if r.Method == http.MethodGet {
		f.mu.Lock()
		page := f.messages[max(0, len(f.messages)-messagesPage):]
		b, _ := json.Marshal(map[string]any{"payload": page})
		f.mu.Unlock()
		w.Write(b)
		return
	}
	var b noteBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.add(map[string]any{"content": strings.TrimSpace(b.Content), "private": b.Private, "message_type": 1,
		"content_attributes": b.ContentAttributes})
	f.created++
	f.mu.Unlock()
	switch out {
	case failAfter:
		http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
	case hangAfter:
		<-r.Context().Done()
	default:
		w.Write([]byte(`{"id":1}`))
	}
}

// add appends a message with the next id; f.mu must be held.
func (f *notesChatwoot) add(m map[string]any) {
	m["id"] = len(f.messages) + 1
	f.messages = append(f.messages, m)
}

func (f *notesChatwoot) requests() ([]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...), f.created
}

// resumed is a context as store.Once gives an effect it runs again.
func resumed(t *testing.T) context.Context {
	t.Helper()
	st := memstore.New()
	a := store.Action{Key: conversation.Key{AccountID: 7, ConversationID: 1423}, ID: "note:x", Kind: "note", Owner: "m1"}
	_, _, err := st.ClaimAction(t.Context(), a) // left pending, as by a crash
	require.NoError(t, err)
	var ctx context.Context
	_, err = store.Once(t.Context(), st, a, func(c context.Context) (string, error) { ctx = c; return "", nil })
	require.NoError(t, err)
	require.True(t, store.Resumed(ctx))
	return ctx
}

func TestPrivateNoteLooksBeforePostingAgain(t *testing.T) {
	const post, get = http.MethodPost, http.MethodGet
	ours := func(content string) map[string]any {
		return map[string]any{"content": content, "private": true, "message_type": 1, "content_attributes": map[string]bool{MarkerKey: true}}
	}
	tests := []struct {
		name        string
		content     string
		seed        []map[string]any // the conversation's messages before the call
		resumed     bool             // an earlier attempt under store.Once may have posted it
		posts, gets []outcome
		wantReqs    []string
		wantCreated int
		wantWaits   int
		wantErr     string
	}{
		{name: "posted at once", posts: []outcome{okay}, wantReqs: []string{post}, wantCreated: 1},
		{name: "500 before it was created: looked for, posted again", posts: []outcome{failBefore, okay},
			wantReqs: []string{post, get, post}, wantCreated: 1, wantWaits: 1},
		{name: "500 after it was created: found, not posted again", posts: []outcome{failAfter},
			wantReqs: []string{post, get}, wantCreated: 1, wantWaits: 1},
		{name: "500 on every attempt: looked for after each", posts: []outcome{failBefore},
			wantReqs: []string{post, get, post, get, post, get}, wantWaits: 3, wantErr: "500 Internal Server Error"},
		{name: "created by the last attempt: found after it", posts: []outcome{failBefore, failBefore, failAfter},
			wantReqs: []string{post, get, post, get, post, get}, wantCreated: 1, wantWaits: 3},
		{name: "the look fails: not posted again", posts: []outcome{failBefore}, gets: []outcome{failBefore},
			wantReqs: []string{post, get, get, get}, wantWaits: 3, wantErr: "whether it took effect is unknown"},
		{name: "429: posted again without looking", posts: []outcome{throttled, okay},
			wantReqs: []string{post, post}, wantCreated: 1, wantWaits: 1},
		{name: "422 is final", posts: []outcome{invalid}, wantReqs: []string{post}, wantErr: "422"},
		{name: "stored without its trailing whitespace: still found", content: "SLA risk \n\n", posts: []outcome{failAfter},
			wantReqs: []string{post, get}, wantCreated: 1, wantWaits: 1},
		{name: "the same text, not ours: posted again", posts: []outcome{failBefore, okay},
			seed: []map[string]any{
				{"content": NotePrefix + " SLA risk", "private": false, "message_type": 1}, // public
				{"content": "SLA risk", "private": true, "message_type": 1},                // an agent's note
			},
			wantReqs: []string{post, get, post}, wantCreated: 1, wantWaits: 1},
		{name: "another note of ours: posted again", posts: []outcome{failBefore, okay},
			seed:     []map[string]any{ours(NotePrefix + " SLA breached")},
			wantReqs: []string{post, get, post}, wantCreated: 1, wantWaits: 1},
		{name: "resumed, posted before: nothing sent", resumed: true, seed: []map[string]any{ours(NotePrefix + " SLA risk")},
			wantReqs: []string{get}},
		{name: "resumed, not posted before: looked for, then posted", resumed: true,
			wantReqs: []string{get, post}, wantCreated: 1},
		{name: "resumed, the look fails: not posted", resumed: true, gets: []outcome{failBefore},
			wantReqs: []string{get, get, get}, wantWaits: 2, wantErr: "whether an earlier attempt posted it is unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &notesChatwoot{posts: tt.posts, gets: tt.gets}
			for _, m := range tt.seed {
				f.add(m)
			}
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			clk := newClock()
			ctx := t.Context()
			if tt.resumed {
				ctx = resumed(t)
			}
			content := tt.content
			if content == "" {
				content = "SLA risk"
			}
			err := newTestClient(t, srv.URL, clk, Options{}).PrivateNote(ctx, 7, 1423, content)
			reqs, created := f.requests()
			assert.Equal(t, tt.wantReqs, reqs)
			assert.Equal(t, tt.wantCreated, created, "notes created")
			assert.Len(t, clk.slept(), tt.wantWaits)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.NotContains(t, err.Error(), "SLA risk", "an error never quotes the note")
		})
	}
}

// TestPrivateNoteAnswerLost covers the failures that come after Chatwoot
// created the note: no answer before the attempt's timeout, and a
// connection lost after the request was sent.
func TestPrivateNoteAnswerLost(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	tests := []struct {
		name  string
		posts []outcome
		// lose, when set, drops the answer of the first POST.
		lose    error
		timeout bool
	}{
		{name: "timeout", posts: []outcome{hangAfter, okay}, timeout: true},
		{name: "connection reset after sending", posts: []outcome{okay}, lose: reset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &notesChatwoot{posts: tt.posts}
			srv := httptest.NewServer(f)
			t.Cleanup(srv.Close)
			var o Options
			if tt.timeout {
				// Attempts enough that the look gets through however many of
				// them a busy machine takes past the short timeout.
				o.Timeout, o.MaxAttempts = 200*time.Millisecond, 100
			}
			if tt.lose != nil {
				var lost sync.Once
				o.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
					resp, err := http.DefaultTransport.RoundTrip(r)
					if err == nil && r.Method == http.MethodPost {
						drop := false
						lost.Do(func() { drop = true })
						if drop {
							resp.Body.Close()
							return nil, tt.lose
						}
					}
					return resp, err
				})
			}
			err := newTestClient(t, srv.URL, newClock(), o).PrivateNote(t.Context(), 7, 1423, "SLA risk")
			require.NoError(t, err)
			reqs, created := f.requests()
			assert.Equal(t, 1, created, "one note, found after its answer was lost (requests %v)", reqs)
			assert.Equal(t, []string{http.MethodPost, http.MethodGet}, reqs[:2])
			for _, m := range reqs[2:] {
				assert.Equal(t, http.MethodGet, m, "never posted again")
			}
		})
	}
}

func TestHasNote(t *testing.T) {
	marker := json.RawMessage(fmt.Sprintf(`{%q:true}`, MarkerKey))
	tests := []struct {
		name    string
		msgs    []Message
		content string
		want    bool
	}{
		{name: "none", content: NotePrefix + " x"},
		{name: "ours by prefix", msgs: []Message{{Private: true, Content: NotePrefix + " x"}}, content: NotePrefix + " x", want: true},
		{name: "ours by marker, prefix edited away", msgs: []Message{{Private: true, Content: "x", ContentAttributes: marker}},
			content: "x", want: true},
		{name: "CRLF and surrounding whitespace", msgs: []Message{{Private: true, Content: NotePrefix + " a\r\nb"}},
			content: "  " + NotePrefix + " a\nb\n", want: true},
		{name: "inner whitespace differs", msgs: []Message{{Private: true, Content: NotePrefix + " a  b"}}, content: NotePrefix + " a b"},
		{name: "public", msgs: []Message{{Content: NotePrefix + " x"}}, content: NotePrefix + " x"},
		{name: "another note", msgs: []Message{{Private: true, Content: NotePrefix + " y"}}, content: NotePrefix + " x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, HasNote(tt.msgs, tt.content))
		})
	}
}
