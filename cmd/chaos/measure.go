package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"supportpipe/internal/devtools/traffic"
)

// probeTimeout bounds the wait for one measured message, spooled ones
// included: the spool drains once a minute.
const probeTimeout = 3 * time.Minute

// pollEvery is how often a measured message's conversation is read back.
const pollEvery = 50 * time.Millisecond

// measured is the measured phase's outcome.
type measured struct {
	probes, acked      int
	delays             []time.Duration // not spooled, processed
	spooledDelays      []time.Duration // spooled, processed
	unprocessed        int             // acknowledged, not processed within probeTimeout
	poison, poisonSize int
}

// measure sends ordinary customer messages at o.probeRate, each opening a
// conversation of its own, with poison alongside, and reads each one back
// through the API until it is processed: its draft request, the last
// stage, is recorded done. The delay runs from the acknowledgement to
// that record's time.
func measure(ctx context.Context, o options, addr string, l *ledger, events *[]traffic.Event, poisoner *traffic.Poisoner, rng *rand.Rand) (measured, error) {
	m := measured{probes: o.probes}
	type outcome struct {
		acked, spooled, done bool
		delay                time.Duration
	}
	results := make([]outcome, o.probes)
	send := &http.Client{Timeout: 5 * time.Second}
	read := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(time.Duration(float64(time.Second) / o.probeRate))
	defer tick.Stop()
	var wg sync.WaitGroup
	due := 0.0
	for i := range o.probes {
		<-tick.C
		msgID, conv := int64(8_000_000+i), int64(80_000+i)
		s := enlist(events, traffic.Probe(msgID, conv, time.Now(), rng))
		wg.Go(func() {
			r := post(ctx, send, addr, s)
			l.record(s, r)
			if !r.acked() {
				return
			}
			at, ok := processedAt(ctx, read, addr, conv, msgID, r.at.Add(probeTimeout))
			results[i] = outcome{acked: true, spooled: r.spooled, done: ok, delay: max(at.Sub(r.at), 0)}
		})
		for due += o.probePoison; due >= 1; due-- {
			e, err := poisoner.Next(rng, time.Now())
			if err != nil {
				return m, err
			}
			m.poison++
			m.poisonSize += len(e.Body)
			s := enlist(events, e)
			wg.Go(func() { l.record(s, post(ctx, send, addr, s)) })
		}
	}
	wg.Wait()
	for _, r := range results {
		switch {
		case !r.acked:
		case !r.done:
			m.acked++
			m.unprocessed++
		case r.spooled:
			m.acked++
			m.spooledDelays = append(m.spooledDelays, r.delay)
		default:
			m.acked++
			m.delays = append(m.delays, r.delay)
		}
	}
	slices.Sort(m.delays)
	slices.Sort(m.spooledDelays)
	return m, nil
}

// enlist adds an event and returns its one send.
func enlist(events *[]traffic.Event, e traffic.Event) traffic.Send {
	i := len(*events)
	*events = append(*events, e)
	return traffic.Send{Event: i, Delivery: fmt.Sprintf("chaos-%d", i), Body: e.Body}
}

// processedAt reads the conversation until the message's draft request is
// recorded done, and returns when it was, or false at the deadline.
func processedAt(ctx context.Context, c *http.Client, addr string, conv, msgID int64, deadline time.Time) (time.Time, bool) {
	url := fmt.Sprintf("http://%s/support/conversations/%d/%d", addr, account, conv)
	id := fmt.Sprintf("draft:%d", msgID)
	for ; time.Now().Before(deadline); time.Sleep(pollEvery) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			continue
		}
		var v struct {
			Actions []struct {
				ID      string    `json:"id"`
				Status  string    `json:"status"`
				Updated time.Time `json:"updated_at"`
			} `json:"actions"`
		}
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			continue
		}
		for _, a := range v.Actions {
			if a.ID == id && a.Status == "done" {
				return a.Updated, true
			}
		}
	}
	return time.Time{}, false
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
