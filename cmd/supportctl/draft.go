package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"

	"github.com/spf13/cobra"

	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/logging"
	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/bedrock"
	"supportpipe/internal/support/drafting/providers"
)

func init() {
	register(func() *cobra.Command {
		c := &cobra.Command{
			Use:   "draft [--knowledge FILE] < lines.jsonl",
			Short: `suggest replies: JSON lines {"id","text"} in, {"id","draft","source","score"} out`,
			Long: `draft reads JSON lines {"id","text"} on stdin and writes one line
{"id","draft","source","score"} per input line with the configured drafting
provider (drafting: in SUPPORT_CONFIG); draft and source are null when it
abstains, source is the chosen canned response's short_code. --knowledge
loads a knowledge file instead of drafting.knowledge. When live
(CHATWOOT_LIVE=true), the canned responses of CHATWOOT_ACCOUNT_ID's account
are drawn on too.

A line the provider fails on is written with a null draft, reported on stderr
with its line number, and draft goes on; it exits 1 at the end when any line
failed. A line that is not JSON stops it.`,
			Example: `  echo '{"id":1,"text":"where is my refund?"}' | supportctl draft --knowledge kb.yaml`,
		}
		knowledge := c.Flags().String("knowledge", "", "knowledge file (JSON lines or YAML: short_code, content, examples)")
		_ = c.RegisterFlagCompletionFunc("knowledge", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return []cobra.Completion{"jsonl", "json", "yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
		})
		c.RunE = func(c *cobra.Command, _ []string) error {
			return draftCmd(c.Context(), *knowledge, c.InOrStdin(), c.OutOrStdout(), c.ErrOrStderr())
		}
		return c
	})
}

// draftCmd drafts the lines of stdin with the configured provider, or one
// drawing on the knowledge file when given.
func draftCmd(ctx context.Context, knowledge string, stdin io.Reader, stdout, stderr io.Writer) error {
	settings, err := config.ReadSettings(os.Getenv)
	if err != nil {
		return err
	}
	cfg := settings.File.Drafting.Config
	if knowledge != "" {
		cfg.Knowledge = knowledge
	}
	deps := providers.Deps{OpenAIKey: os.Getenv(providers.OpenAIKeyEnv), Bedrock: bedrock.Open,
		Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: settings.LogLevel, ReplaceAttr: logging.ReplaceAttr}))}
	if settings.Live && settings.Account > 0 {
		cw, err := compose.Chatwoot(settings, os.Getenv("CHATWOOT_API_TOKEN"), nil, 1)
		if err != nil {
			return err
		}
		deps.Chatwoot = cw
	}
	if cfg.Knowledge == "" && (deps.Chatwoot == nil || !cfg.CannedResponses) {
		return usageErrorf("nothing to draft from: give --knowledge FILE (or drafting.knowledge), " +
			"or run live (CHATWOOT_LIVE=true and CHATWOOT_ACCOUNT_ID) for the account's canned responses")
	}
	p, err := providers.New(ctx, cfg, deps)
	if err != nil {
		return err
	}
	return draftLines(ctx, p, settings.Account, stdin, stdout, stderr)
}

// draftLines writes to w a draft for each JSON line of r, for the account;
// errw hears of the lines that failed.
func draftLines(ctx context.Context, p drafting.Provider, account int64, r io.Reader, w, errw io.Writer) error {
	in := bufio.NewScanner(r)
	in.Buffer(make([]byte, 64<<10), 4<<20)
	out := bufio.NewWriter(w)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	failed := 0
	for line := 1; in.Scan(); line++ {
		if len(in.Bytes()) == 0 {
			continue
		}
		var req struct {
			ID   json.RawMessage `json:"id"`
			Text string          `json:"text"`
		}
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		s, err := p.Draft(ctx, drafting.Request{AccountID: account, Text: req.Text})
		if err != nil {
			// One failed line (a model down, fallback none) does not stop
			// the others; it is reported, and the exit status says so.
			failed++
			fmt.Fprintf(errw, "supportctl draft: line %d: %v\n", line, err)
		}
		var draft, source *string
		if !s.Abstained() {
			draft, source = &s.Text, &s.Source
			if s.Source == "" {
				source = nil
			}
		}
		if err := enc.Encode(struct {
			ID     json.RawMessage `json:"id"`
			Draft  *string         `json:"draft"`
			Source *string         `json:"source"`
			Score  float64         `json:"score"`
		}{req.ID, draft, source, math.Round(s.Score*1e4) / 1e4}); err != nil {
			return err
		}
	}
	if err := in.Err(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d lines failed", failed)
	}
	return nil
}
