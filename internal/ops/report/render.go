package report

import (
	"bytes"
	"fmt"
	"maps"
	"path"
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
	at := d.GeneratedAt.UTC().Format("2006-01-02 15:04")
	// period names the span the figures cover, in the sentences that say
	// a section is empty.
	period := "this day"
	if d.Complete {
		p("# Support health report — %s (UTC)\n\n", d.Day)
		p("Generated %s UTC, after the day ended: the day is complete. Waiting periods still open are judged at that time.\n\n", at)
	} else {
		period = "so far today"
		p("# Support health report — %s (UTC), so far\n\n", d.Day)
		p("So far: generated %s UTC, before the day ended. The figures cover the day up to then, and waiting periods still open are judged at that time: none counts as breached before its due time.\n\n", at)
	}
	p("![Webhooks accepted and processed, and first-response times, by UTC hour](%s)\n\n", path.Base(ChartKey(d.Day)))
	if d.Hourly {
		// The series are not the table's received count: say what they are.
		p("The chart's webhooks per hour come from the delivery log: accepted webhooks by the hour they came, events processed by the hour they completed. Rejected and refused requests leave no entry there; they are in the totals below.\n\n")
	} else if d.HourlyNote != "" {
		p("%s\n\n", d.HourlyNote)
	}

	p("## Summary\n\n")
	p("- Webhooks: received %d, accepted %d, back-filled %d by reconciliation.\n", c[stats.Received], c[stats.Accepted], c[stats.Backfilled])
	if d.DeliveryPct == nil {
		p("- Delivery success: no webhook was accepted or refused %s.\n", period)
	} else {
		p("- Delivery success: %s (target %.1f %%) %s\n", pct(*d.DeliveryPct), DeliveryTarget, verdict(*d.DeliveryPct, DeliveryTarget))
	}
	if d.DeadLettered+d.Recovered == 0 {
		p("- Dead letters: none.\n")
	} else {
		p("- Dead letters: dead-lettered %d, recovered %d, still in DLQ %d.\n", d.DeadLettered, d.Recovered, d.StillDead)
	}
	p("- First-response SLA: %s\n", slaLine(d, period))
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
	p("| processed | %d |\n| retried | %d |\n| failed attempts | %d |\n| dead-lettered (this day's webhooks) | %d |\n",
		c[stats.Processed], c[stats.Retried], c[stats.Failed], d.DeadLettered)
	p("| recovered (redriven from the DLQ, then processed) | %d |\n| still in DLQ (dead-lettered, not recovered) | %d |\n", d.Recovered, d.StillDead)
	if c[stats.Processed] == 0 {
		p("| processing time p50 / p95 / p99 | nothing processed |\n")
	} else {
		p("| processing time p50 / p95 / p99 | %s / %s / %s |\n", msf(d.Processing[0]), msf(d.Processing[1]), msf(d.Processing[2]))
	}
	p("| messages over 1 s | %d |\n", c[stats.SlowMessages])

	waits := d.SLAMet + d.SLABreached + d.SLAAtRisk + d.SLAPending + d.SLAClosed
	p("\n## First response\n\n")
	switch {
	case waits == 0:
		p("No conversations waited for a first response %s.\n", period)
	case d.FRTBusiness.N == 0:
		p("None of the %d waiting period(s) that started %s had been answered when this report was generated.\n", waits, period)
	default:
		p("| | conversations | average | median | p90 |\n|---|---:|---:|---:|---:|\n")
		for _, row := range []struct {
			name string
			s    Summary
		}{{"business hours", d.FRTBusiness}, {"wall clock", d.FRTWall}} {
			p("| %s | %d | %s | %s | %s |\n", row.name, row.s.N, dur(row.s.Avg), dur(row.s.Median), dur(row.s.P90))
		}
	}

	p("\n## SLA (first response)\n\n")
	if waits == 0 {
		p("No conversations waited for a first response %s.\n", period)
	} else {
		compliance := "no outcome yet"
		if d.CompliancePct != nil {
			compliance = pct(*d.CompliancePct)
		}
		p("- Compliance: %s (%d met, %d breached; %d closed unanswered are not counted)\n", compliance, d.SLAMet, d.SLABreached, d.SLAClosed)
		p("- Still waiting when generated (%s UTC): %d at risk, %d pending\n", at, d.SLAAtRisk, d.SLAPending)
	}

	p("\n## Escalations\n\n")
	if len(d.Escalations) == 0 {
		p("No conversation was escalated %s.\n", period)
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

	p("\n## Suggested replies\n\n")
	dr := d.Drafts
	if dr.Made+dr.Skipped+dr.Failed == 0 {
		p("No draft request was handled %s.\n", period)
	} else {
		if dr.Made > 0 {
			p("- Made: %d, posted as private notes; from the customer's message being processed to the suggestion, p50 %s, p95 %s.\n",
				dr.Made, seconds(dr.LatencyMS.P50), seconds(dr.LatencyMS.P95))
		} else {
			p("- Made: none.\n")
		}
		p("- Skipped: %d", dr.Skipped)
		if len(dr.SkippedBy) > 0 {
			p(" (")
			for i, r := range slices.Sorted(maps.Keys(dr.SkippedBy)) {
				if i > 0 {
					p(", ")
				}
				p("%d %s", dr.SkippedBy[r], skipReason(r))
			}
			p(")")
		}
		p(".\n- Failed: %d.\n", dr.Failed)
		if dr.InputTokens+dr.OutputTokens > 0 {
			p("- Model tokens: %d read, %d written.\n", dr.InputTokens, dr.OutputTokens)
		}
	}

	p("\n## Top tags\n\n")
	if len(d.TopTags) == 0 {
		p("No customer message was tagged %s.\n", period)
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
	if f := d.Drafts.Failed; f > 0 {
		n++
		p("- %d draft request(s) failed (no suggestion posted): `supportctl drafts list --outcome failed`, and the drafts DLQ.\n", f)
	}
	if d.DeliveryPct != nil && *d.DeliveryPct < DeliveryTarget {
		n++
		p("- Delivery success below target: %d dead letter(s) of this day not recovered, %d refused: check dead letters and the spool.\n",
			d.StillDead, c[stats.Refused])
	}
	if n == 0 {
		p("Nothing needs attention.\n")
	}
	return b.Bytes()
}

// skipReason says why a draft request got no suggestion, in words.
func skipReason(r string) string {
	switch r {
	case "answered":
		return "answered by an agent first"
	case "resolved":
		return "resolved first"
	case "no_good_draft":
		return "with no canned response close enough"
	}
	return r
}

// slaLine is the summary's first-response line; it says in words what an
// empty or undecided day is.
func slaLine(d *Data, period string) string {
	open := d.SLAAtRisk + d.SLAPending
	switch {
	case d.CompliancePct != nil:
		return fmt.Sprintf("%s met (%d met, %d breached)", pct(*d.CompliancePct), d.SLAMet, d.SLABreached)
	case open > 0:
		return fmt.Sprintf("no waiting period has an outcome yet (%d still waiting).", open)
	case d.SLAClosed > 0:
		return fmt.Sprintf("no waiting period was answered or breached (%d closed unanswered before their due time).", d.SLAClosed)
	}
	return fmt.Sprintf("No conversations waited for a first response %s.", period)
}

func pct(v float64) string { return fmt.Sprintf("%.2f %%", v) }

func verdict(v, target float64) string {
	if v >= target {
		return "— on target"
	}
	return "— **below target**"
}

// seconds writes a latency that is usually seconds long.
func seconds(ms float64) string {
	if ms < 1000 {
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.1f s", ms/1000)
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
