package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/ports/blob/fileblob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqlitequeue"
	"supportpipe/internal/ports/store/sqlitestore"
)

func init() {
	register(func() *cobra.Command {
		list := &cobra.Command{
			Use:   "list",
			Short: "list the dead letters",
			Long: `list prints the events dead-letter queue as a table: id, when it was
dead-lettered, attempts, event, delivery id and reason.`,
			RunE: func(c *cobra.Command, _ []string) error {
				return withDLQ(c.Context(), func(q *sqlitequeue.Queue) error { return dlqList(c.Context(), q, c.OutOrStdout()) })
			},
		}
		show := &cobra.Command{
			Use:   "show ID",
			Short: "print one dead letter with its body (JSON)",
			Long: `show prints one dead letter as JSON: id, dead_since, attempts, reason,
attributes and the body (a body that is not JSON is shown as a string). It
is printed for the operator who asked, never logged.`,
			Args:              args(1, 1, "ID"),
			ValidArgsFunction: completeDeadLetters,
			RunE: func(c *cobra.Command, a []string) error {
				return withDLQ(c.Context(), func(q *sqlitequeue.Queue) error { return dlqShow(c.Context(), q, a[0], c.OutOrStdout()) })
			},
		}
		redrive := &cobra.Command{
			Use:   "redrive ID | redrive --all",
			Short: "move dead letters back to the events queue",
			Long: `redrive moves one dead letter, or every one with --all, back to the events
queue, where the processor takes it again with fresh attempts. It prints
"redriven: N".`,
			Args:              args(0, 1, "ID or --all"),
			ValidArgsFunction: completeDeadLetters,
		}
		all := redrive.Flags().Bool("all", false, "redrive every dead letter")
		redrive.RunE = func(c *cobra.Command, a []string) error {
			switch {
			case len(a) == 0 && !*all:
				return usageErrorf("want an ID or --all")
			case len(a) == 1 && *all:
				return usageErrorf("want an ID or --all, not both")
			}
			id := ""
			if len(a) == 1 {
				id = a[0]
			}
			return withDLQ(c.Context(), func(q *sqlitequeue.Queue) error { return dlqRedrive(c.Context(), q, id, c.OutOrStdout()) })
		}
		return group("dlq", "inspect and redrive the dead-letter queue",
			`dlq reviews the events dead-letter queue of the local data dir
(SUPPORT_DATA_DIR): events that failed three times, and authentic payloads
that could not be decoded (reason invalid_payload).`,
			list, show, redrive)
	})
}

// withDLQ opens the local events queue for fn.
func withDLQ(ctx context.Context, fn func(q *sqlitequeue.Queue) error) error {
	path := filepath.Join(dataDir(), "queue.db")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no events queue at %s: is SUPPORT_DATA_DIR the one serve uses?", path)
	}
	q, err := sqlitequeue.Open(ctx, path, "events", sqlitequeue.Options{})
	if err != nil {
		return err
	}
	defer q.Close()
	return fn(q)
}

func dlqList(ctx context.Context, q *sqlitequeue.Queue, stdout io.Writer) error {
	items, err := q.ListDeadLetters(ctx, 1000)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tDEAD SINCE\tATTEMPTS\tEVENT\tDELIVERY\tREASON")
	for _, d := range items {
		reason := d.Reason
		if why := d.Attributes[queue.AttrInvalid]; why != "" {
			reason += ": " + why
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, d.At.Format(time.RFC3339), d.Attempts,
			d.Attributes[queue.AttrEvent], d.Attributes[queue.AttrDelivery], oneLine(reason, 80))
	}
	return w.Flush()
}

func dlqShow(ctx context.Context, q *sqlitequeue.Queue, id string, stdout io.Writer) error {
	items, err := q.ListDeadLetters(ctx, 100000)
	if err != nil {
		return err
	}
	for _, d := range items {
		if d.ID != id {
			continue
		}
		claims, err := fileblob.New(filepath.Join(dataDir(), "claims"))
		if err != nil {
			return err
		}
		body, err := (&claim.Check{Bucket: claims, Prefix: claim.Prefix}).Body(ctx, d.Body, d.Attributes)
		if err != nil {
			return fmt.Errorf("dead letter %s: %w", d.ID, err)
		}
		// The operator asked for this one message; it is printed to
		// their terminal, not logged. A body kept because it is not
		// JSON is shown as a string (base64 if not UTF-8).
		var shown any = json.RawMessage(body)
		if !json.Valid(body) {
			shown = string(body)
			if !utf8.Valid(body) {
				shown = body
			}
		}
		return json.NewEncoder(stdout).Encode(map[string]any{
			"id": d.ID, "dead_since": d.At, "attempts": d.Attempts, "reason": d.Reason,
			"attributes": d.Attributes, "body": shown,
		})
	}
	return fmt.Errorf("no dead letter with id %q (see 'supportctl dlq list')", id)
}

func dlqRedrive(ctx context.Context, q *sqlitequeue.Queue, id string, stdout io.Writer) error {
	n, err := q.Redrive(ctx, id)
	if errors.Is(err, queue.ErrNotFound) {
		return fmt.Errorf("no dead letter with id %q (see 'supportctl dlq list')", id)
	}
	if err != nil {
		return err
	}
	if n > 0 {
		if st, err := sqlitestore.Open(ctx, filepath.Join(dataDir(), "store.db")); err == nil {
			_ = st.AddCounters(ctx, stats.Day(time.Now()), map[string]int64{stats.Redriven: int64(n)})
			st.Close()
		}
	}
	fmt.Fprintf(stdout, "redriven: %d\n", n)
	return nil
}

// completeDeadLetters offers the dead letters' ids, with their event and
// reason. It reads an existing queue only: completing must not create a
// data dir.
func completeDeadLetters(c *cobra.Command, a []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(a) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	_ = withDLQ(c.Context(), func(q *sqlitequeue.Queue) error {
		items, err := q.ListDeadLetters(c.Context(), 1000)
		for _, d := range items {
			out = append(out, cobra.CompletionWithDesc(d.ID, oneLine(d.Attributes[queue.AttrEvent]+" "+d.Reason, 60)))
		}
		return err
	})
	return out, cobra.ShellCompDirectiveNoFileComp
}
