package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/ports/blob/fileblob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqlitequeue"
	"supportpipe/internal/ports/store/sqlitestore"
)

func dlq(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("dlq: want list, show ID or redrive [ID|--all]")
	}
	dir := envOr("SUPPORT_DATA_DIR", ".data")
	q, err := sqlitequeue.Open(ctx, filepath.Join(dir, "queue.db"), "events", sqlitequeue.Options{})
	if err != nil {
		return err
	}
	defer q.Close()
	switch args[0] {
	case "list":
		items, err := q.ListDeadLetters(ctx, 1000)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
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
	case "show":
		if len(args) != 2 {
			return errors.New("dlq show: want an ID")
		}
		items, err := q.ListDeadLetters(ctx, 100000)
		if err != nil {
			return err
		}
		for _, d := range items {
			if d.ID == args[1] {
				claims, err := fileblob.New(filepath.Join(dir, "claims"))
				if err != nil {
					return err
				}
				body, err := (&claim.Check{Bucket: claims, Prefix: claim.Prefix}).Body(ctx, d.Body, d.Attributes)
				if err != nil {
					return fmt.Errorf("dlq show %s: %w", d.ID, err)
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
				return json.NewEncoder(os.Stdout).Encode(map[string]any{
					"id": d.ID, "dead_since": d.At, "attempts": d.Attempts, "reason": d.Reason,
					"attributes": d.Attributes, "body": shown,
				})
			}
		}
		return fmt.Errorf("dlq show %s: %w", args[1], queue.ErrNotFound)
	case "redrive":
		fs := flag.NewFlagSet("redrive", flag.ContinueOnError)
		all := fs.Bool("all", false, "redrive every dead letter")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		id := fs.Arg(0)
		if id == "" && !*all {
			return errors.New("dlq redrive: want an ID or --all")
		}
		n, err := q.Redrive(ctx, id)
		if err != nil {
			return err
		}
		if n > 0 {
			if st, err := sqlitestore.Open(ctx, filepath.Join(dir, "store.db")); err == nil {
				_ = st.AddCounters(ctx, stats.Day(time.Now()), map[string]int64{stats.Redriven: int64(n)})
				st.Close()
			}
		}
		fmt.Printf("redriven: %d\n", n)
		return nil
	}
	return fmt.Errorf("dlq: unknown subcommand %q", args[0])
}

func oneLine(s string, n int) string {
	r := []rune(s)
	for i, c := range r {
		if c == '\n' || c == '\t' {
			r[i] = ' '
		}
	}
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return string(r)
}
