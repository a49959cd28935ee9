package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"supportpipe/internal/local"
)

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := local.LoadConfig()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()}))
	// Generated credentials are shown once, on the terminal, never in the logs.
	for name, v := range cfg.Generated {
		fmt.Fprintf(os.Stderr, "generated %s (saved in %s): %s\n", name, cfg.DataDir, v)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	s, err := local.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(os.Stderr, "webhook:  POST http://%s/webhooks/chatwoot\nstats:    GET  http://%s/support/stats (Bearer token)\n",
		cfg.Addr, cfg.Addr)
	return s.Run(ctx)
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("SUPPORT_LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}
