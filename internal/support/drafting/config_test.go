package drafting

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultConfigChecks(t *testing.T) {
	require.NoError(t, DefaultConfig().Check("drafting"))
	assert.Equal(t, Retrieval, DefaultConfig().Provider)
}

func TestConfigCheck(t *testing.T) {
	for _, c := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Provider = "gpt" }, `provider: "gpt" is not retrieval, bedrock or openai`},
		{func(c *Config) { c.MinScore = 1.5 }, "min_score: 1.5 is not in [0, 1]"},
		{func(c *Config) { c.CannedRefresh = 0 }, "canned_refresh: 0s is not positive"},
		{func(c *Config) { c.Timeout = -time.Second }, "timeout: -1s is not positive"},
		{func(c *Config) { c.MaxTokens = 0 }, "max_tokens: 0 is not in 1..8192"},
		{func(c *Config) { c.TopK = 21 }, "top_k: 21 is not in 1..20"},
		{func(c *Config) { c.Fallback = "retry" }, `fallback: "retry" is not retrieval or none`},
		{func(c *Config) { c.Provider = Bedrock }, "bedrock.model_id: needed by provider bedrock"},
		{func(c *Config) { c.Provider = OpenAI }, "openai.model: needed by provider openai"},
		{func(c *Config) { c.Provider, c.OpenAI.Model, c.OpenAI.BaseURL = OpenAI, "m", "localhost:11434" }, "openai.base_url"},
		{func(c *Config) { c.Provider, c.OpenAI.Model, c.OpenAI.BaseURL = OpenAI, "m", "https://u:p@h/v1" }, "openai.base_url"},
	} {
		cfg := DefaultConfig()
		c.change(&cfg)
		assert.ErrorContains(t, cfg.Check("drafting"), "drafting."+c.want)
	}
	ok := DefaultConfig()
	ok.Provider, ok.OpenAI.Model, ok.OpenAI.BaseURL = OpenAI, "llama3.1", "http://127.0.0.1:11434/v1"
	assert.NoError(t, ok.Check("drafting"))
	ok.Provider, ok.Bedrock.ModelID = Bedrock, "anthropic.claude-3-haiku-20240307-v1:0"
	assert.NoError(t, ok.Check("drafting"))
}
