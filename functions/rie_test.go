package functions_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/truora/minidyn/server"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/chatwoottest"
	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ops/report"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/pipeline/drafter"
	"supportpipe/internal/pipeline/edge/edgetest"
	"supportpipe/internal/pipeline/spool"
	"supportpipe/internal/ports/blob"
	"supportpipe/internal/ports/blob/s3blob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqsqueue"
	"supportpipe/internal/ports/queue/sqsqueue/sqsfake"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/dynamostore"
	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/runtime/lambdaenv"
	"supportpipe/internal/support/conversation"
	"supportpipe/internal/support/drafts"
)

// rieModule is the emulator version these tests are written against; the
// skip message says how to install it.
const rieModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

var functions = []string{"webhook", "processor", "drafter", "api", "report", "sweeper"}

// Resources in the fakes, and the secrets the functions get.
const (
	table         = "support"
	bucket        = "support-artifacts"
	eventsQueue   = "support-events"
	deadLetters   = "support-events-dlq"
	draftsQueue   = "support-drafts"
	draftsDLQ     = "support-drafts-dlq"
	webhookSecret = "rie-webhook-secret"
	// inboxSecret is an API inbox's own secret, which signs its webhooks.
	inboxSecret = "rie-api-inbox-secret"
	apiToken    = "rie-api-token"
)

// functionTimeout fails a hung function in a minute rather than after the
// emulator's default of 300 s, and leaves a slow one on a busy machine the
// time it needs. A message received for an invocation stays hidden longer
// (as the event source mapping's visibility outlasts the timeout), so that
// the function's own changes of its visibility find it in flight.
const functionTimeout = time.Minute

// build compiles the six functions for linux/goarch as the Makefile does and
// returns the path of each bootstrap, dir/<function>/bootstrap.
func build(t *testing.T, goarch string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "bin") + string(filepath.Separator)
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out}
	for _, f := range functions {
		args = append(args, "./"+f)
	}
	// One go command links the six binaries in parallel.
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+goarch, "CGO_ENABLED=0")
	start := time.Now()
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", msg)
	t.Logf("built %d %s bootstraps in %v", len(functions), goarch, time.Since(start).Round(time.Millisecond))
	paths := map[string]string{}
	for _, f := range functions {
		p := filepath.Join(dir, f, "bootstrap")
		require.NoError(t, os.Mkdir(filepath.Dir(p), 0o755))
		require.NoError(t, os.Rename(filepath.Join(out, f), p))
		paths[f] = p
	}
	return paths
}

func size(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Size()
}

func mb(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }

// maxBootstrap is the size budget of a deployed (arm64) bootstrap.
const maxBootstrap = 15 << 20

// TestBootstrapSize holds the deployed bootstraps to their budget.
func TestBootstrapSize(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the six functions")
	}
	bootstraps := build(t, "arm64")
	for _, f := range functions {
		n := size(t, bootstraps[f])
		t.Logf("%-9s arm64 %s MB (%d bytes)", f, mb(n), n)
		assert.Less(t, n, int64(maxBootstrap), "%s bootstrap", f)
	}
}

// findRIE returns the emulator's path: on PATH, else where go install puts it.
func findRIE(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "-json", "GOBIN", "GOPATH").Output()
	require.NoError(t, err)
	var goenv struct{ GOBIN, GOPATH string }
	require.NoError(t, json.Unmarshal(out, &goenv))
	dir := goenv.GOBIN
	if dir == "" {
		dir = filepath.Join(filepath.SplitList(goenv.GOPATH)[0], "bin")
	}
	p := filepath.Join(dir, "aws-lambda-rie")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("aws-lambda-rie is neither on PATH nor in %s; install it with: go install %s", dir, rieModule)
	}
	return p
}

// fakes are the AWS services the functions use, in process.
type fakes struct {
	sqs *sqsfake.Server
	db  *dynamodb.Client
	s3  *s3.Client
	env []string // the functions' environment
}

func startFakes(t *testing.T) *fakes {
	t.Helper()
	ctx := t.Context()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}

	q := sqsfake.New(t)
	evq, dlq := q.CreateQueue(eventsQueue, false), q.CreateQueue(deadLetters, true)
	drafts, draftsDead := q.CreateQueue(draftsQueue, false), q.CreateQueue(draftsDLQ, true)

	dyn := httptest.NewServer(server.NewServer())
	t.Cleanup(dyn.Close)
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dyn.URL) })
	require.NoError(t, dynamostore.CreateTable(ctx, db, table))

	s3srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(s3srv.Close)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s3srv.URL)
		o.UsePathStyle = true
	})
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)

	return &fakes{sqs: q, db: db, s3: s3c, env: []string{
		// Only what is listed: nothing of the developer's AWS setup may
		// reach the functions, which would then talk to a real account.
		"HOME=" + t.TempDir(),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_SQS=" + q.URL, "AWS_ENDPOINT_URL_DYNAMODB=" + dyn.URL, "AWS_ENDPOINT_URL_S3=" + s3srv.URL,
		"AWS_S3_USE_PATH_STYLE=true",
		"SUPPORT_TABLE=" + table, "SUPPORT_BUCKET=" + bucket,
		"SUPPORT_QUEUE_URL=" + evq.URL, "SUPPORT_QUEUE_ARN=" + evq.ARN,
		"SUPPORT_DLQ_URL=" + dlq.URL, "SUPPORT_DLQ_ARN=" + dlq.ARN,
		"SUPPORT_DRAFTS_QUEUE_URL=" + drafts.URL, "SUPPORT_DRAFTS_DLQ_URL=" + draftsDead.URL,
		"CHATWOOT_WEBHOOK_SECRET=" + webhookSecret + "," + inboxSecret, "SUPPORT_API_TOKEN=" + apiToken,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int(functionTimeout/time.Second)),
	}}
}

// queue returns a client of the events queue and its DLQ, as the functions see them.
func (f *fakes) queue() *sqsqueue.Queue {
	return sqsqueue.New(f.sqsClient(), sqsqueue.Config{QueueURL: f.sqs.Queue(eventsQueue).URL, DLQURL: f.sqs.Queue(deadLetters).URL})
}

func (f *fakes) sqsClient() *sqs.Client {
	return sqs.New(sqs.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(f.sqs.URL)})
}

// freePorts reserves n distinct loopback ports, holding all of them until
// the last is chosen so that none comes back twice.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}

// emulator is one function running under its own emulator.
type emulator struct {
	name string
	url  string
	log  string // the emulator's and the function's output
}

// start runs bootstrap under the emulator on loopback addresses. The
// emulator stops when the test ends: SIGTERM makes it kill and reap the
// function, the kill after WaitDelay is for an emulator that hangs.
func start(t *testing.T, rie, name, bootstrap string, env []string, apiAddr, runtimeAddr string) *emulator {
	t.Helper()
	e := &emulator{name: name, url: "http://" + apiAddr + "/2015-03-31/functions/function/invocations",
		log: filepath.Join(t.TempDir(), name+".log")}
	out, err := os.Create(e.log)
	require.NoError(t, err)
	t.Cleanup(func() { out.Close() })

	cmd := exec.CommandContext(t.Context(), rie,
		"--runtime-interface-emulator-address", apiAddr, "--runtime-api-address", runtimeAddr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append(slices.Clone(env), "AWS_LAMBDA_FUNCTION_NAME="+name)
	// A file, not a buffer: the emulator writes its init report before it
	// answers the invoke, so the report is there when the answer arrives.
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 3 * time.Second
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		<-exited // the context is done: the emulator is stopping
		if t.Failed() {
			b, _ := os.ReadFile(e.log)
			t.Logf("%s emulator output:\n%s", name, b)
		}
	})
	waitfor.Until(t, func() bool {
		select {
		case <-exited:
			require.FailNow(t, name+" emulator exited before it listened")
		default:
		}
		c, err := net.Dial("tcp", apiAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "%s emulator listens on %s", name, apiAddr)
	return e
}

// An invocation's answer comes within the function's timeout, an error
// when it expires.
var client = &http.Client{Timeout: 2 * functionTimeout}

// invoke sends event to the function, decodes its result into out and
// returns the round trip time seen by the caller.
func (e *emulator) invoke(t *testing.T, event, out any) time.Duration {
	t.Helper()
	b, err := json.Marshal(event)
	require.NoError(t, err)
	start := time.Now()
	resp, err := client.Post(e.url, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", e.name, body)
	// A function error is a 200 too, with the error as the result.
	var fault struct{ ErrorType, ErrorMessage string }
	require.NoError(t, json.Unmarshal(body, &fault), "%s: %s", e.name, body)
	require.Empty(t, fault.ErrorType, "%s failed: %s", e.name, body)
	require.NoError(t, json.Unmarshal(body, out), "%s: %s", e.name, body)
	return elapsed
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// initDuration is the emulator's measure of the cold start, as Lambda's
// Init Duration: from starting the bootstrap to its first request for an
// event. (The "Init Duration" on the emulator's REPORT line is not that: it
// times the call that starts the init, which then runs on asynchronously.)
func (e *emulator) initDuration(t *testing.T) time.Duration {
	t.Helper()
	b, err := os.ReadFile(e.log)
	require.NoError(t, err)
	m := initReport.FindSubmatch(b)
	require.NotNil(t, m, "%s: no init report in the emulator output", e.name)
	ms, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)
	return time.Duration(ms * float64(time.Millisecond))
}

// figures are one function's measurements.
type figures struct {
	size        int64
	init        time.Duration
	first, warm time.Duration
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "chatwoot", name))
	require.NoError(t, err)
	return b
}

// TestEmulator runs the six bootstraps, built as for deployment but for this
// machine's amd64, each under its own Lambda Runtime Interface Emulator,
// against in-process SQS, DynamoDB and S3 fakes. Each function's first
// invocation is its cold start; the second, of the same kind, finds it warm.
// The subtests share the fakes and run in order: the processor goes first,
// on the empty events queue.
func TestEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the six functions and runs them in the emulator")
	}
	rie := findRIE(t)
	bootstraps := build(t, "amd64")
	f := startFakes(t)
	addrs := freePorts(t, 2*len(functions))
	em := map[string]*emulator{}
	for i, name := range functions {
		em[name] = start(t, rie, name, bootstraps[name], f.env, addrs[2*i], addrs[2*i+1])
	}
	figs := map[string]*figures{}
	for _, name := range functions {
		figs[name] = &figures{size: size(t, bootstraps[name])}
	}
	ctx := t.Context()
	q := f.queue()

	t.Run("processor", func(t *testing.T) {
		// batch sends the bodies, with the attributes the webhook sets,
		// and receives them as the event source mapping would.
		deliveries := 0
		batch := func(bodies ...[]byte) (events.SQSEvent, []queue.Message) {
			for _, b := range bodies {
				// Distinct delivery ids: the processor drops a delivery it has seen.
				deliveries++
				_, err := q.Send(ctx, b, map[string]string{queue.AttrAccount: "7",
					queue.AttrDelivery: "rie-" + strconv.Itoa(deliveries), queue.AttrReceivedAt: time.Now().UTC().Format(time.RFC3339Nano)})
				require.NoError(t, err)
			}
			ms, err := q.Receive(ctx, 10, 2*functionTimeout)
			require.NoError(t, err)
			require.Len(t, ms, len(bodies))
			return f.sqsEvent(ms), ms
		}
		// settle deletes a batch's messages once it is checked: those that
		// succeeded, as the event source mapping does, and the failure,
		// which the test does not retry. Left on the queue, the failure
		// is visible again after its 1 s backoff and, on a slow machine,
		// joins the next batch.
		settle := func(ms []queue.Message) {
			for _, m := range ms {
				require.NoError(t, q.Delete(ctx, m.ReceiptHandle))
			}
		}
		incoming := fixture(t, "02_message_created_incoming.json")
		ev, ms := batch(incoming, fixture(t, "01_conversation_created.json"), []byte("not json"))
		bad := ms[2] // the fake delivers in send order
		f.sqs.TakeCalls()

		var resp events.SQSEventResponse
		figs["processor"].first = em["processor"].invoke(t, ev, &resp)
		assert.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: bad.ID}}, resp.BatchItemFailures)

		var backoffs []map[string]any
		for _, c := range f.sqs.TakeCalls() {
			if c.Op == "ChangeMessageVisibility" {
				backoffs = append(backoffs, c.Body)
			}
		}
		assert.Equal(t, []map[string]any{{"QueueUrl": f.sqs.Queue(eventsQueue).URL,
			"ReceiptHandle": bad.ReceiptHandle, "VisibilityTimeout": 1.0}}, backoffs, "first attempt backs off 1 s")

		p, err := chatwoot.Decode(incoming)
		require.NoError(t, err)
		k := conversation.Key{AccountID: p.AccountID, ConversationID: p.ConversationID}
		st, ok, err := dynamostore.New(f.db, table).Conversation(ctx, k)
		require.NoError(t, err)
		require.True(t, ok, "conversation %v not stored", k)
		assert.Equal(t, p.Message.ID, st.FirstCustomerMessageID)
		settle(ms)

		// Warm: a batch of the same shape, other events.
		ev, ms = batch(fixture(t, "03_message_created_bot.json"), fixture(t, "05_message_created_agent_reply.json"), []byte("not json"))
		figs["processor"].warm = em["processor"].invoke(t, ev, &resp)
		assert.Len(t, resp.BatchItemFailures, 1)
		settle(ms)
	})

	t.Run("drafter", func(t *testing.T) {
		dq := sqsqueue.New(f.sqsClient(), sqsqueue.Config{QueueURL: f.sqs.Queue(draftsQueue).URL, DLQURL: f.sqs.Queue(draftsDLQ).URL})
		// What the processor asked for above, and a billing question the
		// stand-in account's canned responses answer (CHATWOOT_LIVE is not
		// set: the note is recorded, not sent).
		req := drafts.Request{ID: drafts.RequestID(7, 9001, 90011), AccountID: 7, ConversationID: 9001,
			Message: drafts.Message{ID: 90011, Content: "I was charged twice for my order", CreatedAt: time.Now()}, RequestedAt: time.Now()}
		_, err := drafts.Enqueue(ctx, dq, req)
		require.NoError(t, err)
		var ms []queue.Message
		waitfor.Until(t, func() bool {
			got, err := dq.Receive(ctx, 10, 2*functionTimeout)
			require.NoError(t, err)
			ms = append(ms, got...)
			return slices.ContainsFunc(ms, func(m queue.Message) bool { return strings.Contains(string(m.Body), req.ID) })
		}, "the draft requests are received")
		ev := f.sqsEvent(ms)
		var resp events.SQSEventResponse
		figs["drafter"].first = em["drafter"].invoke(t, ev, &resp)
		assert.Empty(t, resp.BatchItemFailures)
		day := time.Now().UTC().Format(time.DateOnly)
		st := dynamostore.New(f.db, table)
		recs, err := st.DayRecords(ctx, day, drafter.DayRecordKind, 100)
		require.NoError(t, err)
		require.Len(t, recs, len(ms), "one outcome per request")
		i := slices.IndexFunc(recs, func(r store.DayRecord) bool { return r.ID == req.ID })
		require.GreaterOrEqual(t, i, 0)
		var rec drafter.Record
		require.NoError(t, json.Unmarshal([]byte(recs[i].Data), &rec))
		assert.Equal(t, drafter.OutcomeMade, rec.Outcome)
		assert.Equal(t, "double_charge", rec.Source)

		// Warm: the same requests delivered again change nothing.
		figs["drafter"].warm = em["drafter"].invoke(t, ev, &resp)
		assert.Empty(t, resp.BatchItemFailures)
		c, err := st.Counters(ctx, day)
		require.NoError(t, err)
		assert.EqualValues(t, 1, c[stats.DraftsMade], "counted once")
		for _, m := range ms {
			require.NoError(t, dq.Delete(ctx, m.ReceiptHandle))
		}
	})

	t.Run("webhook", func(t *testing.T) {
		body := fixture(t, "02_message_created_incoming.json")
		type reply struct {
			Status string `json:"status"`
			ID     string `json:"id"`
		}
		f.sqs.TakeCalls()
		req := edgetest.Request(webhookSecret, body, time.Now(), "rie-delivery-1")
		var resp events.APIGatewayV2HTTPResponse
		figs["webhook"].first = em["webhook"].invoke(t, req, &resp)
		require.Equal(t, http.StatusAccepted, resp.StatusCode, resp.Body)
		var r reply
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &r))
		assert.Equal(t, "accepted", r.Status)
		assert.Equal(t, []string{"SendMessage"}, ops(f.sqs.TakeCalls()))
		i := slices.IndexFunc(f.sqs.Messages(eventsQueue), func(m sqsfake.Message) bool { return m.ID == r.ID })
		require.GreaterOrEqual(t, i, 0, "message %s not in the queue", r.ID)
		m := f.sqs.Messages(eventsQueue)[i]
		assert.Equal(t, string(body), m.Body)
		assert.Equal(t, "rie-delivery-1", m.Attributes[queue.AttrDelivery])
		assert.Equal(t, req.Headers[chatwoot.HeaderTimestamp], m.Attributes[queue.AttrTimestamp])
		assert.Equal(t, req.Headers[chatwoot.HeaderSignature], m.Attributes[queue.AttrSignature])

		n := len(f.sqs.Messages(eventsQueue))
		em["webhook"].invoke(t, edgetest.Request("not-the-secret", body, time.Now(), "rie-delivery-2"), &resp)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, resp.Body)
		assert.Empty(t, ops(f.sqs.TakeCalls()), "nothing sent")
		assert.Len(t, f.sqs.Messages(eventsQueue), n, "nothing queued")

		// Warm: another delivery, signed afresh.
		figs["webhook"].warm = em["webhook"].invoke(t, edgetest.Request(webhookSecret, body, time.Now(), "rie-delivery-3"), &resp)
		assert.Equal(t, http.StatusAccepted, resp.StatusCode, resp.Body)
	})

	t.Run("report", func(t *testing.T) {
		at := time.Now().UTC().Truncate(24 * time.Hour).Add(9 * time.Hour)
		ev := events.EventBridgeEvent{Version: "0", ID: "rie-report", DetailType: "Scheduled Event", Source: "aws.events",
			AccountID: "000000000000", Time: at, Region: "us-east-1",
			Resources: []string{"arn:aws:events:us-east-1:000000000000:rule/support-report"}, Detail: json.RawMessage(`{}`)}
		key := "reports/support/" + at.AddDate(0, 0, -1).Format(time.DateOnly) + ".md"
		var res map[string]string
		figs["report"].first = em["report"].invoke(t, ev, &res)
		assert.Equal(t, map[string]string{"key": key}, res)
		obj, err := f.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		require.NoError(t, err)
		md, err := io.ReadAll(obj.Body)
		obj.Body.Close()
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(md), "# Support health report"), "report starts %.60q", md)

		figs["report"].warm = em["report"].invoke(t, ev, &res)
	})

	t.Run("api", func(t *testing.T) {
		get := func(path, token string) events.APIGatewayV2HTTPRequest {
			req := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "GET " + path, RawPath: path,
				Headers:        map[string]string{},
				RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path}}}
			if token != "" {
				req.Headers["authorization"] = "Bearer " + token
			}
			return req
		}
		// First and warm: a request that needs no I/O, so their difference
		// is the cold start.
		var resp events.APIGatewayV2HTTPResponse
		figs["api"].first = em["api"].invoke(t, get("/support/stats", ""), &resp)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, resp.Body)
		figs["api"].warm = em["api"].invoke(t, get("/support/stats", ""), &resp)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, resp.Body)

		em["api"].invoke(t, get("/support/stats", apiToken), &resp)
		assert.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)

		em["api"].invoke(t, get("/support/health", ""), &resp)
		require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
		var health struct {
			Status string
			Checks []struct{ Name, Status string }
		}
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &health))
		assert.NotEmpty(t, health.Status)
		var names []string
		for _, c := range health.Checks {
			names = append(names, c.Name)
		}
		assert.ElementsMatch(t, []string{"chatwoot_api", "ingest", "queue", "dlq", "store", "spool"}, names)
	})

	t.Run("sweeper", func(t *testing.T) {
		// An event the webhook had to spool; the sweeper puts it on the queue.
		sp := spool.New(s3blob.New(f.s3, bucket, s3blob.Options{}), "spool/")
		spooled := `{"event":"spooled by rie"}`
		_, err := sp.Put(ctx, []byte(spooled), map[string]string{queue.AttrAccount: "7"})
		require.NoError(t, err)
		// A dead letter: the sweeper files the DLQ alarm for the report.
		dlq := sqsqueue.New(f.sqsClient(), sqsqueue.Config{QueueURL: f.sqs.Queue(deadLetters).URL})
		_, err = dlq.Send(ctx, []byte(`{"event":"dead-lettered by rie"}`), nil)
		require.NoError(t, err)
		now := time.Now().UTC()
		ev := events.EventBridgeEvent{Version: "0", ID: "rie-sweeper", DetailType: "Scheduled Event", Source: "aws.events",
			AccountID: "000000000000", Time: now, Region: "us-east-1", Detail: json.RawMessage(`{}`)}
		var res compose.Round
		figs["sweeper"].first = em["sweeper"].invoke(t, ev, &res)
		assert.Zero(t, res.Errors)
		assert.Equal(t, 1, res.Respooled)
		assert.True(t, slices.ContainsFunc(f.sqs.Messages(eventsQueue), func(m sqsfake.Message) bool { return m.Body == spooled }),
			"spooled event not on the queue")
		assert.Equal(t, 1, res.QueueAlarms, "the DLQ crossing")

		// The same event delivered again finds the level filed.
		res = compose.Round{}
		figs["sweeper"].warm = em["sweeper"].invoke(t, ev, &res)
		assert.Equal(t, 0, res.Respooled)
		assert.Equal(t, 0, res.QueueAlarms)
		recs, err := dynamostore.New(f.db, table).DayRecords(ctx, now.Format(time.DateOnly), report.AlertKind, 10)
		require.NoError(t, err)
		require.Len(t, recs, 1)
		assert.Equal(t, now.Truncate(time.Minute).Format("2006-01-02T15:04Z")+":dlq_depth:alert", recs[0].ID)
		assert.Equal(t, "dead-letter queue alert: 1 message(s)", recs[0].Data)
	})

	// Last, so that each function's first invocation above stays its cold start.
	t.Run("claim check", func(t *testing.T) {
		// Bodies SQS cannot carry: an Outlook email of 1.3 MB, and an API
		// inbox message holding U+FFFF, a character SQS refuses in valid JSON.
		email := corpusBody(t, "15_account_message_created_email_1_3mb.json.gz")
		nonchar := corpusBody(t, "26_api_inbox_message_created_incoming_api.json")
		nonchar.Raw = bytes.Replace(nonchar.Raw, []byte("warped bases"), []byte("warped\uFFFF bases"), 2)
		require.Equal(t, 2, bytes.Count(nonchar.Raw, []byte("\uFFFF")), "the message and its copy in the conversation")
		bodies := s3blob.New(f.s3, bucket, s3blob.Options{})
		for i, tc := range []struct {
			name   string
			body   chatwoottest.Body
			secret string
		}{
			{"email 1.3 MB", email, webhookSecret},
			{"U+FFFF", nonchar, inboxSecret},
		} {
			t.Run(tc.name, func(t *testing.T) {
				delivery := "rie-claim-" + strconv.Itoa(i)
				var resp events.APIGatewayV2HTTPResponse
				em["webhook"].invoke(t, webhookRequest(tc.secret, tc.body.Raw, tc.body.AccountID, delivery), &resp)
				require.Equal(t, http.StatusAccepted, resp.StatusCode, resp.Body)
				var r struct {
					Status         string `json:"status"`
					ID             string `json:"id"`
					Ignored        bool   `json:"ignored"`
					Spooled        bool   `json:"spooled"`
					InvalidPayload bool   `json:"invalid_payload"`
				}
				require.NoError(t, json.Unmarshal([]byte(resp.Body), &r))
				require.Equal(t, "accepted", r.Status)
				require.False(t, r.Ignored || r.Spooled || r.InvalidPayload, resp.Body)

				i := slices.IndexFunc(f.sqs.Messages(eventsQueue), func(m sqsfake.Message) bool { return m.ID == r.ID })
				require.GreaterOrEqual(t, i, 0, "message %s not in the queue", r.ID)
				ticket := f.sqs.Messages(eventsQueue)[i]
				key := ticket.Attributes[claim.Attr]
				require.True(t, strings.HasPrefix(key, claim.Prefix), "a claim ticket, not the body: %v", ticket.Attributes)
				assert.Less(t, len(ticket.Body), 1024, "the ticket is small")
				assert.Equal(t, delivery, ticket.Attributes[queue.AttrDelivery])
				var named map[string]struct {
					Key   string `json:"key"`
					Bytes int    `json:"bytes"`
				}
				require.NoError(t, json.Unmarshal([]byte(ticket.Body), &named), ticket.Body)
				assert.Equal(t, key, named[claim.Attr].Key)
				assert.Equal(t, len(tc.body.Raw), named[claim.Attr].Bytes)
				stored, err := bodies.Get(ctx, key)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(tc.body.Raw, stored), "the bucket holds the body as signed")

				ms := receiveIDs(t, q, r.ID)
				var out events.SQSEventResponse
				em["processor"].invoke(t, f.sqsEvent(ms), &out)
				assert.Empty(t, out.BatchItemFailures)

				p, err := chatwoot.Decode(tc.body.Raw)
				require.NoError(t, err)
				k := conversation.Key{AccountID: tc.body.AccountID, ConversationID: tc.body.ConversationID}
				st, ok, err := dynamostore.New(f.db, table).Conversation(ctx, k)
				require.NoError(t, err)
				require.True(t, ok, "conversation %v not stored", k)
				assert.Equal(t, p.Message.ID, st.FirstCustomerMessageID, "the message merged")
				_, err = bodies.Get(ctx, key)
				assert.ErrorIs(t, err, blob.ErrNotFound, "released once the event completed")
				assert.False(t, slices.ContainsFunc(f.sqs.Messages(deadLetters), func(m sqsfake.Message) bool {
					return m.Attributes[queue.AttrDelivery] == delivery
				}), "not dead-lettered")
				require.NoError(t, q.Delete(ctx, ms[0].ReceiptHandle))
			})
		}
	})

	// The table of docs/benchmarks.md (Lambda bootstraps).
	var b strings.Builder
	fmt.Fprintf(&b, "| function | amd64 MB | init ms | first invoke ms | warm invoke ms |\n")
	for _, name := range functions {
		g := figs[name]
		if g.first == 0 {
			continue // its subtest failed
		}
		g.init = em[name].initDuration(t)
		fmt.Fprintf(&b, "| %s | %s | %.1f | %.1f | %.1f |\n", name, mb(g.size), ms(g.init), ms(g.first), ms(g.warm))
	}
	t.Logf("figures:\n%s", b.String())
}

// sqsEvent is the event the event source mapping delivers for ms.
func (f *fakes) sqsEvent(ms []queue.Message) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range ms {
		rec := lambdaenv.Record(m)
		rec.EventSourceARN, rec.AWSRegion = f.sqs.Queue(eventsQueue).ARN, "us-east-1"
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

// receiveIDs receives from the events queue until it holds the messages
// with ids. Earlier subtests leave messages no function consumes; those
// it receives stay in flight, out of the way.
func receiveIDs(t *testing.T, q *sqsqueue.Queue, ids ...string) []queue.Message {
	t.Helper()
	var out []queue.Message
	for len(out) < len(ids) {
		ms, err := q.Receive(t.Context(), 10, 2*functionTimeout)
		require.NoError(t, err)
		require.NotEmpty(t, ms, "messages %v are not on the queue", ids)
		for _, m := range ms {
			if slices.Contains(ids, m.ID) {
				out = append(out, m)
			}
		}
	}
	return out
}

// webhookRequest is a delivery to the account's webhook URL,
// /webhooks/chatwoot/{account_id}, as API Gateway passes it on.
func webhookRequest(secret string, body []byte, account int64, delivery string) events.APIGatewayV2HTTPRequest {
	req := edgetest.Request(secret, body, time.Now(), delivery)
	id := strconv.FormatInt(account, 10)
	req.RouteKey = "POST /webhooks/chatwoot/{account_id}"
	req.RawPath = "/webhooks/chatwoot/" + id
	req.RequestContext.HTTP.Path = req.RawPath
	req.PathParameters = map[string]string{"account_id": id}
	return req
}

// corpusBody is a body of the Chatwoot corpus, as Chatwoot posts it.
func corpusBody(t *testing.T, file string) chatwoottest.Body {
	t.Helper()
	all, err := chatwoottest.Load(chatwoottest.Dir())
	require.NoError(t, err)
	i := slices.IndexFunc(all, func(b chatwoottest.Body) bool { return b.File == file })
	require.GreaterOrEqual(t, i, 0, "%s is not in the corpus", file)
	return all[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ops lists the operations of calls.
func ops(calls []sqsfake.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Op)
	}
	return out
}
