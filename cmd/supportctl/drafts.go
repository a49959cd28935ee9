package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/drafter"
	"supportpipe/internal/ports/store"
)

// draftsListMax bounds what one listing reads: a day's records by id.
const draftsListMax = 10_000

func init() {
	register(func() *cobra.Command {
		list := &cobra.Command{
			Use:   "list [--date YYYY-MM-DD] [--outcome made|skipped|failed]",
			Short: "list a day's draft requests and what became of each",
			Long: `list prints the draft requests the drafter handled on a UTC day, oldest
first: when, the conversation and message, the outcome (made, skipped with its
reason, failed), the canned response a suggestion came from, its score, the
provider and the latency from the request to the suggestion. The customer's
text and the suggestion are in Chatwoot, not here.`,
			Example: "  supportctl drafts list\n  supportctl drafts list --date 2026-05-12 --outcome skipped",
		}
		day := list.Flags().String("date", stats.Day(time.Now()), "UTC day (YYYY-MM-DD; default today)")
		outcome := list.Flags().String("outcome", "", "only this outcome: made, skipped or failed")
		_ = list.RegisterFlagCompletionFunc("outcome", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return []cobra.Completion{drafter.OutcomeMade, drafter.OutcomeSkipped, drafter.OutcomeFailed}, cobra.ShellCompDirectiveNoFileComp
		})
		list.RunE = func(c *cobra.Command, _ []string) error {
			if _, err := time.Parse(time.DateOnly, *day); err != nil {
				return usageErrorf("--date %q is not a day (want YYYY-MM-DD)", *day)
			}
			switch *outcome {
			case "", drafter.OutcomeMade, drafter.OutcomeSkipped, drafter.OutcomeFailed:
			default:
				return usageErrorf("--outcome %q is not made, skipped or failed", *outcome)
			}
			s, err := openQuiet(c.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			return draftsList(c.Context(), s.Store, *day, *outcome, c.OutOrStdout())
		}
		return group("drafts", "what the drafting agent suggested",
			`drafts shows the drafter's work in the local data dir (SUPPORT_DATA_DIR):
one record per draft request, kept with the day's records.`,
			list)
	})
}

// draftsList prints a day's draft records as a table.
func draftsList(ctx context.Context, st store.Store, day, outcome string, w io.Writer) error {
	recs, err := st.DayRecords(ctx, day, drafter.DayRecordKind, draftsListMax)
	if err != nil {
		return fmt.Errorf("read the draft records of %s: %w", day, err)
	}
	var rows []drafter.Record
	for _, r := range recs {
		var d drafter.Record
		if err := json.Unmarshal([]byte(r.Data), &d); err != nil {
			return fmt.Errorf("draft record %s: %w", r.ID, err)
		}
		if outcome == "" || d.Outcome == outcome {
			rows = append(rows, d)
		}
	}
	if len(rows) == 0 {
		what := "draft requests"
		if outcome != "" {
			what = outcome + " " + what
		}
		fmt.Fprintf(w, "no %s on %s\n", what, day)
		return nil
	}
	slices.SortStableFunc(rows, func(a, b drafter.Record) int { return a.At.Compare(b.At) })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tACCOUNT\tCONVERSATION\tMESSAGE\tOUTCOME\tSOURCE\tSCORE\tPROVIDER\tLATENCY")
	for _, d := range rows {
		oc := d.Outcome
		if d.Reason != "" {
			oc += " (" + d.Reason + ")"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%.2f\t%s\t%s\n", d.At.UTC().Format(time.TimeOnly), d.AccountID, d.ConversationID,
			d.MessageID, oc, orDash(d.Source), d.Score, orDash(d.Provider), (time.Duration(d.LatencyMS) * time.Millisecond).String())
	}
	return tw.Flush()
}

// orDash stands in for an empty cell.
func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
