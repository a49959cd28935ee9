package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"supportpipe/internal/ops/api"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqlitequeue"
	"supportpipe/internal/ports/store"
)

// eventsShowPages bounds how many pages show reads of one delivery's
// entries: a delivery has a handful.
const eventsShowPages = 20

// eventsOptions are the flags of events and events show: the filters of
// GET /support/deliveries, and where to read.
type eventsOptions struct {
	conversation, account, since, outcome, cursor, url, token string
	limit                                                     int
	json                                                      bool
}

func (o *eventsOptions) filters(c *cobra.Command, list bool) {
	f := c.Flags()
	f.StringVar(&o.conversation, "conversation", "", "only this conversation's entries (its id)")
	f.StringVar(&o.account, "account", "", "the conversation's account (default CHATWOOT_ACCOUNT_ID)")
	f.StringVar(&o.since, "since", "", "only entries since: an age (90m, 24h, 7d), a day (YYYY-MM-DD) or RFC 3339 (default: the 14 days kept)")
	f.StringVar(&o.url, "url", "", "read the log through this server's API (on AWS the stack's ApiUrl) instead of the local data dir")
	f.StringVar(&o.token, "token", "", "API token for --url (default: first of SUPPORT_API_TOKEN, else the data dir's)")
	f.BoolVar(&o.json, "json", false, "print the API's JSON instead of a table")
	if list {
		f.StringVar(&o.outcome, "outcome", "", "only this outcome: "+strings.Join(eventOutcomes(), ", "))
		f.IntVar(&o.limit, "limit", store.DefaultDeliveryPage, fmt.Sprintf("entries to print, newest first (at most %d)", store.MaxDeliveryPage))
		f.StringVar(&o.cursor, "cursor", "", "continue a listing where it said to")
		_ = c.RegisterFlagCompletionFunc("outcome", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return eventOutcomes(), cobra.ShellCompDirectiveNoFileComp
		})
	}
}

func eventOutcomes() []string {
	return append(slices.Clone(store.DeliveryOutcomes), store.DeliveryRedriven, api.OutcomeRejected, api.OutcomeRefused)
}

func init() {
	register(func() *cobra.Command {
		var o eventsOptions
		events := &cobra.Command{
			Use:   "events [--conversation ID] [--since D] [--outcome O]",
			Short: "the delivery log: each webhook and what became of it",
			Long: `events prints the delivery log, newest first: for each webhook the pipeline
kept or ignored, when it came, its delivery id, event, account and conversation,
and each outcome with its time: processed, duplicate (the same event under
another delivery), redelivered, ignored, invalid (kept in the DLQ), failed (an
attempt, with its reason), dead_lettered, and redriven ones marked. Rejected
and refused requests are not kept one by one: they are counted by reason, and
the counts of the window's days follow the table.

It reads the local data dir (SUPPORT_DATA_DIR), or with --url a server's API
(GET /support/deliveries), the way to read the log on AWS. Entries are kept
14 days (docs/deliveries.md).`,
			Example: "  supportctl events --since 1h\n  supportctl events --conversation 1423 --account 7\n" +
				"  supportctl events --outcome dead_lettered --since 7d\n  supportctl events --url https://abc.execute-api.eu-west-1.amazonaws.com --outcome rejected",
			Args: unknownCommand,
		}
		o.filters(events, true)
		events.RunE = func(c *cobra.Command, _ []string) error {
			if o.limit < 1 || o.limit > store.MaxDeliveryPage {
				return usageErrorf("--limit %d is not between 1 and %d", o.limit, store.MaxDeliveryPage)
			}
			return eventsList(c.Context(), o, c.OutOrStdout())
		}

		var so eventsOptions
		show := &cobra.Command{
			Use:   "show DELIVERY",
			Short: "one delivery's entries: its attempts, each failure's reason, where it ended",
			Long: `show prints every entry of one delivery id, oldest first: when it came, each
attempt that failed with its reason, a dead letter, a redrive, its outcome.
Locally it also says whether the delivery is in the DLQ now.

With --url on AWS, name its conversation (--conversation) or a window
(--since) when you can: the conversation's log is one read, while a delivery
id alone is looked for through the whole window (by default the 14 days kept).`,
			Example: "  supportctl events show 3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41\n  supportctl events show 3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41 --conversation 1423",
			Args:    args(1, 1, "DELIVERY"),
		}
		so.filters(show, false)
		show.RunE = func(c *cobra.Command, a []string) error { return eventsShow(c.Context(), so, a[0], c.OutOrStdout()) }
		events.AddCommand(show)
		return events
	})
}

// params are o's filters as GET /support/deliveries reads them.
func (o eventsOptions) params() map[string]string {
	p := map[string]string{"conversation": o.conversation, "account": o.account, "since": o.since, "outcome": o.outcome,
		"cursor": o.cursor}
	if o.limit > 0 {
		p["limit"] = strconv.Itoa(o.limit)
	}
	maps.DeleteFunc(p, func(_, v string) bool { return v == "" })
	return p
}

// read answers p from the server at o.url, or from the local data dir
// with the code the API runs.
func (o eventsOptions) read(ctx context.Context, p map[string]string) (api.DeliveriesView, error) {
	// The flags are checked here, before a server is asked; which account
	// a conversation without one belongs to is the server's to say.
	if _, err := api.ParseDeliveriesQuery(p, 1, time.Now()); err != nil {
		return api.DeliveriesView{}, flagError(err)
	}
	if o.url != "" {
		return o.readAPI(ctx, p)
	}
	s, err := openQuiet(ctx)
	if err != nil {
		return api.DeliveriesView{}, err
	}
	defer s.Close()
	now := time.Now()
	q, err := api.ParseDeliveriesQuery(p, s.Settings.Account, now)
	if err != nil {
		return api.DeliveriesView{}, flagError(err)
	}
	v, err := api.Deliveries(ctx, s.Store, q, now)
	if errors.Is(err, store.ErrBadCursor) {
		return v, usageErrorf("--cursor %q is not one a listing gave", o.cursor)
	}
	return v, err
}

// flagError turns the API's message about a parameter into one about the
// flag of the same name.
func flagError(err error) error {
	msg := err.Error()
	for _, name := range []string{"conversation", "account", "since", "outcome", "limit"} {
		if rest, ok := strings.CutPrefix(msg, name+" "); ok {
			return usageErrorf("--%s %s", name, rest)
		}
	}
	return usageErrorf("%s", msg)
}

func (o eventsOptions) readAPI(ctx context.Context, p map[string]string) (api.DeliveriesView, error) {
	token := o.token
	if token == "" {
		token, _ = localToken()
	}
	if token == "" {
		return api.DeliveriesView{}, usageErrorf("no API token for --url: pass --token or set SUPPORT_API_TOKEN")
	}
	q := url.Values{}
	for k, v := range p {
		q.Set(k, v)
	}
	// The stack's ApiUrl output ends in support/: the stage URL with or
	// without it will do.
	base := strings.TrimSuffix(strings.TrimSuffix(o.url, "/"), "/support")
	cl := &apiClient{base: base, token: token, http: &http.Client{Timeout: 30 * time.Second}}
	var v api.DeliveriesView
	err := cl.get(ctx, "/support/deliveries?"+q.Encode(), &v)
	return v, err
}

func eventsList(ctx context.Context, o eventsOptions, w io.Writer) error {
	v, err := o.read(ctx, o.params())
	if err != nil {
		return err
	}
	if o.json {
		return json.NewEncoder(w).Encode(v)
	}
	if o.outcome != api.OutcomeRejected && o.outcome != api.OutcomeRefused {
		if len(v.Deliveries) == 0 {
			fmt.Fprintf(w, "no entries since %s\n", v.Since.Format(time.RFC3339))
		} else {
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "AT\tRECEIVED\tOUTCOME\tEVENT\tDELIVERY\tCONVERSATION\tMS\tREASON")
			for _, d := range v.Deliveries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.At.Format(time.RFC3339), received(d), outcome(d), orDash(d.Event),
					orDash(d.DeliveryID), conversationOf(d), ms(d), orDash(oneLine(d.Reason, 100)))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if v.NextCursor != "" {
			fmt.Fprintf(w, "more: add --cursor %s\n", v.NextCursor)
		}
	}
	turnedAway(w, "rejected (unsigned, forged, stale or replayed: counted, never kept)", v.Rejected)
	turnedAway(w, "refused (possibly authentic, not kept: too large, or the queue and the spool down)", v.Refused)
	return nil
}

func turnedAway(w io.Writer, what string, t *api.TurnedAway) {
	if t == nil {
		return
	}
	days := ""
	if len(t.Days) > 0 {
		days = " on " + t.Days[0]
		if len(t.Days) > 1 {
			days = fmt.Sprintf(" from %s to %s", t.Days[0], t.Days[len(t.Days)-1])
		}
	}
	fmt.Fprintf(w, "%s%s: %d", what, days, t.Total)
	for _, r := range slices.Sorted(maps.Keys(t.Reasons)) {
		fmt.Fprintf(w, ", %s %d", r, t.Reasons[r])
	}
	fmt.Fprintln(w)
}

func eventsShow(ctx context.Context, o eventsOptions, id string, w io.Writer) error {
	p := o.params()
	p["delivery"] = id
	var entries []api.DeliveryView
	for range eventsShowPages {
		v, err := o.read(ctx, p)
		if err != nil {
			return err
		}
		entries = append(entries, v.Deliveries...)
		if v.NextCursor == "" {
			break
		}
		p["cursor"] = v.NextCursor
	}
	slices.Reverse(entries) // oldest first: the delivery's story
	if o.json {
		return json.NewEncoder(w).Encode(map[string]any{"delivery_id": id, "entries": entries})
	}
	if len(entries) == 0 {
		return fmt.Errorf("no entry for delivery %q: a rejected request leaves none (see 'supportctl events --outcome rejected'), "+
			"entries are kept 14 days, and a narrower --since or another --conversation may hide it", id)
	}
	first := entries[0]
	fmt.Fprintf(w, "delivery %s: %s, account %d, conversation %s\n", id, orDash(first.Event), first.AccountID, conversationOf(first))
	if first.ReceivedAt != nil {
		fmt.Fprintf(w, "received %s\n", first.ReceivedAt.Format(time.RFC3339Nano))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, d := range entries {
		fmt.Fprintf(tw, "  %s\t%s\t%s\tmessage %s\t%s\n", d.At.Format(time.RFC3339Nano), outcome(d), ms(d), orDash(d.MessageID), d.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if o.url == "" {
		return inDLQ(ctx, id, w)
	}
	return nil
}

// inDLQ says which of the local DLQ's messages carry the delivery.
func inDLQ(ctx context.Context, id string, w io.Writer) error {
	if _, err := os.Stat(filepath.Join(dataDir(), "queue.db")); err != nil {
		return nil // no queue, no dead letters
	}
	return withDLQ(ctx, func(q *sqlitequeue.Queue) error {
		dls, err := q.ListDeadLetters(ctx, 100000)
		if err != nil {
			return err
		}
		for _, d := range dls {
			if d.Attributes[queue.AttrDelivery] == id {
				fmt.Fprintf(w, "in the DLQ now: %s (supportctl dlq show %s; supportctl dlq redrive %s)\n", d.ID, d.ID, d.ID)
			}
		}
		return nil
	})
}

func outcome(d api.DeliveryView) string {
	o := d.Outcome
	if d.Attempt > 0 {
		o += fmt.Sprintf(" (attempt %d)", d.Attempt)
	}
	if d.Redriven {
		o += ", redriven"
	}
	if d.Backfilled {
		o += ", back-filled"
	}
	return o
}

func received(d api.DeliveryView) string {
	if d.ReceivedAt == nil {
		return "-"
	}
	return d.ReceivedAt.Format(time.RFC3339)
}

func conversationOf(d api.DeliveryView) string {
	if d.ConversationID == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", d.AccountID, d.ConversationID)
}

func ms(d api.DeliveryView) string {
	if d.ProcessingMS == 0 {
		return "-"
	}
	return strconv.FormatFloat(d.ProcessingMS, 'f', 1, 64) + " ms"
}
