package providers

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/bedrock"
	"supportpipe/internal/support/drafting/llm"
	"supportpipe/internal/support/drafting/retrieval"
)

const kbLines = `{"short_code": "track_refund", "content": "Hi {{contact.name}}, your refund is on its way.", "examples": ["where is my refund"]}
{"short_code": "cancel_order", "content": "You can cancel an order from its page until it ships.", "examples": ["how do I cancel my order"]}
`

func config(t *testing.T, provider string) drafting.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kb.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(kbLines), 0o600))
	cfg := drafting.DefaultConfig()
	cfg.Provider, cfg.Knowledge = provider, path
	return cfg
}

var refund = drafting.Request{AccountID: 7, Text: "Where is my refund?", Contact: drafting.Person{Name: "Anna"}}

// canned counts the calls for canned responses.
type canned struct{ calls int }

func (c *canned) CannedResponses(context.Context, int64) ([]drafting.Canned, error) {
	c.calls++
	return []drafting.Canned{{ShortCode: "hours", Content: "Our opening hours are 9:00 to 17:00, Monday to Friday."}}, nil
}

func TestRetrieval(t *testing.T) {
	src := &canned{}
	p, err := New(context.Background(), config(t, drafting.Retrieval), Deps{Chatwoot: src})
	require.NoError(t, err)
	require.IsType(t, &retrieval.Provider{}, p)
	s, err := p.Draft(context.Background(), refund)
	require.NoError(t, err)
	assert.Equal(t, "Hi Anna, your refund is on its way.", s.Text)
	assert.Equal(t, 1, src.calls, "the account's canned responses were read")

	s, err = p.Draft(context.Background(), drafting.Request{AccountID: 7, Text: "what are your opening hours?"})
	require.NoError(t, err)
	assert.Equal(t, "hours", s.Source, "Chatwoot's canned response")

	off := config(t, drafting.Retrieval)
	off.CannedResponses = false
	src = &canned{}
	p, err = New(context.Background(), off, Deps{Chatwoot: src})
	require.NoError(t, err)
	_, err = p.Draft(context.Background(), refund)
	require.NoError(t, err)
	assert.Zero(t, src.calls, "canned_responses: false")
}

func TestKnowledgeFileErrors(t *testing.T) {
	cfg := drafting.DefaultConfig()
	cfg.Knowledge = filepath.Join(t.TempDir(), "missing.jsonl")
	_, err := New(context.Background(), cfg, Deps{})
	assert.ErrorContains(t, err, "missing.jsonl")
}

func TestOpenAI(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		io.WriteString(w, `{"choices":[{"message":{"role":"assistant","content":"Hi {{contact.name}}, it is on its way."},`+
			`"finish_reason":"stop"}],"usage":{"prompt_tokens":700,"completion_tokens":9}}`)
	}))
	t.Cleanup(srv.Close)
	cfg := config(t, drafting.OpenAI)
	cfg.OpenAI = drafting.OpenAIConfig{BaseURL: srv.URL + "/v1", Model: "llama3.1"}
	require.NoError(t, cfg.Check("drafting"))
	p, err := New(context.Background(), cfg, Deps{OpenAIKey: "sk-test"})
	require.NoError(t, err)
	require.IsType(t, &llm.Provider{}, p)
	assert.NotNil(t, p.(*llm.Provider).Fallback, "fallback: retrieval by default")
	s, err := p.Draft(context.Background(), refund)
	require.NoError(t, err)
	assert.Equal(t, drafting.Suggestion{Text: "Hi Anna, it is on its way.", Source: "track_refund", Score: s.Score,
		Provider: drafting.OpenAI, InputTokens: 700, OutputTokens: 9}, s)
	assert.Equal(t, "Bearer sk-test", auth)

	// The endpoint down, fallback none: no draft, and the failure.
	srv.Close()
	cfg.Fallback = drafting.FallbackNone
	p, err = New(context.Background(), cfg, Deps{})
	require.NoError(t, err)
	s, err = p.Draft(context.Background(), refund)
	assert.ErrorContains(t, err, "openai: ")
	assert.True(t, s.Abstained())
}

func TestBedrock(t *testing.T) {
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"output":{"message":{"content":[{"text":"Your refund is on its way."}],"role":"assistant"}},`+
			`"stopReason":"end_turn","usage":{"inputTokens":800,"outputTokens":8,"totalTokens":808},"metrics":{"latencyMs":300}}`)
	}))
	t.Cleanup(srv.Close)
	cfg := config(t, drafting.Bedrock)
	cfg.Bedrock = drafting.BedrockConfig{ModelID: "amazon.nova-lite-v1:0", Region: "eu-central-1"}
	ac := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), HTTPClient: srv.Client()}
	p, err := New(context.Background(), cfg, Deps{AWS: &ac, Bedrock: bedrock.Open})
	require.NoError(t, err)
	s, err := p.Draft(context.Background(), refund)
	require.NoError(t, err)
	assert.Equal(t, "Your refund is on its way.", s.Text)
	assert.Equal(t, 800, s.InputTokens)
	assert.Equal(t, "/model/amazon.nova-lite-v1:0/converse", path)
	assert.Equal(t, "us-east-1", ac.Region, "the runtime's configuration is not changed")
}

func TestBedrockNeedsARegion(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials")} {
		t.Setenv(k, v)
	}
	cfg := config(t, drafting.Bedrock)
	cfg.Bedrock.ModelID = "amazon.nova-lite-v1:0"
	_, err := New(context.Background(), cfg, Deps{Bedrock: bedrock.Open})
	assert.ErrorContains(t, err, "no AWS region")
	cfg.Bedrock.Region = "eu-west-1"
	_, err = New(context.Background(), cfg, Deps{Bedrock: bedrock.Open})
	assert.NoError(t, err, "the region from the configuration")
}

// TestBedrockNotBuiltIn: a program that links no Bedrock client says so
// at start rather than failing each draft.
func TestBedrockNotBuiltIn(t *testing.T) {
	cfg := config(t, drafting.Bedrock)
	cfg.Bedrock = drafting.BedrockConfig{ModelID: "amazon.nova-lite-v1:0", Region: "eu-west-1"}
	_, err := New(context.Background(), cfg, Deps{})
	assert.EqualError(t, err, "drafting: provider bedrock is not built into this program")
}
