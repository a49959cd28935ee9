// Package providers builds the drafting provider the configuration names
// (drafting.Config): the one call a composition root makes. It is the only
// place that knows every provider, so that the domain (drafting, retrieval)
// imports no AWS SDK; Bedrock's client is given to it (Deps.Bedrock).
package providers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/llm"
	"supportpipe/internal/support/drafting/openai"
	"supportpipe/internal/support/drafting/retrieval"
)

// Where the OpenAI-compatible endpoint's key comes from: the variable
// itself locally, or on AWS a Secrets Manager secret whose ARN the second
// names (as CHATWOOT_API_TOKEN and CHATWOOT_API_TOKEN_ARN). The key is never
// in the configuration file.
const (
	OpenAIKeyEnv    = "OPENAI_API_KEY"
	OpenAIKeyARNEnv = "OPENAI_API_KEY_ARN"
)

// Deps are what the runtime gives the providers.
type Deps struct {
	// Chatwoot lists the accounts' canned responses (rest.Client); nil to
	// draw on the knowledge file alone. Pass it when Chatwoot is live.
	Chatwoot drafting.CannedSource
	// AWS is the runtime's AWS configuration, for Bedrock; nil loads the
	// default chain (environment, profile, role).
	AWS *aws.Config
	// Bedrock opens a Bedrock model (bedrock.Open). A runtime that drafts
	// passes it; the others leave it out and link no Bedrock client, whose
	// SDK would add most of a megabyte to every Lambda bootstrap.
	Bedrock func(ctx context.Context, aws *aws.Config, region, modelID string) (llm.Model, error)
	// OpenAIKey is the OpenAI-compatible endpoint's key; empty for none.
	OpenAIKey string
	// Transport carries the OpenAI-compatible calls; nil for the default.
	Transport http.RoundTripper
	Log       *slog.Logger
	Now       func() time.Time
}

// New builds the provider cfg names, with cfg.Knowledge loaded. The caller
// has checked cfg (config.Parse does).
func New(ctx context.Context, cfg drafting.Config, d Deps) (drafting.Provider, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	var knowledge []drafting.Canned
	if cfg.Knowledge != "" {
		var err error
		if knowledge, err = drafting.LoadKnowledge(cfg.Knowledge); err != nil {
			return nil, err
		}
	}
	var source drafting.CannedSource
	if cfg.CannedResponses {
		source = d.Chatwoot
	}
	if len(knowledge) == 0 && source == nil {
		d.Log.Warn("drafting: no knowledge file and no canned responses from Chatwoot: every draft request will be skipped")
	}
	catalog := retrieval.NewCatalog(knowledge, source, retrieval.CatalogOptions{Refresh: cfg.CannedRefresh, Now: d.Now, Log: d.Log})
	ret := &retrieval.Provider{Catalog: catalog, MinScore: cfg.MinScore}
	if cfg.Provider == drafting.Retrieval {
		return ret, nil
	}
	p := &llm.Provider{Name: cfg.Provider, Catalog: catalog, TopK: cfg.TopK, MaxTokens: cfg.MaxTokens,
		Timeout: cfg.Timeout, Log: d.Log}
	if cfg.Fallback == drafting.FallbackRetrieval {
		p.Fallback = ret
	}
	switch cfg.Provider {
	case drafting.Bedrock:
		if d.Bedrock == nil {
			return nil, errors.New("drafting: provider bedrock is not built into this program")
		}
		m, err := d.Bedrock(ctx, d.AWS, cfg.Bedrock.Region, cfg.Bedrock.ModelID)
		if err != nil {
			return nil, err
		}
		p.Model = m
	case drafting.OpenAI:
		m, err := openai.New(cfg.OpenAI.BaseURL, cfg.OpenAI.Model, d.OpenAIKey, d.Transport)
		if err != nil {
			return nil, err
		}
		p.Model = m
	default:
		return nil, fmt.Errorf("drafting: unknown provider %q", cfg.Provider)
	}
	return p, nil
}
