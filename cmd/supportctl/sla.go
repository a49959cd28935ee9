package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"supportpipe/internal/runtime/config"
	"supportpipe/internal/support/sla"
)

func slaCmd(_ context.Context, args []string) error {
	if len(args) == 0 || args[0] != "due" {
		return errors.New("sla: want `sla due --opened RFC3339 [--inbox ID]`")
	}
	fs := flag.NewFlagSet("sla due", flag.ContinueOnError)
	opened := fs.String("opened", "", "when the customer wrote (RFC 3339)")
	inbox := fs.Int64("inbox", 0, "inbox id whose business hours apply (default hours if none configured)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339, *opened)
	if err != nil {
		return fmt.Errorf("sla due: --opened must be RFC 3339: %w", err)
	}
	settings, err := config.ReadSettings(os.Getenv)
	cfg := settings.File
	if err != nil {
		return err
	}
	due, err := sla.DueAt(cfg.Calendar(*inbox), t, cfg.SLA.FirstResponse)
	if err != nil {
		return err
	}
	fmt.Println(due.UTC().Format(time.RFC3339))
	return nil
}
