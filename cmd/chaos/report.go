package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"supportpipe/internal/devtools/traffic"
)

// delayTarget is what the measured messages' p99 must stay under.
const delayTarget = 2 * time.Second

type result struct {
	sent, acked, rejected, unreachable int64
	spooledAcks                        int64
	slowest, slowestLarge              time.Duration
	largeSent, largeAcked              int
	spooledEvents, spooledDone         int
	distinctAcked, distinctSeen        int
	lost                               int
	// innocentDead are ordinary events with a copy in the DLQ, and
	// deadReasons some of the reasons.
	innocentDead int
	deadReasons  []string
	// invalid: acknowledged payloads of the wrong shape, those of them in
	// the DLQ, and its entries for them.
	invalid, invalidDead, invalidEntries int
	unmatched                            int
	// Poison that must be processed, by kind: acknowledged, and processed
	// without a dead letter.
	poisonAcked, poisonDone map[string]int
	processable, clean      int
	counters                daily
	drain                   time.Duration
	drained                 bool
	dupLabels, dupNotes     int
	dupPriority, dupDrafts  int
	dupCounters             int
	measured                measured
	fake                    string
}

func (r *result) tally(events []traffic.Event, l *ledger, v verdict) {
	r.sent, r.acked, r.rejected, r.unreachable, r.spooledAcks = l.sent, l.acked, l.rejected, l.unreachable, l.spooledAcks
	r.slowest, r.slowestLarge, r.largeSent, r.largeAcked = l.slowest, l.slowestLarge, l.largeSent, l.largeAcked
	r.distinctAcked, r.distinctSeen = len(l.ackedIDs), len(v.recorded)
	r.poisonAcked, r.poisonDone = map[string]int{}, map[string]int{}
	reasons := map[string]bool{}
	for id := range l.sentIDs {
		e := events[id]
		if e.Poison == "" && v.dead[id] {
			r.innocentDead++
			reasons[v.deadReason[id]] = true
		}
		if !l.ackedIDs[id] {
			continue
		}
		done := v.recorded[id] && !v.dead[id]
		if !v.recorded[id] && !v.dead[id] {
			r.lost++
		}
		if l.spooledIDs[id] {
			r.spooledEvents++
			if v.recorded[id] || !e.Processable() && v.dead[id] {
				r.spooledDone++
			}
		}
		if !e.Processable() {
			r.invalid++
			if v.dead[id] {
				r.invalidDead++
			}
			continue
		}
		r.processable++
		if done {
			r.clean++
		}
		if e.Poison != "" {
			r.poisonAcked[e.Poison]++
			if done {
				r.poisonDone[e.Poison]++
			}
		}
	}
	for reason := range reasons {
		r.deadReasons = append(r.deadReasons, reason)
	}
	sort.Strings(r.deadReasons)
	r.invalidEntries, r.unmatched = v.invalidEntries, v.unmatched
	// The processed counter must equal the distinct events recorded: more
	// is a counter applied twice.
	r.dupCounters = max(0, int(r.counters.Processed)-r.distinctSeen)
}

func (r result) poisonFailed() int {
	n := 0
	for kind, acked := range r.poisonAcked {
		n += acked - r.poisonDone[kind]
	}
	return n
}

func (r result) dupEffects() int {
	return r.dupLabels + r.dupNotes + r.dupPriority + r.dupDrafts + r.dupCounters
}

var kindNames = map[string]string{
	traffic.LongWord: "long word", traffic.FarFuture: "9999-12-31", traffic.Epoch: "1970-01-01",
	traffic.LargeBody: "over 1 MiB", traffic.NonCharacters: "U+FFFE/U+FFFF",
}

func report(o options, r result) error {
	m := r.measured
	var b bytes.Buffer
	row := func(figure, format string, a ...any) {
		fmt.Fprintf(&b, "| %s | "+format+" |\n", append([]any{figure}, a...)...)
	}
	fmt.Fprintf(&b, "| figure | value |\n|---|---:|\n")
	row(fmt.Sprintf("sent (incl. %.0f%% duplicates, %.0f%% re-emits, %.0f%% poison; and the measured phase)", 100*o.dup, 100*o.reemit, 100*o.poison), "%d", r.sent)
	row("acknowledged (2xx)", "%d", r.acked)
	row("not acknowledged: server down (kill -9 windows)", "%d", r.unreachable)
	row("not acknowledged: rejected (replayed in the same second)", "%d", r.rejected)
	row("slowest acknowledgement: bodies up to 1 MiB / over 1 MiB (acknowledged of sent)", "%s / %s (%d of %d)",
		ms(r.slowest), ms(r.slowestLarge), r.largeAcked, r.largeSent)
	row("processed (first copy)", "%d", r.counters.Processed)
	row("processed as duplicate", "%d", r.counters.Duplicates)
	row("dead-lettered (counter, invalid payloads included)", "%d", r.counters.DeadLettered)
	row("distinct events acknowledged / recorded as processed", "%d / %d", r.distinctAcked, r.distinctSeen)
	row("**lost** (acknowledged, neither processed nor dead-lettered; checked per event)", "**%d**", r.lost)
	row("**innocent events dead-lettered**", "**%d**", r.innocentDead+r.unmatched)
	row("expected dead letters: invalid payloads acknowledged / in the DLQ (entries)", "%d / %d (%d)", r.invalid, r.invalidDead, r.invalidEntries)
	row("**poison processed** (acknowledged, to be processed / processed, no dead letter)", "**%d / %d**", sum(r.poisonAcked), sum(r.poisonDone))
	var kinds []string
	for _, k := range traffic.PoisonKinds {
		if name, ok := kindNames[k]; ok {
			kinds = append(kinds, fmt.Sprintf("%s %d/%d", name, r.poisonDone[k], r.poisonAcked[k]))
		}
	}
	row("poison processed by kind", "%s", strings.Join(kinds, " · "))
	row(fmt.Sprintf("spooled (%.2f %% of queue sends failed): acknowledgements / events / processed", 100*o.sendFail), "%d / %d / %d",
		r.spooledAcks, r.spooledEvents, r.spooledDone)
	row("processed without the DLQ (events to be processed)", "%.3f %%", 100*float64(r.clean)/float64(max(r.processable, 1)))
	row("duplicate effects: labels / notes / priority / draft requests / counters", "%d / %d / %d / %d / %d",
		r.dupLabels, r.dupNotes, r.dupPriority, r.dupDrafts, r.dupCounters)
	drain := r.drain.Round(time.Second).String()
	if !r.drained {
		drain += " (gave up)"
	}
	row("time to drain after the last send (queue and spool empty)", "%s", drain)
	if o.probes > 0 {
		row(fmt.Sprintf("measured phase: messages at %.0f/s acknowledged / spooled / not processed in %s", o.probeRate, probeTimeout),
			"%d / %d / %d", m.acked, len(m.spooledDelays), m.unprocessed)
		row("measured phase: poison sent alongside", "%d events, %.0f MB", m.poison, float64(m.poisonSize)/1e6)
		row(fmt.Sprintf("**innocent delay p50 / p99 / max** (acknowledged → processed; target p99 < %s)", delayTarget),
			"**%s / %s / %s**", ms(percentile(m.delays, 0.50)), ms(percentile(m.delays, 0.99)), ms(percentile(m.delays, 1)))
		if len(m.spooledDelays) > 0 {
			row("spooled messages' delay p50 / max (those not on the queue wait for the spool's drain, once a minute)", "%s / %s",
				ms(percentile(m.spooledDelays, 0.50)), ms(percentile(m.spooledDelays, 1)))
		}
	}
	fmt.Fprintf(&b, "\nfake Chatwoot: %s\n", r.fake)
	if len(r.deadReasons) > 0 {
		fmt.Fprintf(&b, "innocent dead letters' reasons: %s\n", strings.Join(r.deadReasons, "; "))
	}
	fmt.Print(b.String())
	if o.out != "" {
		if err := os.WriteFile(o.out, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	var failed []string
	if r.lost > 0 {
		failed = append(failed, fmt.Sprintf("lost %d", r.lost))
	}
	if n := r.dupEffects(); n > 0 {
		failed = append(failed, fmt.Sprintf("duplicate effects %d", n))
	}
	if n := r.innocentDead + r.unmatched; n > 0 {
		failed = append(failed, fmt.Sprintf("innocent dead letters %d", n))
	}
	if n := r.poisonFailed(); n > 0 {
		failed = append(failed, fmt.Sprintf("poison not processed %d", n))
	}
	if !r.drained {
		failed = append(failed, "not drained")
	}
	if o.probes > 0 {
		if len(m.delays) == 0 || m.unprocessed > 0 {
			failed = append(failed, fmt.Sprintf("measured messages not processed %d", m.unprocessed))
		} else if p99 := percentile(m.delays, 0.99); p99 >= delayTarget {
			failed = append(failed, fmt.Sprintf("innocent delay p99 %s", ms(p99)))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s", strings.Join(failed, ", "))
	}
	return nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func ms(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return d.Round(100 * time.Millisecond).String()
}
