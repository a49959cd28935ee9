package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/devtools/traffic"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/pipeline/spool"
	"supportpipe/internal/ports/blob/fileblob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqlitequeue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/sqlitestore"
	"supportpipe/internal/support/conversation"
)

// waitDrained waits until the events queue (read from its file beside the
// running server) has nothing waiting, in flight or backing off, and the
// spool is empty, twice in a row; false when timeout passed first.
func waitDrained(ctx context.Context, dir string, timeout time.Duration) (bool, error) {
	q, err := sqlitequeue.Open(ctx, filepath.Join(dir, "queue.db"), "events", sqlitequeue.Options{})
	if err != nil {
		return false, err
	}
	defer q.Close()
	b, err := fileblob.New(filepath.Join(dir, "spool"))
	if err != nil {
		return false, err
	}
	sp := spool.New(b, spool.Prefix)
	empty := 0
	for deadline := time.Now().Add(timeout); empty < 2; time.Sleep(time.Second) {
		d, qerr := q.Depth(ctx)
		oldest, serr := sp.Oldest(ctx)
		if qerr == nil && serr == nil && d.Visible+d.InFlight+d.Delayed == 0 && oldest.IsZero() {
			empty++
		} else {
			empty = 0
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "chaos: gave up waiting for the drain")
			return false, nil
		}
	}
	return true, nil
}

// daily is the part of GET /support/stats the run reads.
type daily struct {
	Processed      int64 `json:"processed"`
	Duplicates     int64 `json:"duplicates"`
	DeadLettered   int64 `json:"dead_lettered"`
	InvalidPayload int64 `json:"invalid_payload"`
	Spooled        int64 `json:"spooled"`
}

// counters sums today's and yesterday's stats, in case the run crosses midnight UTC.
func counters(c *http.Client, addr string) (daily, error) {
	var sum daily
	now := time.Now().UTC()
	for _, day := range []string{now.Format(time.DateOnly), now.AddDate(0, 0, -1).Format(time.DateOnly)} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/support/stats?date="+day, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			return sum, err
		}
		var d daily
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil {
			return sum, err
		}
		sum.Processed += d.Processed
		sum.Duplicates += d.Duplicates
		sum.DeadLettered += d.DeadLettered
		sum.InvalidPayload += d.InvalidPayload
		sum.Spooled += d.Spooled
	}
	return sum, nil
}

func duplicateDrafts(ctx context.Context, path string) (int, error) {
	q, err := sqlitequeue.Open(ctx, path, "drafts", sqlitequeue.Options{})
	if err != nil {
		return 0, err
	}
	defer q.Close()
	seen := map[string]int{}
	for {
		msgs, err := q.Receive(ctx, 500, time.Hour)
		if err != nil {
			return 0, err
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			seen[m.Attributes["request_id"]]++
		}
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	return dups, nil
}

// verdict is what the stopped server's store and DLQ say of the events.
type verdict struct {
	recorded map[int]bool // its content key is recorded: processed
	dead     map[int]bool // a copy of it is in the DLQ
	// deadReason is the reason of an event's first dead letter that the
	// edge did not keep as an invalid payload.
	deadReason map[int]string
	// invalidEntries are the DLQ entries the edge kept as invalid payloads.
	invalidEntries int
	// unmatched are DLQ entries that are none of the events sent.
	unmatched int
}

// outcomes reads the stopped server's store and DLQ: which sent events
// were recorded as processed, and which are dead letters.
func outcomes(ctx context.Context, dir string, events []traffic.Event, l *ledger) (verdict, error) {
	v := verdict{recorded: map[int]bool{}, dead: map[int]bool{}, deadReason: map[int]string{}}
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "store.db"))
	if err != nil {
		return v, err
	}
	defer st.Close()
	q, err := sqlitequeue.Open(ctx, filepath.Join(dir, "queue.db"), "events", sqlitequeue.Options{})
	if err != nil {
		return v, err
	}
	defer q.Close()
	b, err := fileblob.New(filepath.Join(dir, "claims"))
	if err != nil {
		return v, err
	}
	claims := &claim.Check{Bucket: b, Prefix: claim.Prefix}
	byKey := map[string]int{}
	for id := range l.sentIDs {
		key, ok := contentKey(events[id].Body)
		if !ok {
			continue // an invalid payload: never processed
		}
		byKey[key] = id
		seen, err := st.Seen(ctx, key)
		if err != nil {
			return v, err
		}
		if _, ok := seen[key]; ok {
			v.recorded[id] = true
		}
	}
	dls, err := q.ListDeadLetters(ctx, 1_000_000)
	if err != nil {
		return v, err
	}
	for _, d := range dls {
		id, ok := l.delivery[d.Attributes[queue.AttrDelivery]]
		if !ok {
			if body, err := claims.Body(ctx, d.Body, d.Attributes); err == nil {
				if key, kok := contentKey(body); kok {
					id, ok = byKey[key]
				}
			}
		}
		if !ok {
			v.unmatched++
			continue
		}
		v.dead[id] = true
		if d.Reason == queue.InvalidPayload {
			v.invalidEntries++
		} else if v.deadReason[id] == "" {
			v.deadReason[id] = d.Reason
		}
	}
	return v, nil
}

// contentKey is the idempotency key the processor records for a body, or
// false for a body it cannot decode.
func contentKey(body []byte) (string, bool) {
	p, err := chatwoot.Decode(body)
	if err != nil {
		return "", false
	}
	a := p.Head.AccountID
	if a == 0 {
		a = account
	}
	key := "content:" + p.ContentKey(a, body)
	if p.ConversationID == 0 {
		return key, true
	}
	// The processor scopes it to the event's conversation, whose delivery
	// log the record carries.
	return store.ScopedKey(conversation.Key{AccountID: a, ConversationID: p.ConversationID}, key), true
}
