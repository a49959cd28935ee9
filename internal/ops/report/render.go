package report

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/queue"
)

// Render writes the report as Markdown. It depends only on d, so the same
// data gives the same bytes.
func Render(d *Data) []byte {
	c := d.Counters
	var b bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	p("# Support health report — %s (UTC)\n\n", d.Day)
	p("## Summary\n\n")
	p("- Webhooks: received %d, accepted %d, back-filled %d by reconciliation.\n", c[stats.Received], c[stats.Accepted], c[stats.Backfilled])
	p("- Delivery success: %s (target %.1f %%) %s\n", pct(d.DeliveryPct), DeliveryTarget, verdict(d.DeliveryPct, DeliveryTarget))
	p("- First-response SLA: %s met (%d met, %d breached)\n", pct(d.CompliancePct), d.SLAMet, d.SLABreached)
	p("- Conversations: %d opened, %d resolved.\n\n", c[stats.Opened], c[stats.Resolved])

	p("## Webhooks\n\n| figure | count |\n|---|---:|\n")
	for _, row := range []struct {
		name string
		n    int64
	}{
		{"received", c[stats.Received]}, {"accepted", c[stats.Accepted]},
		{"rejected (unsigned, forged, stale or replayed: not proven to be Chatwoot)", c[stats.Rejected]},
		{"refused (possibly authentic, not kept: too large, or queue and spool both down)", c[stats.Refused]},
		{"kept for review (authentic, invalid payload)", c[stats.InvalidPayload]},
		{"duplicates", c[stats.Duplicates]}, {"ignored (events we do not process)", c[stats.Ignored]},
		{"spooled (queue unavailable, kept in the spool)", c[stats.Spooled]},
		{"path account disagreeing with the signed payload", c[stats.AccountMismatch]},
		{"back-filled by reconciliation", c[stats.Backfilled]},
	} {
		p("| %s | %d |\n", row.name, row.n)
	}
	for _, by := range []struct{ title, prefix string }{
		{"Rejected", stats.RejectedPrefix}, {"Refused", stats.RefusedPrefix}, {"Kept for review", stats.InvalidPrefix},
	} {
		reasons := stats.ByReason(c, by.prefix)
		if len(reasons) == 0 {
			continue
		}
		p("\n%s by reason: ", by.title)
		for i, r := range slices.Sorted(maps.Keys(reasons)) {
			if i > 0 {
				p(", ")
			}
			p("%s %d", r, reasons[r])
		}
		p(".\n")
	}

	p("\n## Processing\n\n| figure | value |\n|---|---:|\n")
	p("| processed | %d |\n| retried | %d |\n| failed attempts | %d |\n| dead-lettered | %d |\n",
		c[stats.Processed], c[stats.Retried], c[stats.Failed], c[stats.DeadLettered])
	p("| processing time p50 / p95 / p99 | %s / %s / %s |\n", msf(d.Processing[0]), msf(d.Processing[1]), msf(d.Processing[2]))
	p("| messages over 1 s | %d |\n", c[stats.SlowMessages])

	p("\n## First response\n\n| | conversations | average | median | p90 |\n|---|---:|---:|---:|---:|\n")
	for _, row := range []struct {
		name string
		s    Summary
	}{{"business hours", d.FRTBusiness}, {"wall clock", d.FRTWall}} {
		if row.s.N == 0 {
			p("| %s | 0 | — | — | — |\n", row.name)
			continue
		}
		p("| %s | %d | %s | %s | %s |\n", row.name, row.s.N, dur(row.s.Avg), dur(row.s.Median), dur(row.s.P90))
	}

	p("\n## SLA (first response)\n\n")
	p("- Compliance: %s (%d met, %d breached; %d closed unanswered are not counted)\n", pct(d.CompliancePct), d.SLAMet, d.SLABreached, d.SLAClosed)
	p("- Still open at the end of the day: %d at risk, %d pending\n", d.SLAAtRisk, d.SLAPending)

	p("\n## Escalations\n\n")
	if len(d.Escalations) == 0 {
		p("None.\n")
	} else {
		var rs []string
		for r := range d.Escalations {
			rs = append(rs, r)
		}
		slices.Sort(rs)
		for _, r := range rs {
			p("- %s: %d\n", r, d.Escalations[r])
		}
	}

	p("\n## Top tags\n\n")
	if len(d.TopTags) == 0 {
		p("None.\n")
	}
	for _, t := range d.TopTags {
		p("- %s: %d\n", t.Tag, t.Count)
	}

	p("\n## Queues at generation time\n\n")
	if d.DepthErr {
		p("Queue depth unavailable.\n")
	} else {
		p("- Events queue: %d waiting, %d in flight\n- Dead-letter queue: %d\n", d.QueueDepth.Visible+d.QueueDepth.Delayed, d.QueueDepth.InFlight,
			d.DLQDepth.Visible+d.DLQDepth.InFlight+d.DLQDepth.Delayed)
	}

	p("\n## Needs attention\n\n")
	n := 0
	if dl := d.DLQDepth.Visible + d.DLQDepth.InFlight + d.DLQDepth.Delayed; dl > 0 {
		n++
		p("- %d message(s) in the dead-letter queue: review with `supportctl dlq list`, then `supportctl dlq redrive`.\n", dl)
		for _, m := range d.DeadLetters {
			if why := m.Attributes[queue.AttrInvalid]; why != "" {
				p("  - `%s` kept at the edge, invalid payload: %s\n", m.ID, oneLine(why, 120))
				continue
			}
			p("  - `%s` after %d attempts: %s\n", m.ID, m.Attempts, oneLine(m.Reason, 120))
		}
	}
	if r := c[stats.Refused]; r > 0 {
		n++
		p("- %d possibly authentic webhook(s) refused (Chatwoot does not retry): back-fill with `supportctl reconcile --since 24h`; see the runbook.\n", r)
	}
	for i, r := range d.Breaches {
		if i == 20 {
			p("- … and %d more breaches\n", len(d.Breaches)-20)
			break
		}
		n++
		p("- SLA breached: conversation %d/%d, waiting since %s, due %s\n", r.AccountID, r.ConversationID,
			r.Start.UTC().Format(time.RFC3339), r.Due.UTC().Format(time.RFC3339))
	}
	for _, a := range d.Alerts {
		n++
		p("- Queue alert at %s: %s\n", a.At.UTC().Format("15:04"), a.Data)
	}
	if d.DeliveryPct != nil && *d.DeliveryPct < DeliveryTarget {
		n++
		p("- Delivery success below target: check dead letters and the spool.\n")
	}
	if n == 0 {
		p("Nothing.\n")
	}
	return b.Bytes()
}

func pct(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2f %%", *v)
}

func verdict(v *float64, target float64) string {
	switch {
	case v == nil:
		return ""
	case *v >= target:
		return "— on target"
	}
	return "— **below target**"
}

func msf(ms float64) string { return fmt.Sprintf("%.2f ms", ms) }

func dur(secs float64) string {
	return (time.Duration(secs * float64(time.Second))).Round(time.Second).String()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
