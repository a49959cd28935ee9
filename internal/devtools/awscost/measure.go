package awscost

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/truora/minidyn/server"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/devtools/traffic"
	"supportpipe/internal/ops/metrics"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/blob/s3blob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store/dynamostore"
	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/lambdaenv"
	"supportpipe/internal/runtime/logging"
	"supportpipe/internal/support/drafting/providers"
)

// Traffic is the stream a measurement sends.
type Traffic struct {
	Events    int     // distinct webhooks
	Duplicate float64 // fraction sent again with the same delivery id
	Reemit    float64 // fraction re-emitted by Chatwoot with a new delivery id
	BatchSize int     // SQS records per processor invocation
	Seed      uint64
	// Large is how many customer messages carry a body over SQS's 1 MiB,
	// which travels by claim check through S3.
	Large int
	// Spread, when set, sends the webhooks evenly over this span of a
	// simulated clock that starts at a UTC midnight, each batch processed
	// as soon as it fills: what the time of day changes is measured, such
	// as an item written all day long that grows with the hours it has
	// seen (the day's counters did, with per-hour counters; docs/cost.md).
	// Zero sends them all within a second and processes them after, as
	// the default model does.
	Spread time.Duration
	// DraftBatch is the most draft requests the drafter is given at once
	// (the drafts queue's event source: 5, no batching window). Each
	// processor batch's requests reach it together, in batches of at most
	// this; 0 runs no drafter.
	DraftBatch int
}

// DefaultTraffic is the model docs/cost.md prices: whole conversations of 20
// events (created, 9 customer messages, 8 agent replies, a label update,
// resolved), 5 % duplicate deliveries and 2 % re-emissions, batches of 10,
// the draft requests they make drafted in the drafter's batches.
var DefaultTraffic = Traffic{Events: 2000, Duplicate: 0.05, Reemit: 0.02, BatchSize: 10, Seed: 1, DraftBatch: 5}

// SpreadDay is DefaultTraffic spread over a whole day, as real traffic
// comes: the figure docs/cost.md gives beside the default one.
var SpreadDay = func() Traffic { t := DefaultTraffic; t.Spread = 24 * time.Hour; return t }()

// Result is what one measured run did.
type Result struct {
	Webhooks   int   // requests to the webhook function
	Batches    int   // processor invocations
	Ingest     Usage // DynamoDB use of the webhook function
	Processing Usage // DynamoDB use of the processor
	QueueSends int   // SendMessage calls to the events queue
	DraftSends int   // SendMessage calls to the drafts queue
	Chatwoot   int   // Chatwoot API calls of the processor
	// S3 requests of the webhook function (claim check, spool) and of the
	// processor (reading and releasing claimed bodies).
	IngestS3, ProcessingS3 S3Usage
	// What the functions logged (JSON logs and EMF lines).
	IngestLogs, ProcessingLogs LogVolume
	// Hours is how many distinct UTC hours of the simulated clock the
	// processor ran in: 1 for the default model, 24 for a spread day.
	Hours int

	// The drafter, on the draft requests the processor sent: its
	// invocations, the requests they carried, its DynamoDB use, its logs,
	// its Chatwoot calls and what became of the requests (made, and
	// skipped by reason, as its counters say).
	DraftBatches, DraftRequests int
	Drafting                    Usage
	DraftingLogs                LogVolume
	DraftingChatwoot            map[string]int
	DraftOutcomes               map[string]int64
}

// LogVolume is what a function wrote to its log: lines and bytes.
type LogVolume struct{ Lines, Bytes int }

type byteCounter struct {
	mu sync.Mutex
	v  LogVolume
}

func (b *byteCounter) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.v.Bytes += len(p)
	b.v.Lines += bytes.Count(p, []byte("\n"))
	b.mu.Unlock()
	return len(p), nil
}

func (b *byteCounter) take() LogVolume {
	b.mu.Lock()
	defer b.mu.Unlock()
	v := b.v
	b.v = LogVolume{}
	return v
}

// function is one Lambda function of the measurement: its own DynamoDB
// and S3 clients, each behind its meter, and its own log, so what each
// function consumes is told apart however their runs interleave.
type function struct {
	meter   *Meter
	s3meter *S3Meter
	logs    *byteCounter
	log     *slog.Logger
	store   *dynamostore.Store
	bucket  *s3blob.Bucket
}

func newFunction(dynamoURL, s3URL string) *function {
	f := &function{meter: &Meter{}, s3meter: &S3Meter{}, logs: &byteCounter{}}
	f.meter.Schema.PK, f.meter.Schema.SK, f.meter.Schema.IndexPK, f.meter.Schema.IndexSK = dynamostore.Keys()
	f.meter.Schema.IndexProject = true
	creds := credentials.NewStaticCredentialsProvider("cost", "cost", "")
	db := dynamodb.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: creds, HTTPClient: &http.Client{Transport: f.meter}},
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dynamoURL) })
	s3c := s3.New(s3.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(s3URL),
		UsePathStyle: true, HTTPClient: &http.Client{Transport: f.s3meter}})
	f.store = dynamostore.New(db, "cost")
	f.bucket = s3blob.New(s3c, "cost", s3blob.Options{})
	// What the function writes to CloudWatch Logs: its JSON logs at the
	// deployed level and its EMF lines.
	f.log = logging.JSON(f.logs, slog.LevelInfo)
	return f
}

// clock is the measurement's time: the system clock, or a simulated one
// that the run moves forward.
type clock struct {
	mu  sync.Mutex
	sim time.Time // zero: the system clock
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sim.IsZero() {
		return time.Now()
	}
	return c.sim
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.sim = t
	c.mu.Unlock()
}

// Measure runs the traffic through the webhook, processor and drafter
// handlers as the Lambda functions build them, with the DynamoDB store
// talking to minidyn through a meter per function, and reports what they
// consumed.
func Measure(ctx context.Context, t Traffic) (Result, error) {
	srv := httptest.NewServer(server.NewServer())
	defer srv.Close()
	s3srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer s3srv.Close()
	ingest, processing, drafting := newFunction(srv.URL, s3srv.URL), newFunction(srv.URL, s3srv.URL), newFunction(srv.URL, s3srv.URL)
	if err := dynamostore.CreateTable(ctx, dynamodb.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("cost", "cost", "")},
		func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL) }), "cost"); err != nil {
		return Result{}, err
	}
	s3c := s3.New(s3.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("cost", "cost", ""),
		BaseEndpoint: aws.String(s3srv.URL), UsePathStyle: true})
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cost")}); err != nil {
		return Result{}, err
	}
	settings, err := config.ReadSettings(func(string) string { return "" })
	if err != nil {
		return Result{}, err
	}
	clk := &clock{}
	start := time.Now()
	if t.Spread > 0 {
		// The next UTC midnight: the model's conversations, dated in the
		// two hours before the system clock, are in the past all day.
		start = time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
		clk.set(start)
	}
	evq, draftQ := &capture{now: clk.now}, &capture{now: clk.now}
	// The functions' own handlers on the functions' own compositions, with
	// the AWS drivers; only the events queue and the drafts queue are
	// stand-ins that count what is sent. Chatwoot is not called: its
	// stand-in records the calls, and holds the stand-in account's canned
	// responses, which the drafter's retrieval drafts from.
	adapters := func(f *function, cw rest.Client) compose.Adapters {
		return compose.Adapters{Store: f.store, Queue: evq, Drafts: draftQ, Claims: f.bucket, Spool: f.bucket, Reports: f.bucket,
			Chatwoot: cw, Log: f.log, Now: clk.now}
	}
	secret := "cost-measurement-secret"
	webhook := lambdaenv.WebhookHandler(compose.New(settings, adapters(ingest, rest.NewOffline(ingest.store))), []string{secret},
		metrics.New(ingest.logs, "webhook"))
	cw := rest.NewOffline(processing.store)
	tagger, scorer, err := compose.Classifiers(settings.File)
	if err != nil {
		return Result{}, err
	}
	pm := metrics.New(processing.logs, "processor")
	proc := lambdaenv.QueueHandler(compose.New(settings, adapters(processing, cw)).Processor(tagger, scorer, pm), pm)
	draftCW := rest.NewOffline(nil)
	dp := compose.New(settings, adapters(drafting, draftCW))
	provider, err := compose.DraftingProvider(ctx, settings, providers.Deps{Chatwoot: draftCW, Log: drafting.log, Now: clk.now})
	if err != nil {
		return Result{}, err
	}
	dm := metrics.New(drafting.logs, "drafter")
	drafter := lambdaenv.QueueHandler(dp.Drafter(provider, draftQ, dm), dm)

	rng := rand.New(rand.NewPCG(t.Seed, t.Seed))
	evs := traffic.Generate(t.Events, rng)
	if err := enlarge(evs, t.Large); err != nil {
		return Result{}, err
	}
	sends := traffic.Plan(evs, t.Duplicate, t.Reemit, rng)
	var res Result
	hours := map[int]bool{}
	// drain runs the events queue's messages through the processor in
	// batches (all of them, or only whole batches), and the draft requests
	// each batch sent through the drafter.
	drain := func(all bool) error {
		for evq.len() >= t.BatchSize || all && evq.len() > 0 {
			var batch events.SQSEvent
			for _, m := range evq.takeN(t.BatchSize) {
				batch.Records = append(batch.Records, lambdaenv.Record(m))
			}
			hours[clk.now().UTC().Hour()] = true
			out, err := proc(ctx, batch)
			if err != nil {
				return err
			}
			if len(out.BatchItemFailures) > 0 {
				return fmt.Errorf("batch %d: %d records failed", res.Batches, len(out.BatchItemFailures))
			}
			res.Batches++
			if t.DraftBatch <= 0 {
				continue
			}
			for draftQ.len() > 0 {
				var batch events.SQSEvent
				for _, m := range draftQ.takeN(t.DraftBatch) {
					batch.Records = append(batch.Records, lambdaenv.Record(m))
				}
				out, err := drafter(ctx, batch)
				if err != nil {
					return err
				}
				if len(out.BatchItemFailures) > 0 {
					return fmt.Errorf("draft batch %d: %d records failed", res.DraftBatches, len(out.BatchItemFailures))
				}
				res.DraftBatches++
				res.DraftRequests += len(batch.Records)
			}
		}
		return nil
	}
	copies := map[string]int64{}
	for i, s := range sends {
		// The model's webhooks are all signed in the second the run
		// starts; a spread day's at their time of the day.
		at := start
		if t.Spread > 0 {
			at = start.Add(time.Duration(i) * t.Spread / time.Duration(len(sends)))
			clk.set(at)
		}
		// A delivery sent again is signed again, at another second.
		ts := strconv.FormatInt(at.Unix()-copies[s.Delivery], 10)
		copies[s.Delivery]++
		req := webhookRequest(s, ts, chatwoot.Sign([]byte(secret), ts, s.Body))
		resp, err := webhook(ctx, req)
		if err != nil {
			return Result{}, err
		}
		if resp.StatusCode != http.StatusAccepted {
			return Result{}, fmt.Errorf("webhook answered %d: %s", resp.StatusCode, resp.Body)
		}
		res.Webhooks++
		if t.Spread > 0 {
			if err := drain(false); err != nil {
				return Result{}, err
			}
		}
	}
	if err := drain(true); err != nil {
		return Result{}, err
	}
	res.Hours = len(hours)
	res.Ingest, res.IngestS3, res.IngestLogs = ingest.meter.Usage(), ingest.s3meter.Usage(), ingest.logs.take()
	res.Processing, res.ProcessingS3, res.ProcessingLogs = processing.meter.Usage(), processing.s3meter.Usage(), processing.logs.take()
	res.Drafting, res.DraftingLogs = drafting.meter.Usage(), drafting.logs.take()
	res.QueueSends, res.DraftSends = evq.sends(), draftQ.sends()
	res.Chatwoot = len(cw.Calls())
	res.DraftingChatwoot = map[string]int{}
	for _, c := range draftCW.Calls() {
		res.DraftingChatwoot[c.Op]++
	}
	// What became of the requests, as the drafter counted them on the
	// run's day (or two, when it passed midnight), read after the meters
	// were: no function's cost.
	res.DraftOutcomes = map[string]int64{}
	for _, day := range slices.Compact([]string{stats.Day(start), stats.Day(clk.now())}) {
		c, err := drafting.store.Counters(ctx, day)
		if err != nil {
			return Result{}, err
		}
		for k, v := range c {
			if k == stats.DraftsMade || strings.HasPrefix(k, stats.DraftsSkippedPrefix) || k == stats.DraftsFailed {
				res.DraftOutcomes[k] += v
			}
		}
	}
	return res, nil
}

// enlarge pads the content of the first n customer messages past SQS's
// limit, as an email of a few hundred KiB of HTML does.
func enlarge(evs []traffic.Event, n int) error {
	left := n
	for i := 0; i < len(evs) && left > 0; i++ {
		var body map[string]json.RawMessage
		if err := json.Unmarshal(evs[i].Body, &body); err != nil {
			return err
		}
		if string(body["message_type"]) != `"incoming"` {
			continue
		}
		var text string
		if err := json.Unmarshal(body["content"], &text); err != nil {
			return err
		}
		long, err := json.Marshal(strings.Repeat(text+"\n", queue.MaxMessageSize/len(text)+1))
		if err != nil {
			return err
		}
		body["content"] = long
		if evs[i].Body, err = json.Marshal(body); err != nil {
			return err
		}
		left--
	}
	if left > 0 {
		return fmt.Errorf("traffic has fewer than %d customer messages to enlarge", n)
	}
	return nil
}

func webhookRequest(s traffic.Send, ts, sig string) events.APIGatewayV2HTTPRequest {
	var req events.APIGatewayV2HTTPRequest
	req.RequestContext.HTTP.Method = http.MethodPost
	req.RawPath = "/webhooks/chatwoot"
	req.Body = string(s.Body)
	req.Headers = map[string]string{
		"content-type":           "application/json",
		chatwoot.HeaderDelivery:  s.Delivery,
		chatwoot.HeaderTimestamp: ts,
		chatwoot.HeaderSignature: sig,
	}
	return req
}

// capture is an in-memory queue standing in for SQS: the measurement counts
// its requests and prices them, it does not need their wire format. Like
// every driver it refuses what SQS would, before any request, so a body
// over the limit goes by claim check as on AWS.
type capture struct {
	queue.Queue // the rest is not called
	now         func() time.Time
	mu          sync.Mutex
	msgs        []queue.Message
	n           int
}

func (c *capture) Send(_ context.Context, body []byte, attrs map[string]string) (string, error) {
	if err := queue.Fits(body, attrs); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	id := fmt.Sprintf("m-%08d", c.n)
	c.msgs = append(c.msgs, queue.Message{ID: id, ReceiptHandle: "r-" + id, Body: body, Attributes: attrs,
		ReceiveCount: 1, SentAt: c.now()})
	return id, nil
}

func (c *capture) ChangeVisibility(context.Context, string, time.Duration) error { return nil }

func (c *capture) DeadLetter(context.Context, queue.Message, string, int) error {
	return fmt.Errorf("no message should be dead-lettered in a cost run")
}

func (c *capture) sends() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *capture) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// takeN takes the first n messages, or all there are.
func (c *capture) takeN(n int) []queue.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	n = min(n, len(c.msgs))
	m := c.msgs[:n:n]
	c.msgs = c.msgs[n:]
	return m
}
