package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"time"

	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/runtime/config"
)

// largeMessage is the size of the customer messages of the large rows: a
// paste or an attack, far past what the tagger and the anger detector read.
const largeMessage = 1 << 20

// oneWord is a single word of largeMessage letters, as in the message that
// once took 9 s to tag at 150,000 letters.
func oneWord() string {
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, largeMessage)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}

// longLetter is an ordinary customer message repeated to largeMessage bytes.
func longLetter() string {
	const letter = "Hi, I ordered a blue jacket last Tuesday (order #A-55120) and the tracking page still says " +
		"the label was created. I paid with my credit card and was charged twice, so I would like a refund " +
		"for the second charge. Could you check what is going on and tell me when it will arrive? " +
		"I need it by Friday for a trip. Thanks, Sam. "
	return strings.Repeat(letter, largeMessage/len(letter)+1)[:largeMessage]
}

// nopDrafts accepts draft requests and drops them.
type nopDrafts struct{}

func (nopDrafts) Send(context.Context, []byte, map[string]string) (string, error) {
	return "draft", nil
}

type largeRound struct{ pipe, base time.Duration }

func (r largeRound) ratio() float64 { return float64(r.pipe) / float64(r.base) }

// largeResult is the median round and every round, by ratio.
type largeResult struct {
	largeRound
	rounds []largeRound
}

// largeCost measures, rounds times, the CPU time per message of the
// processor with the support stages (tags, anger, labels, SLA, escalation,
// draft request), built as the local server and the Lambda build it, against
// an in-memory store, for a customer message whose text is content; and,
// right after, of json.Unmarshal of the same body into any.
func largeCost(content string, rounds int) (largeResult, error) {
	settings, err := config.ReadSettings(func(string) string { return "" })
	if err != nil {
		return largeResult{}, err
	}
	st := memstore.New()
	pl := compose.New(settings, compose.Adapters{Store: st, Drafts: nopDrafts{}, Chatwoot: rest.NewOffline(st),
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: time.Now})
	tagger, scorer, err := compose.Classifiers(settings.File)
	if err != nil {
		return largeResult{}, err
	}
	p := pl.Processor(tagger, scorer, nil)
	p.Queue = nopQueue{} // every message succeeds: nothing is retried or dead-lettered
	text, err := json.Marshal(content)
	if err != nil {
		return largeResult{}, err
	}
	body, _ := customerMessage(seq.Add(1), text)
	var (
		res  largeResult
		msgs = make([]queue.Message, cpuBatch)
	)
	for range max(rounds, 1) {
		pipe, err := cpuPerCall(func() {
			for i := range msgs {
				body, delivery := customerMessage(seq.Add(1), text)
				msgs[i] = queue.Message{ID: delivery, ReceiptHandle: delivery, Body: body,
					Attributes: map[string]string{queue.AttrDelivery: delivery, queue.AttrAccount: "7"}, ReceiveCount: 1, SentAt: time.Now()}
			}
		}, func(i int) error {
			if failed := p.Process(context.Background(), msgs[i:i+1]); len(failed) > 0 {
				return errors.New("processing failed")
			}
			return nil
		})
		if err != nil {
			return largeResult{}, err
		}
		base, err := cpuPerCall(func() {}, func(int) error {
			var v any
			return json.Unmarshal(body, &v)
		})
		if err != nil {
			return largeResult{}, err
		}
		res.rounds = append(res.rounds, largeRound{pipe: pipe, base: base})
	}
	slices.SortFunc(res.rounds, func(a, b largeRound) int { return cmp.Compare(a.ratio(), b.ratio()) })
	res.largeRound = res.rounds[len(res.rounds)/2]
	return res, nil
}

// cpuBatch is how many calls cpuPerCall measures at a time: a batch of
// megabyte messages is prepared, all held at once, outside the measurement.
const cpuBatch = 8

// cpuPerCall returns the process's CPU time per call of do(i), i < cpuBatch,
// over batches that prepare sets up outside the measurement, until half a
// second is measured. CPU time rather than wall time: on a shared machine,
// wall-clock rounds of one run gave ratios from 0.76 to 1.54.
func cpuPerCall(prepare func(), do func(i int) error) (time.Duration, error) {
	var spent time.Duration
	calls := 0
	for spent < time.Second/2 {
		prepare()
		runtime.GC() // the garbage of earlier batches is not this one's
		t0 := cpuTime()
		for i := range cpuBatch {
			if err := do(i); err != nil {
				return 0, err
			}
		}
		spent += cpuTime() - t0
		calls += cpuBatch
	}
	return spent / time.Duration(calls), nil
}
