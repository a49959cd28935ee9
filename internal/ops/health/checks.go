package health

import (
	"context"
	"fmt"
	"time"

	"supportpipe/internal/ports/queue"
)

// Store reads from the store; failing to read is down: nothing can be processed.
func Store(ping func(ctx context.Context) error) Check {
	return Check{Name: "store", Run: func(ctx context.Context) (string, string) {
		if err := ping(ctx); err != nil {
			return Down, "store read failed"
		}
		return OK, "read ok"
	}}
}

// Queue compares the main queue's depth with the alert and escalate
// thresholds. A backlog degrades the pipeline but does not stop ingest,
// so it is never down; an unreachable queue is.
func Queue(depth func(ctx context.Context) (queue.Depth, error), alert, escalate int) Check {
	return Check{Name: "queue", Run: func(ctx context.Context) (string, string) {
		d, err := depth(ctx)
		if err != nil {
			return Down, "queue unreachable"
		}
		n := d.Visible + d.Delayed
		switch {
		case n > int64(escalate):
			return Degraded, fmt.Sprintf("%d waiting, above the escalation threshold %d", n, escalate)
		case n > int64(alert):
			return Degraded, fmt.Sprintf("%d waiting, above the alert threshold %d", n, alert)
		}
		return OK, fmt.Sprintf("%d waiting, %d in flight", n, d.InFlight)
	}}
}

// DLQ is degraded while any message waits for manual review.
func DLQ(depth func(ctx context.Context) (queue.Depth, error)) Check {
	return Check{Name: "dlq", Run: func(ctx context.Context) (string, string) {
		d, err := depth(ctx)
		if err != nil {
			return Degraded, "dead-letter queue unreachable"
		}
		if n := d.Visible + d.InFlight + d.Delayed; n > 0 {
			return Degraded, fmt.Sprintf("%d message(s) need review", n)
		}
		return OK, "empty"
	}}
}

// NoWebhookYet is the ingest check's detail before the first webhook.
const NoWebhookYet = "no webhook received yet"

// Ingest is degraded when no webhook was accepted for longer than quiet: a
// silent Chatwoot is how a broken webhook configuration looks from here.
// Until the first webhook its result is waiting (Check.Waiting): the
// cache must not keep saying so for minutes after one arrived.
func Ingest(last func(ctx context.Context) (time.Time, error), quiet time.Duration, now func() time.Time) Check {
	return Check{Name: "ingest", Waiting: func(_, detail string) bool { return detail == NoWebhookYet }, Run: func(ctx context.Context) (string, string) {
		t, err := last(ctx)
		if err != nil {
			return Degraded, "last webhook time unavailable"
		}
		if t.IsZero() {
			return OK, NoWebhookYet
		}
		age := now().Sub(t).Round(time.Second)
		if age > quiet {
			return Degraded, fmt.Sprintf("last webhook %s ago, quiet period is %s", age, quiet)
		}
		return OK, fmt.Sprintf("last webhook %s ago", age)
	}}
}

// Chatwoot makes an authenticated profile call; mock mode says so.
func Chatwoot(profile func(ctx context.Context) error, mock bool) Check {
	return Check{Name: "chatwoot_api", Run: func(ctx context.Context) (string, string) {
		if mock {
			return Mock, "CHATWOOT_LIVE is not true: actions are recorded, not sent"
		}
		if err := profile(ctx); err != nil {
			// The error may echo the request; say only what an operator needs.
			return Degraded, "profile call failed: check CHATWOOT_BASE_URL and the API token"
		}
		return OK, "authenticated"
	}}
}

// SpoolMaxAge is how long an event may wait in the spool before health
// degrades (and, on AWS, the spool age alarm fires): the drain runs every
// minute, so an event still there after 15 is stuck.
const SpoolMaxAge = 15 * time.Minute

// Spool is degraded while an acknowledged event has waited in the spool for
// longer than SpoolMaxAge: the queue refuses it, or has been down that long.
func Spool(oldest func(ctx context.Context) (time.Time, error), now func() time.Time) Check {
	return Check{Name: "spool", Run: func(ctx context.Context) (string, string) {
		t, err := oldest(ctx)
		if err != nil {
			return Degraded, "spool unreadable"
		}
		if t.IsZero() {
			return OK, "empty"
		}
		age := now().Sub(t).Round(time.Second)
		if age > SpoolMaxAge {
			return Degraded, fmt.Sprintf("oldest spooled event waiting %s (over %s): see the runbook", age, SpoolMaxAge)
		}
		return OK, fmt.Sprintf("oldest spooled event waiting %s", age)
	}}
}
