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
	"supportpipe/internal/ports/blob/s3blob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store/dynamostore"
	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/lambdaenv"
	"supportpipe/internal/runtime/logging"
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
}

// DefaultTraffic is the model docs/cost.md prices: whole conversations of 20
// events (created, 9 customer messages, 8 agent replies, a label update,
// resolved), 5 % duplicate deliveries and 2 % re-emissions, batches of 10.
var DefaultTraffic = Traffic{Events: 2000, Duplicate: 0.05, Reemit: 0.02, BatchSize: 10, Seed: 1}

// Result is what one measured run did.
type Result struct {
	Webhooks   int   // requests to the webhook function
	Batches    int   // processor invocations
	Ingest     Usage // DynamoDB use of the webhook function
	Processing Usage // DynamoDB use of the processor
	QueueSends int   // SendMessage calls to the events queue
	DraftSends int   // SendMessage calls to the drafts queue
	Chatwoot   int   // Chatwoot API calls
	// S3 requests of the webhook function (claim check, spool) and of the
	// processor (reading and releasing claimed bodies).
	IngestS3, ProcessingS3 S3Usage
	// What the functions logged (JSON logs and EMF lines).
	IngestLogs, ProcessingLogs LogVolume
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

// Measure runs the traffic through the webhook and processor handlers as
// the Lambda functions build them, with the DynamoDB store talking to
// minidyn through the meter, and reports what they consumed.
func Measure(ctx context.Context, t Traffic) (Result, error) {
	meter := &Meter{}
	meter.Schema.PK, meter.Schema.SK, meter.Schema.IndexPK, meter.Schema.IndexSK = dynamostore.Keys()
	meter.Schema.IndexProject = true
	srv := httptest.NewServer(server.NewServer())
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("cost", "cost", ""),
		HTTPClient: &http.Client{Transport: meter}}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	if err := dynamostore.CreateTable(ctx, db, "cost"); err != nil {
		return Result{}, err
	}
	s3srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer s3srv.Close()
	s3meter := &S3Meter{}
	s3c := s3.New(s3.Options{Region: "us-east-1", Credentials: cfg.Credentials, BaseEndpoint: aws.String(s3srv.URL),
		UsePathStyle: true, HTTPClient: &http.Client{Transport: s3meter}})
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cost")}); err != nil {
		return Result{}, err
	}
	bucket := s3blob.New(s3c, "cost", s3blob.Options{})
	st := dynamostore.New(db, "cost")
	settings, err := config.ReadSettings(func(string) string { return "" })
	if err != nil {
		return Result{}, err
	}
	// What the functions write to CloudWatch Logs: their JSON logs at the
	// deployed level and their EMF lines.
	logs := &byteCounter{}
	log := logging.JSON(logs, slog.LevelInfo)
	evq := &capture{}
	draftQ := &capture{}
	cw := rest.NewOffline(st)
	// The functions' own handlers on the functions' own composition, with
	// the AWS drivers; only the event queue and the drafts queue are
	// stand-ins that count what is sent.
	p := compose.New(settings, compose.Adapters{Store: st, Queue: evq, Drafts: draftQ,
		Claims: bucket, Spool: bucket, Reports: bucket, Chatwoot: cw, Log: log, Now: time.Now})
	tagger, scorer, err := compose.Classifiers(settings.File)
	if err != nil {
		return Result{}, err
	}
	secret := "cost-measurement-secret"
	webhook := lambdaenv.WebhookHandler(p, []string{secret}, metrics.New(logs, "webhook"))
	pm := metrics.New(logs, "processor")
	proc := lambdaenv.QueueHandler(p.Processor(tagger, scorer, pm), pm)

	rng := rand.New(rand.NewPCG(t.Seed, t.Seed))
	evs := traffic.Generate(t.Events, rng)
	if err := enlarge(evs, t.Large); err != nil {
		return Result{}, err
	}
	sends := traffic.Plan(evs, t.Duplicate, t.Reemit, rng)
	var res Result
	meter.Reset()
	s3meter.Reset()
	copies := map[string]int64{}
	base := time.Now().Unix()
	for _, s := range sends {
		// A delivery sent again is signed again, at another second.
		ts := strconv.FormatInt(base-copies[s.Delivery], 10)
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
	}
	res.Ingest = meter.Usage()
	res.IngestS3 = s3meter.Usage()
	res.QueueSends = evq.sends()
	res.IngestLogs = logs.take()

	meter.Reset()
	s3meter.Reset()
	msgs := evq.take()
	for i := 0; i < len(msgs); i += t.BatchSize {
		var batch events.SQSEvent
		for _, m := range msgs[i:min(i+t.BatchSize, len(msgs))] {
			batch.Records = append(batch.Records, lambdaenv.Record(m))
		}
		out, err := proc(ctx, batch)
		if err != nil {
			return Result{}, err
		}
		if len(out.BatchItemFailures) > 0 {
			return Result{}, fmt.Errorf("batch %d: %d records failed", res.Batches, len(out.BatchItemFailures))
		}
		res.Batches++
	}
	res.Processing = meter.Usage()
	res.ProcessingS3 = s3meter.Usage()
	res.ProcessingLogs = logs.take()
	res.DraftSends = draftQ.sends()
	res.Chatwoot = len(cw.Calls())
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
		ReceiveCount: 1, SentAt: time.Now()})
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

func (c *capture) take() []queue.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.msgs
	c.msgs = nil
	return m
}
