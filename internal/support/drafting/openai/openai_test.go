package openai

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/llm"
	"supportpipe/internal/support/drafting/retrieval"
)

const testKey = "sk-test-3f9a7c1e-never-print-me"

// fakeEndpoint answers chat completions as an OpenAI-compatible server
// does, and records each request.
type fakeEndpoint struct {
	status int
	body   string

	mu   sync.Mutex
	reqs []*http.Request
	sent []map[string]any
}

func (f *fakeEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.reqs, f.sent = append(f.reqs, r), append(f.sent, body)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	io.WriteString(w, f.body)
}

func newModel(t *testing.T, f http.Handler, key string) *Model {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	m, err := New(srv.URL+"/v1/", "llama3.1:8b", key, nil)
	require.NoError(t, err)
	return m
}

const answer = `{"id":"chatcmpl-123","object":"chat.completion","created":1778583824,"model":"llama3.1:8b",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"Hi {{contact.name}}, your refund is on its way."},` +
	`"finish_reason":"stop"}],"usage":{"prompt_tokens":982,"completion_tokens":14,"total_tokens":996}}`

func TestChatCompletion(t *testing.T) {
	f := &fakeEndpoint{status: 200, body: answer}
	m := newModel(t, f, testKey)
	c, err := m.Complete(context.Background(), llm.Prompt{System: "be brief", User: "where is my refund"}, 300)
	require.NoError(t, err)
	assert.Equal(t, llm.Completion{Text: "Hi {{contact.name}}, your refund is on its way.", InputTokens: 982, OutputTokens: 14}, c)

	require.Len(t, f.reqs, 1)
	r, body := f.reqs[0], f.sent[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/v1/chat/completions", r.URL.Path)
	assert.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, map[string]any{
		"model": "llama3.1:8b",
		"messages": []any{
			map[string]any{"role": "system", "content": "be brief"},
			map[string]any{"role": "user", "content": "where is my refund"},
		},
		"max_tokens": 300.0, "temperature": 0.0, "stream": false,
	}, body, "no tools, no functions, a bounded reply")
}

func TestNoKeyNoAuthorization(t *testing.T) {
	f := &fakeEndpoint{status: 200, body: answer}
	_, err := newModel(t, f, "").Complete(context.Background(), llm.Prompt{User: "x"}, 10)
	require.NoError(t, err)
	assert.Empty(t, f.reqs[0].Header.Get("Authorization"))
}

func TestFinishReasons(t *testing.T) {
	c, err := newModel(t, &fakeEndpoint{status: 200, body: strings.Replace(answer, `"stop"`, `"length"`, 1)}, "").
		Complete(context.Background(), llm.Prompt{User: "x"}, 10)
	require.NoError(t, err)
	assert.True(t, c.Truncated)

	c, err = newModel(t, &fakeEndpoint{status: 200, body: strings.Replace(answer, `"stop"`, `"content_filter"`, 1)}, "").
		Complete(context.Background(), llm.Prompt{User: "x"}, 10)
	require.NoError(t, err)
	assert.Empty(t, c.Text)

	c, err = newModel(t, &fakeEndpoint{status: 200, body: `{"choices":[{"message":{"role":"assistant","content":null},"finish_reason":"stop"}]}`}, "").
		Complete(context.Background(), llm.Prompt{User: "x"}, 10)
	require.NoError(t, err)
	assert.Empty(t, c.Text)
}

func TestErrors(t *testing.T) {
	for name, c := range map[string]struct {
		f    *fakeEndpoint
		want string
	}{
		"openai's error": {&fakeEndpoint{status: 429, body: `{"error":{"message":"Rate limit reached for ` + testKey + `","type":"requests"}}`},
			"429 Too Many Requests: Rate limit reached for [redacted]"},
		"ollama's error": {&fakeEndpoint{status: 404, body: `{"error":"model \"llama3.1:8b\" not found, try pulling it first"}`},
			`404 Not Found: model "llama3.1:8b" not found`},
		"a proxy's page":  {&fakeEndpoint{status: 502, body: `<html>bad gateway</html>`}, "502 Bad Gateway"},
		"no choice":       {&fakeEndpoint{status: 200, body: `{"choices":[],"usage":{"prompt_tokens":5}}`}, "no choice"},
		"not json":        {&fakeEndpoint{status: 200, body: `{"choices":`}, "decode answer"},
		"a huge answer":   {&fakeEndpoint{status: 200, body: strings.Repeat(" ", maxResponse+1)}, "larger than"},
		"a redirect away": {&fakeEndpoint{status: 307, body: `{}`}, "307 Temporary Redirect"},
	} {
		_, err := newModel(t, c.f, testKey).Complete(context.Background(), llm.Prompt{User: "x"}, 10)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.want, name)
		assert.NotContains(t, err.Error(), testKey, name)
	}
}

func TestCallerBoundsTheCall(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newModel(t, hang, "").Complete(ctx, llm.Prompt{User: "x"}, 10)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestNew(t *testing.T) {
	for _, base := range []string{"", "localhost:11434/v1", "ftp://h/v1", "https://u:p@h/v1", "https://h/v1?x=1"} {
		_, err := New(base, "m", "", nil)
		assert.Error(t, err, base)
	}
	_, err := New("https://api.openai.com/v1", " ", "", nil)
	assert.Error(t, err)
	m, err := New("https://api.openai.com/v1", "gpt-4o-mini", "", nil)
	require.NoError(t, err)
	assert.Equal(t, "https://api.openai.com/v1/chat/completions", m.endpoint)
}

// TestProviderOverOpenAI runs the grounded provider on the endpoint.
func TestProviderOverOpenAI(t *testing.T) {
	f := &fakeEndpoint{status: 200, body: answer}
	kb := []drafting.Canned{{ShortCode: "track_refund", Content: "Your refund is on its way.", Examples: []string{"where is my refund"}}}
	p := &llm.Provider{Name: drafting.OpenAI, Model: newModel(t, f, testKey), Catalog: retrieval.NewCatalog(kb, nil, retrieval.CatalogOptions{}),
		TopK: 3, MaxTokens: 300, Timeout: time.Hour}
	s, err := p.Draft(context.Background(), drafting.Request{Text: "Where is my refund?", Contact: drafting.Person{Name: "Anna"}})
	require.NoError(t, err)
	assert.Equal(t, drafting.Suggestion{Text: "Hi Anna, your refund is on its way.", Source: "track_refund", Score: s.Score,
		Provider: drafting.OpenAI, InputTokens: 982, OutputTokens: 14}, s)
	user := f.sent[0]["messages"].([]any)[1].(map[string]any)["content"].(string)
	assert.Contains(t, user, "<customer_message>\nWhere is my refund?\n</customer_message>")
}
