// Command bench prints the figures of docs/benchmarks.md. Every ratio is
// measured against a baseline taken in the same run on the same machine, so
// the numbers compare like with like.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"supportpipe/internal/devtools/awscost"
	"supportpipe/internal/support/drafting/retrieval"
)

func main() {
	if mode := os.Getenv(benchServeEnv); mode != "" {
		check(serveChild(mode))
		return
	}
	if dir := os.Getenv(benchWorkerEnv); dir != "" {
		check(runWorker(dir))
		return
	}
	dur := flag.Duration("duration", 10*time.Second, "time each server is loaded in the throughput run, over all rounds")
	rounds := flag.Int("rounds", 5, "rounds of the throughput run, each loading the bare handler then the edge, and of the large-message rows")
	rateDur := flag.Duration("rate-duration", time.Minute, "length of the fixed-rate latency run")
	rate := flag.Int("rate", 1000, "requests per second for the latency run")
	drainN := flag.Int("drain", 5000, "messages for the drain-rate run")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run")
	edgeProfile := flag.String("edgeprofile", "", "write a CPU profile of the edge server process of the throughput run")
	reportEvents := flag.Int("report-events", 1_000_000, "events in the day the report benchmark renders")
	bitext := flag.String("bitext", "../shared/data/bitext", "the drafting row's data: kb.jsonl (varied to 1,000 canned responses) and dev.jsonl (the messages)")
	only := flag.String("only", "", "comma-separated rows to run (ingest, latency, pipeline, large, drain, report, drafting, cost); all when empty")
	flag.Parse()
	if *edgeProfile != "" {
		check(os.Setenv(benchProfileEnv, *edgeProfile))
	}
	// Every data dir of the run (children's included) is removed at the
	// end, outside every measurement.
	root, err := os.MkdirTemp("", "bench-")
	check(err)
	benchRoot = root
	defer os.RemoveAll(root)
	check(os.Setenv(benchDirEnv, root))
	run := func(row string) bool {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), row) {
			return false
		}
		flushDisk()
		return true
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))

	// Rows print as they are measured: a long run shows its progress.
	w := rowWriter{}
	fmt.Fprintln(w, "FIGURE\tVALUE\tBASELINE\tRATIO\tTARGET")

	if run("ingest") {
		ing, err := ingestThroughput(ctx, *dur, *rounds)
		check(err)
		lo, hi := ing.rounds[0].ratio(), ing.rounds[len(ing.rounds)-1].ratio()
		fmt.Fprintf(w, "ingest throughput, 64 clients (verify + durable enqueue; each server its own process), median of %d rounds\t%.0f req/s\t%.0f req/s (bare 202 handler, same round)\t%.2f (rounds %.2f–%.2f)\t≥ 0.50\n",
			len(ing.rounds), ing.ingest, ing.bare, ing.ratio(), lo, hi)
	}

	if run("latency") {
		lat, err := ackLatency(ctx, quiet, *rate, *rateDur)
		check(err)
		drain := "drained " + lat.drain.Round(time.Second).String() + " after"
		if lat.backlog > 0 {
			drain = fmt.Sprintf("%d still queued after %s (draining at %.0f msg/s)", lat.backlog, lat.drain.Round(time.Second), lat.drainRate)
		}
		stall := "not measured"
		if lat.stall >= 0 {
			stall = fmt.Sprintf("%.0f ms", ms(lat.stall))
		}
		fmt.Fprintf(w, "ack latency at %d req/s for %s, processor running\tp50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms; %d over %s\t%d sent, %d errors; longest disk stall %s; %s\t\tp99 < 10 ms\n",
			*rate, *rateDur, ms(lat.p50), ms(lat.p99), ms(lat.p999), ms(lat.max), lat.slow, slowAck, lat.sent, lat.errors, stall, drain)
	}

	if run("pipeline") {
		pipe, base := pipelineCost()
		fmt.Fprintf(w, "pipeline CPU per message (decode, dedup, merge, counters; in-memory store)\t%.1f µs\t%.1f µs (json.Unmarshal into any)\t%.2f×\t≤ 5×\n",
			us(pipe), us(base), float64(pipe)/float64(base))
	}

	if run("large") {
		for _, m := range []struct{ name, content string }{
			{"one word", oneWord()},
			{"an ordinary message repeated", longLetter()},
		} {
			res, err := largeCost(m.content, *rounds)
			check(err)
			lo, hi := res.rounds[0].ratio(), res.rounds[len(res.rounds)-1].ratio()
			fmt.Fprintf(w, "pipeline CPU per 1 MiB customer message, %s (every stage, tags and anger included; in-memory store), median of %d rounds\t%.2f ms\t%.2f ms (json.Unmarshal into any, same round)\t%.2f× (rounds %.2f–%.2f)\t\n",
				m.name, len(res.rounds), ms(res.pipe), ms(res.base), res.ratio(), lo, hi)
		}
	}

	if run("drain") {
		rateMsgs, err := drainRate(ctx, quiet, *drainN)
		check(err)
		fmt.Fprintf(w, "local drain rate (queue → stored state, SQLite)\t%.0f msg/s\t%d messages\t\t\n", rateMsgs, *drainN)
	}

	if run("report") {
		render, read, err := reportDay(ctx, *reportEvents)
		check(err)
		fmt.Fprintf(w, "daily report of a %d-event day (counters + %d SLA records)\t%.2f s\t%.2f s (reading the records alone)\t%.1f×\t< 10 s\n",
			*reportEvents, *reportEvents/20, render.Seconds(), read.Seconds(), render.Seconds()/read.Seconds())
	}

	if run("drafting") {
		d, err := draftingCost(*bitext, *rounds)
		check(err)
		fmt.Fprintf(w, "drafting time per message, retrieval over %d canned responses (%d messages × %d rounds; a message of %d characters, the most read: %.2f ms (median); indexing them: %.0f ms)\tp50 %.3f ms, p99 %.3f ms\t%.1f µs (tagging the same message)\t%.1f×\tp99 < 20 ms\n",
			kbEntries, d.messages, d.rounds, retrieval.MaxTextRunes, ms(d.longest), ms(d.build), ms(d.p50), ms(d.p99),
			us(d.tag)/float64(d.messages*d.rounds), d.ratio())
	}

	if run("cost") {
		res, err := awscost.Measure(ctx, awscost.DefaultTraffic)
		check(err)
		lines := awscost.Price(res, awscost.DefaultDeployment)
		n := float64(res.Webhooks)
		fmt.Fprintf(w, "AWS cost per million webhooks (measured DynamoDB units and log bytes, %d webhooks; list prices)\t$%.2f\t%.2f WRU, %.2f RRU per webhook\t\t≤ $5\n",
			res.Webhooks, awscost.Total(lines), (res.Processing.WRU+res.Ingest.WRU)/n, (res.Processing.RRU+res.Ingest.RRU)/n)
	}
}

// rowWriter prints tab-separated rows as " | "-separated table rows.
type rowWriter struct{}

func (rowWriter) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	fmt.Println("| " + strings.ReplaceAll(line, "\t", " | ") + " |")
	return len(p), nil
}

// benchRoot holds the run's data dirs (main), removed on every exit.
var benchRoot string

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		if benchRoot != "" {
			os.RemoveAll(benchRoot)
		}
		os.Exit(1)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
