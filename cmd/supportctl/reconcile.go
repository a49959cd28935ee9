package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func init() {
	register(func() *cobra.Command {
		c := &cobra.Command{
			Use:   "reconcile [--since DURATION]",
			Short: "back-fill from Chatwoot's API what never arrived by webhook",
			Long: `reconcile compares the conversations Chatwoot updated within --since with what
the local store holds, and queues what never arrived (marked back-filled).
It needs CHATWOOT_LIVE=true, CHATWOOT_BASE_URL, CHATWOOT_API_TOKEN and
CHATWOOT_ACCOUNT_ID.`,
			Example: "  CHATWOOT_LIVE=true supportctl reconcile --since 6h",
		}
		since := c.Flags().Duration("since", 24*time.Hour, "window to compare (Go duration, e.g. 6h)")
		_ = c.RegisterFlagCompletionFunc("since", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return []cobra.Completion{"1h", "6h", "24h"}, cobra.ShellCompDirectiveNoFileComp
		})
		c.RunE = func(c *cobra.Command, _ []string) error {
			if *since <= 0 {
				return usageErrorf("--since %v is not a positive duration", *since)
			}
			s, err := openQuiet(c.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			if !s.Env.Live {
				return errors.New("needs CHATWOOT_LIVE=true, CHATWOOT_BASE_URL, CHATWOOT_API_TOKEN and CHATWOOT_ACCOUNT_ID")
			}
			if s.Reconciler == nil {
				return errors.New("CHATWOOT_ACCOUNT_ID is not set")
			}
			res, err := s.Reconciler.Run(c.Context(), *since)
			fmt.Fprintf(c.OutOrStdout(), "conversations checked: %d\nmessages back-filled: %d\nstatus changes back-filled: %d\nerrors: %d\n",
				res.Conversations, res.Messages, res.Statuses, res.Errors)
			return err
		}
		return c
	})
}
