package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"supportpipe/internal/ops/report"
)

func init() {
	register(func() *cobra.Command {
		c := &cobra.Command{
			Use:   "report [--date YYYY-MM-DD]",
			Short: "write a day's report (reports/support/<day>.md and its chart <day>.svg)",
			Long: `report writes the daily health report of a UTC day, as the 09:00 UTC job
does, to SUPPORT_REPORTS_ROOT/reports/support/<day>.md (default: the working
directory) with its hourly chart <day>.svg beside it, and prints the report's
path. The report is true as of now: today's says "so far"; a day to come is
refused.`,
			Example: "  supportctl report --date 2026-05-12",
		}
		day := c.Flags().String("date", report.Yesterday(time.Now()), "UTC day to report on (YYYY-MM-DD; default yesterday)")
		_ = c.RegisterFlagCompletionFunc("date", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return []cobra.Completion{report.Yesterday(time.Now())}, cobra.ShellCompDirectiveNoFileComp
		})
		c.RunE = func(c *cobra.Command, _ []string) error {
			if _, err := time.Parse(time.DateOnly, *day); err != nil {
				return usageErrorf("--date %q is not a day (want YYYY-MM-DD)", *day)
			}
			s, err := openQuiet(c.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			key, err := s.WriteReport(c.Context(), *day)
			if errors.Is(err, report.ErrFutureDay) {
				// A day to come is a mistake in the invocation, as a malformed one is.
				return usageError{err}
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), key)
			return nil
		}
		return c
	})
}
