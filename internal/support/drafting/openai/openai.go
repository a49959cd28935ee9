// Package openai is the drafting model behind any OpenAI-compatible chat
// completions endpoint (OpenAI, Ollama, vLLM): POST {base}/chat/completions
// with a system and a user message, no tools, temperature 0, max_tokens,
// the usage reported as tokens.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"supportpipe/internal/support/drafting/llm"
	"supportpipe/internal/support/runes"
)

const (
	// maxResponse bounds an answer: max_tokens bounds the reply, this the
	// body an endpoint may send whatever it was asked.
	maxResponse = 1 << 20
	// maxErrorMessage bounds the endpoint's message an error carries.
	maxErrorMessage = 300
)

// Model is a model behind an OpenAI-compatible endpoint.
type Model struct {
	endpoint string
	model    string
	key      string
	hc       *http.Client
}

var _ llm.Model = (*Model)(nil)

// New returns the model named model at baseURL, which ends before
// /chat/completions as the vendors write it (https://api.openai.com/v1,
// http://localhost:11434/v1). key may be empty (a local Ollama wants none);
// transport nil means http.DefaultTransport.
func New(baseURL, model, key string, transport http.RoundTripper) (*Model, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return nil, errors.New("openai: base URL must be an absolute http(s) URL without credentials or query")
	}
	if strings.TrimSpace(model) == "" {
		return nil, errors.New("openai: no model")
	}
	return &Model{
		endpoint: strings.TrimSuffix(u.String(), "/") + "/chat/completions",
		model:    model,
		key:      strings.TrimSpace(key),
		hc: &http.Client{
			Transport: transport,
			// The key travels in a header that a redirect to another host
			// would carry along: never follow one.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type request struct {
	Model       string    `json:"model"`
	Messages    []message `json:"messages"`
	MaxTokens   int       `json:"max_tokens"`
	Temperature float64   `json:"temperature"`
	Stream      bool      `json:"stream"`
}

type response struct {
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

// Complete implements llm.Model. The caller's context bounds the call.
func (m *Model) Complete(ctx context.Context, p llm.Prompt, maxTokens int) (llm.Completion, error) {
	body, err := json.Marshal(request{
		Model:       m.model,
		Messages:    []message{{Role: "system", Content: p.System}, {Role: "user", Content: p.User}},
		MaxTokens:   maxTokens,
		Temperature: 0,
	})
	if err != nil {
		return llm.Completion{}, fmt.Errorf("openai: encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.endpoint, bytes.NewReader(body))
	if err != nil {
		return llm.Completion{}, fmt.Errorf("openai: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if m.key != "" {
		req.Header.Set("Authorization", "Bearer "+m.key)
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is known; the error need not repeat it
		}
		return llm.Completion{}, fmt.Errorf("openai: POST chat/completions: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return llm.Completion{}, fmt.Errorf("openai: read answer: %w", err)
	}
	if len(data) > maxResponse {
		return llm.Completion{}, fmt.Errorf("openai: answer larger than %d bytes", maxResponse)
	}
	if resp.StatusCode != http.StatusOK {
		return llm.Completion{}, fmt.Errorf("openai: POST chat/completions: %d %s%s", resp.StatusCode, http.StatusText(resp.StatusCode), m.message(data))
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return llm.Completion{}, fmt.Errorf("openai: decode answer: %w", err)
	}
	c := llm.Completion{InputTokens: r.Usage.PromptTokens, OutputTokens: r.Usage.CompletionTokens}
	if len(r.Choices) == 0 {
		return c, errors.New("openai: no choice in the answer")
	}
	ch := r.Choices[0]
	switch ch.FinishReason {
	case "length":
		c.Truncated = true
	case "content_filter":
		return c, nil // the endpoint's filter stopped the reply: no draft
	}
	if ch.Message.Content != nil {
		c.Text = *ch.Message.Content
	}
	return c, nil
}

// message is the endpoint's error message ({"error":{"message":…}} or
// {"error":"…"} as Ollama writes it), shortened, with the key removed
// should an endpoint echo it.
func (m *Model) message(body []byte) string {
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(v.Error, &s) != nil {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(v.Error, &e) != nil {
			return ""
		}
		s = e.Message
	}
	if m.key != "" {
		s = strings.ReplaceAll(s, m.key, "[redacted]")
	}
	s = runes.Truncate(strings.Join(strings.Fields(s), " "), maxErrorMessage)
	if s == "" {
		return ""
	}
	return ": " + s
}
