package bedrock

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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/llm"
	"supportpipe/internal/support/drafting/retrieval"
)

const modelID = "anthropic.claude-3-5-haiku-20241022-v1:0"

// fakeBedrock answers Converse calls as Bedrock does, and records each
// request's path, headers and body.
type fakeBedrock struct {
	status int
	header map[string]string
	body   string

	mu   sync.Mutex
	reqs []*http.Request
	sent []map[string]any
}

func (f *fakeBedrock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	w.Header().Set("X-Amzn-Requestid", "5b8f0d2c-8d3f-4a4b-9a39-6f3c2d1e0a11")
	for k, v := range f.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(f.status)
	io.WriteString(w, f.body)
}

// newModel points the real SDK client at the fake.
func newModel(t *testing.T, f *fakeBedrock) *Model {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := bedrockruntime.New(bedrockruntime.Options{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "never-sent-in-clear", ""),
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
	})
	return &Model{Client: client, ModelID: modelID}
}

const answer = `{"metrics":{"latencyMs":812},"output":{"message":{"content":[{"text":"Hi {{contact.name}}, "},` +
	`{"text":"your refund is on its way."}],"role":"assistant"}},"stopReason":"end_turn",` +
	`"usage":{"inputTokens":1024,"outputTokens":17,"totalTokens":1041}}`

func TestConverseRequestAndAnswer(t *testing.T) {
	f := &fakeBedrock{status: 200, body: answer}
	m := newModel(t, f)
	c, err := m.Complete(context.Background(), llm.Prompt{System: "be brief", User: "<customer_message>where is my refund</customer_message>"}, 300)
	require.NoError(t, err)
	assert.Equal(t, llm.Completion{Text: "Hi {{contact.name}}, your refund is on its way.", InputTokens: 1024, OutputTokens: 17}, c)

	require.Len(t, f.reqs, 1)
	r, body := f.reqs[0], f.sent[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/model/"+modelID+"/converse", r.URL.Path, "the model id names the resource")
	assert.Contains(t, r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
	assert.Contains(t, r.Header.Get("Authorization"), "/eu-west-1/bedrock/aws4_request")
	assert.Equal(t, []any{map[string]any{"role": "user", "content": []any{
		map[string]any{"text": "<customer_message>where is my refund</customer_message>"}}}}, body["messages"])
	assert.Equal(t, []any{map[string]any{"text": "be brief"}}, body["system"])
	assert.Equal(t, map[string]any{"maxTokens": 300.0, "temperature": 0.0}, body["inferenceConfig"])
	for _, key := range []string{"toolConfig", "modelId"} {
		assert.NotContains(t, body, key)
	}
}

func TestConverseStopReasons(t *testing.T) {
	truncated := strings.Replace(answer, `"end_turn"`, `"max_tokens"`, 1)
	c, err := newModel(t, &fakeBedrock{status: 200, body: truncated}).Complete(context.Background(), llm.Prompt{User: "x"}, 10)
	require.NoError(t, err)
	assert.True(t, c.Truncated)

	filtered := strings.Replace(answer, `"end_turn"`, `"guardrail_intervened"`, 1)
	c, err = newModel(t, &fakeBedrock{status: 200, body: filtered}).Complete(context.Background(), llm.Prompt{User: "x"}, 10)
	require.NoError(t, err)
	assert.Empty(t, c.Text, "a reply Bedrock's filters stopped is no draft")
	assert.Equal(t, 1024, c.InputTokens)
}

func TestConverseErrors(t *testing.T) {
	for name, f := range map[string]*fakeBedrock{
		"throttled": {status: 429, header: map[string]string{"X-Amzn-Errortype": "ThrottlingException"},
			body: `{"message":"Too many requests, please wait before trying again."}`},
		"denied": {status: 403, header: map[string]string{"X-Amzn-Errortype": "AccessDeniedException"},
			body: `{"message":"You don't have access to the model with the specified model ID."}`},
		"model error": {status: 424, header: map[string]string{"X-Amzn-Errortype": "ModelErrorException"},
			body: `{"message":"The model failed","originalStatusCode":500}`},
	} {
		_, err := newModel(t, f).Complete(context.Background(), llm.Prompt{User: "x"}, 10)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "bedrock converse", name)
		assert.NotContains(t, err.Error(), "never-sent-in-clear", name)
	}
}

// TestProviderOverBedrock runs the grounded provider on the SDK and the
// fake: the prompt reaches Bedrock, the usage comes back as tokens.
func TestProviderOverBedrock(t *testing.T) {
	f := &fakeBedrock{status: 200, body: answer}
	kb := []drafting.Canned{{ShortCode: "track_refund", Content: "Your refund is on its way.", Examples: []string{"where is my refund"}}}
	p := &llm.Provider{Name: drafting.Bedrock, Model: newModel(t, f), Catalog: retrieval.NewCatalog(kb, nil, retrieval.CatalogOptions{}),
		TopK: 3, MaxTokens: 300, Timeout: time.Hour}
	s, err := p.Draft(context.Background(), drafting.Request{Text: "Where is my refund?", Contact: drafting.Person{Name: "Anna"}})
	require.NoError(t, err)
	assert.Equal(t, "Hi Anna, your refund is on its way.", s.Text)
	assert.Equal(t, "track_refund", s.Source)
	assert.Equal(t, drafting.Bedrock, s.Provider)
	assert.Equal(t, 1024, s.InputTokens)
	assert.Equal(t, 17, s.OutputTokens)
	msgs := f.sent[0]["messages"].([]any)
	text := msgs[0].(map[string]any)["content"].([]any)[0].(map[string]any)["text"].(string)
	assert.Contains(t, text, "<customer_message>\nWhere is my refund?\n</customer_message>")
	assert.Contains(t, text, `<canned_response short_code="track_refund">`)
}
