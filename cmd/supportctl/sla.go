package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"supportpipe/internal/runtime/config"
	"supportpipe/internal/support/sla"
)

func init() {
	register(func() *cobra.Command {
		due := &cobra.Command{
			Use:   "due --opened RFC3339 [--inbox ID]",
			Short: "print the first-response due time under the business hours",
			Long: `due prints when a conversation whose customer wrote at --opened must have
its first response (RFC 3339, UTC): sla.first_response of business time later,
under the business hours of --inbox (the default hours when that inbox has
none), as configured in SUPPORT_CONFIG (default 24x7 UTC, 15 minutes).`,
			Example: "  supportctl sla due --opened 2026-05-15T20:59:00Z --inbox 12",
		}
		opened := due.Flags().String("opened", "", "when the customer wrote (RFC 3339, e.g. 2026-05-15T20:59:00Z)")
		inbox := due.Flags().Int64("inbox", 0, "inbox id whose business hours apply (default hours if none configured)")
		requireFlag(due, "opened")
		for _, f := range []string{"opened", "inbox"} {
			_ = due.RegisterFlagCompletionFunc(f, cobra.NoFileCompletions)
		}
		due.RunE = func(c *cobra.Command, _ []string) error {
			t, err := time.Parse(time.RFC3339, *opened)
			if err != nil {
				return usageErrorf("--opened %q is not an RFC 3339 time (e.g. 2026-05-15T20:59:00Z)", *opened)
			}
			settings, err := config.ReadSettings(os.Getenv)
			if err != nil {
				return err
			}
			cfg := settings.File
			at, err := sla.DueAt(cfg.Calendar(*inbox), t, cfg.SLA.FirstResponse)
			if err != nil {
				return fmt.Errorf("inbox %d: %w", *inbox, err)
			}
			fmt.Fprintln(c.OutOrStdout(), at.UTC().Format(time.RFC3339))
			return nil
		}
		return group("sla", "SLA computations under the configured business hours",
			"sla computes first-response targets with the business hours and SLA of SUPPORT_CONFIG.", due)
	})
}
