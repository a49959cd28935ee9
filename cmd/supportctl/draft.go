package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"

	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/providers"
)

// draftCmd reads JSON lines {"id","text"} and writes {"id","draft",
// "source","score"} per line with the configured provider (drafting: in
// SUPPORT_CONFIG); draft and source are null when it abstains. --knowledge
// loads a knowledge file instead of drafting.knowledge. When live, the
// canned responses of CHATWOOT_ACCOUNT_ID's account are drawn on too.
func draftCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("draft", flag.ContinueOnError)
	knowledge := fs.String("knowledge", "", "knowledge file (JSON lines or YAML: short_code, content, examples)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	settings, err := config.ReadSettings(os.Getenv)
	if err != nil {
		return err
	}
	cfg := settings.File.Drafting.Config
	if *knowledge != "" {
		cfg.Knowledge = *knowledge
	}
	deps := providers.Deps{OpenAIKey: os.Getenv(providers.OpenAIKeyEnv),
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: settings.LogLevel}))}
	if settings.Live && settings.Account > 0 {
		cw, err := compose.Chatwoot(settings, os.Getenv("CHATWOOT_API_TOKEN"), nil, 1)
		if err != nil {
			return err
		}
		deps.Chatwoot = cw
	}
	if cfg.Knowledge == "" && (deps.Chatwoot == nil || !cfg.CannedResponses) {
		return errors.New("draft: nothing to draft from: give --knowledge FILE (or drafting.knowledge), " +
			"or run live (CHATWOOT_LIVE=true and CHATWOOT_ACCOUNT_ID) for the account's canned responses")
	}
	p, err := providers.New(ctx, cfg, deps)
	if err != nil {
		return err
	}
	return draftLines(ctx, p, settings.Account, os.Stdin, os.Stdout, os.Stderr)
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
			return fmt.Errorf("draft: line %d: %w", line, err)
		}
		s, err := p.Draft(ctx, drafting.Request{AccountID: account, Text: req.Text})
		if err != nil {
			// One failed line (a model down, fallback none) does not stop
			// the others; it is reported, and the exit status says so.
			failed++
			fmt.Fprintf(errw, "supportctl: draft: line %d: %v\n", line, err)
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
		return fmt.Errorf("draft: %d lines failed", failed)
	}
	return nil
}
