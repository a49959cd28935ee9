package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"supportpipe/internal/runtime/local"
)

// openServing parses a serving command's flags and opens the pipeline with
// the text models, for serve and for the worker it starts.
func openServing(ctx context.Context, name string, args []string) (*local.Server, local.Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return nil, local.Config{}, err
	}
	env, err := local.LoadConfig()
	if err != nil {
		return nil, env, err
	}
	cls, err := local.NewClassifiers(env.File)
	if err != nil {
		return nil, env, err
	}
	s, err := local.Open(ctx, env, cls, newLogger(env.LogLevel))
	return s, env, err
}

func serve(ctx context.Context, args []string) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	s, env, err := openServing(ctx, "serve", args)
	if err != nil {
		return err
	}
	defer s.Close()
	// Generated credentials are shown once, on the terminal, never in the logs.
	for name, v := range env.Generated {
		fmt.Fprintf(os.Stderr, "generated %s (saved in %s): %s\n", name, env.DataDir, v)
	}
	if err := s.Recover(ctx); err != nil {
		return err
	}
	// The processor and the jobs run in `supportctl worker`, a child at low
	// CPU priority that dies with this process (internal/runtime/local/worker.go).
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	s.Spawn = func() *exec.Cmd {
		cmd := exec.Command(exe, "worker")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd
	}
	fmt.Fprintf(os.Stderr, "webhook:  POST http://%[1]s/webhooks/chatwoot\nhealth:   GET  http://%[1]s/support/health\n"+
		"tile:     http://%[1]s/support/tile#token=<SUPPORT_API_TOKEN>\n", env.Addr)
	return s.Run(ctx)
}

// worker is the child process serve starts: the processor loops and the
// background jobs on the same data dir and configuration.
func worker(ctx context.Context, args []string) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	s, _, err := openServing(ctx, "worker", args)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Work(ctx)
}

// openQuiet opens the local pipeline for a one-shot command (report,
// reconcile): same data dir and configuration as serve, no text models, no logs.
func openQuiet(ctx context.Context) (*local.Server, error) {
	env, err := local.LoadConfig()
	if err != nil {
		return nil, err
	}
	return local.Open(ctx, env, local.Classifiers{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
}

func newLogger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
