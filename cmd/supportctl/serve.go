package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"supportpipe/internal/runtime/local"
	"supportpipe/internal/runtime/logging"
)

func init() {
	register(func() *cobra.Command {
		return &cobra.Command{
			Use:   "serve",
			Short: "run the local pipeline (HTTP, processor, jobs)",
			Long: `serve runs the whole pipeline on SUPPORT_ADDR (default 127.0.0.1:8080): the
webhook endpoint, the read API and tile under /support/, and, in a worker
child process at the lowest CPU priority, the processor and the scheduled
jobs (SLA sweep, queue alarms, the 09:00 UTC report, reconciliation).

Data lives in SUPPORT_DATA_DIR (default .data). A webhook secret and an API
token are generated there on the first run unless CHATWOOT_WEBHOOK_SECRET and
SUPPORT_API_TOKEN are set. Chatwoot is not called unless CHATWOOT_LIVE=true.
Stop it with Ctrl-C.`,
			RunE: func(c *cobra.Command, _ []string) error { return serve(c.Context(), c.ErrOrStderr()) },
		}
	})
	register(func() *cobra.Command {
		return &cobra.Command{
			Use:    "worker",
			Short:  "serve's child process (processor and jobs); not for direct use",
			Long:   "worker runs the processor loops and the scheduled jobs on the data dir and configuration of serve, which starts it.",
			Hidden: true,
			RunE:   func(c *cobra.Command, _ []string) error { return worker(c.Context(), c.ErrOrStderr()) },
		}
	})
}

// openServing opens the pipeline with the text models, for serve and for
// the worker it starts.
func openServing(ctx context.Context, logs io.Writer) (*local.Server, local.Config, error) {
	env, err := local.LoadConfig()
	if err != nil {
		return nil, env, err
	}
	cls, err := local.NewClassifiers(env.File)
	if err != nil {
		return nil, env, err
	}
	s, err := local.Open(ctx, env, cls, logging.JSON(logs, env.LogLevel))
	return s, env, err
}

func serve(ctx context.Context, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	s, env, err := openServing(ctx, stderr)
	if err != nil {
		return err
	}
	defer s.Close()
	// Generated credentials are shown once, on the terminal, never in the logs.
	for name, v := range env.Generated {
		fmt.Fprintf(stderr, "generated %s (saved in %s): %s\n", name, env.DataDir, v)
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
		cmd.Stdout, cmd.Stderr = stderr, stderr
		return cmd
	}
	fmt.Fprint(stderr, startBanner(env))
	return s.Run(ctx)
}

// worker is the child process serve starts: the processor loops and the
// background jobs on the same data dir and configuration.
func worker(ctx context.Context, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	s, _, err := openServing(ctx, stderr)
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
	return local.Open(ctx, env, local.Classifiers{}, slog.New(slog.DiscardHandler))
}
