package drafting

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Provider names, the values of Config.Provider.
const (
	Retrieval = "retrieval"
	Bedrock   = "bedrock"
	OpenAI    = "openai"
)

// Fallback values: what a model provider does when the model fails.
const (
	FallbackRetrieval = "retrieval"
	FallbackNone      = "none"
)

// Config chooses and tunes the provider: the `drafting:` section of the
// configuration file. Secrets are not in it: the OpenAI-compatible
// endpoint's key comes from the environment (OPENAI_API_KEY) or, on AWS,
// from Secrets Manager (OPENAI_API_KEY_ARN).
type Config struct {
	// Provider is retrieval (the default: no network, no model), bedrock
	// or openai.
	Provider string `yaml:"provider"`
	// Knowledge is a knowledge file (LoadKnowledge); empty for none.
	Knowledge string `yaml:"knowledge"`
	// MinScore is the confidence below which retrieval abstains.
	MinScore float64 `yaml:"min_score"`
	// CannedResponses adds the account's canned responses from Chatwoot
	// (when live) to the knowledge file's, read again every CannedRefresh.
	CannedResponses bool          `yaml:"canned_responses"`
	CannedRefresh   time.Duration `yaml:"canned_refresh"`
	// Timeout bounds one model call; MaxTokens, the reply it may write;
	// TopK, the canned responses its prompt carries.
	Timeout   time.Duration `yaml:"timeout"`
	MaxTokens int           `yaml:"max_tokens"`
	TopK      int           `yaml:"top_k"`
	// Fallback is what a model provider does when the model fails or times
	// out: retrieval's draft, or none.
	Fallback string        `yaml:"fallback"`
	Bedrock  BedrockConfig `yaml:"bedrock"`
	OpenAI   OpenAIConfig  `yaml:"openai"`
}

// BedrockConfig names the Bedrock model; Region defaults to the runtime's.
type BedrockConfig struct {
	ModelID string `yaml:"model_id"`
	Region  string `yaml:"region"`
}

// OpenAIConfig names an OpenAI-compatible endpoint (OpenAI, Ollama, vLLM)
// and its model. BaseURL ends before /chat/completions, as the vendors
// write it: https://api.openai.com/v1, http://localhost:11434/v1.
type OpenAIConfig struct {
	BaseURL string `yaml:"base_url"`
	Model   string `yaml:"model"`
}

// DefaultMinScore is retrieval's abstention threshold, chosen on part of
// the shared labelled data and measured on the rest (docs/drafts.md).
const DefaultMinScore = 0.23

// DefaultConfig is the configuration a file without `drafting:` gets.
func DefaultConfig() Config {
	return Config{
		Provider:        Retrieval,
		MinScore:        DefaultMinScore,
		CannedResponses: true,
		CannedRefresh:   10 * time.Minute,
		Timeout:         10 * time.Second,
		MaxTokens:       400,
		TopK:            3,
		Fallback:        FallbackRetrieval,
		OpenAI:          OpenAIConfig{BaseURL: "https://api.openai.com/v1"},
	}
}

// Check reports every impossible value; each message starts with the key,
// under the section's key (drafting in the configuration file).
func (c Config) Check(section string) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(section+"."+format, args...)) }
	switch c.Provider {
	case Retrieval, Bedrock, OpenAI:
	default:
		bad("provider: %q is not retrieval, bedrock or openai", c.Provider)
	}
	if !(c.MinScore >= 0 && c.MinScore <= 1) {
		bad("min_score: %v is not in [0, 1]", c.MinScore)
	}
	if c.CannedRefresh <= 0 {
		bad("canned_refresh: %v is not positive", c.CannedRefresh)
	}
	if c.Timeout <= 0 {
		bad("timeout: %v is not positive", c.Timeout)
	}
	if c.MaxTokens <= 0 || c.MaxTokens > 8192 {
		bad("max_tokens: %d is not in 1..8192", c.MaxTokens)
	}
	if c.TopK <= 0 || c.TopK > 20 {
		bad("top_k: %d is not in 1..20", c.TopK)
	}
	switch c.Fallback {
	case FallbackRetrieval, FallbackNone:
	default:
		bad("fallback: %q is not retrieval or none", c.Fallback)
	}
	if c.Provider == Bedrock && strings.TrimSpace(c.Bedrock.ModelID) == "" {
		bad("bedrock.model_id: needed by provider bedrock")
	}
	if c.Provider == OpenAI {
		if strings.TrimSpace(c.OpenAI.Model) == "" {
			bad("openai.model: needed by provider openai")
		}
		u, err := url.Parse(c.OpenAI.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
			bad("openai.base_url: %q is not an absolute http(s) URL without credentials or query", c.OpenAI.BaseURL)
		}
	}
	return errors.Join(errs...)
}
