package stack

import (
	"maps"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"supportpipe/internal/ops/metrics"
	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/providers"
)

// Function sizing. Go on provided.al2023/arm64 starts in ~45 ms and needs
// little memory; 256 MB is plenty except for the processor, which runs up
// to ten records concurrently and benefits from the extra CPU that comes
// with more memory (Lambda allocates CPU in proportion).
const (
	// WebhookTimeoutSeconds: Chatwoot waits 5 s and never retries, so the
	// function must answer (202, or 5xx after queue and spool both failed)
	// inside that budget, including a cold start and API Gateway overhead.
	WebhookTimeoutSeconds = 4
	// ProcessorTimeoutSeconds drives the events queue visibility timeout
	// (VisibilityFactor ×). Retries are scheduled by visibility changes
	// (1 s / 2 s / 4 s), not by sleeping, so 30 s covers a batch of 10 with
	// Chatwoot API calls.
	ProcessorTimeoutSeconds = 30
	// ReportTimeoutSeconds: one run reads a day of counters and
	// conversations and writes one Markdown object.
	ReportTimeoutSeconds = 120
	// APITimeoutSeconds: the health check calls Chatwoot and AWS; stay well
	// under API Gateway's 30 s integration timeout.
	APITimeoutSeconds = 10
	// SweeperTimeoutSeconds < 60 so a run ends before the next
	// rate(1 minute) tick and two sweeps never overlap.
	SweeperTimeoutSeconds = 50

	// The drafter's timeout is drafting.timeout (the model call's bound,
	// 10 s by default) plus DrafterOverheadSeconds: 90 s by default. A
	// batch's DrafterBatchSize requests run at once
	// (compose.DrafterConcurrency), so a batch takes as long as its
	// slowest request, which at worst spends
	//   - the model call, then DrafterFallbackSeconds for the retrieval
	//     fallback and the read of Chatwoot's canned responses (compose's
	//     fallbackAllowance: the provider's own bound is drafting.timeout
	//     plus that);
	//   - two Chatwoot calls, the history read and the note, each
	//     ChatwootCallSeconds at worst;
	//   - the store's and the queue's calls, milliseconds each, with the
	//     SDK's retries: a few seconds.
	// Chatwoot asking to wait (Retry-After, up to 30 s a time) can take a
	// request past it: the invocation then times out and its batch comes
	// back after the visibility timeout, the requests that finished
	// recorded as done.
	DrafterFallbackSeconds = 10
	// ChatwootCallSeconds is one REST call at worst with the client's
	// defaults (internal/chatwoot/rest): rest.DefaultMaxAttempts (3)
	// attempts of rest.DefaultTimeout (10 s) and the backoff between them
	// (1 s, 2 s). TestDrafterTimeoutBudget keeps it in step.
	ChatwootCallSeconds    = 3*10 + 1 + 2
	DrafterOverheadSeconds = DrafterFallbackSeconds + 2*ChatwootCallSeconds + 4 // 4 s: the store and the queue
	// LambdaMaxTimeoutSeconds is Lambda's limit: a drafting.timeout that
	// would take the drafter past it fails the synth.
	LambdaMaxTimeoutSeconds = 900

	DefaultMemoryMB   = 256
	ProcessorMemoryMB = 512
	// DrafterMemoryMB: the drafter waits on the network (a model, Chatwoot)
	// and keeps the canned responses' index in memory, which is small.
	DrafterMemoryMB = 256
	// WebhookMemoryMB: the edge verifies an HMAC and makes one SendMessage
	// call; it is the function billed per webhook, so it gets the least.
	WebhookMemoryMB = 128

	// LogRetention for function and access logs. Logs never contain
	// secrets or raw payloads (design invariant 8), a month is enough for
	// incident work.
	LogRetention = awslogs.RetentionDays_ONE_MONTH
)

// Event source mappings. The maximum concurrencies are the instances that
// may call Chatwoot at once: lambdaenv's chatwootInstances is their sum
// (ProcessorMaxConcurrency + DrafterMaxConcurrency) and gives each instance
// its share of Chatwoot's rate, so change them together
// (TestChatwootInstancesFollowTheEventSources checks it).
const (
	// ProcessorBatchSize and ProcessorMaxConcurrency: only failed records
	// return to the queue, and the concurrency caps how hard a backlog
	// hits DynamoDB and Chatwoot.
	ProcessorBatchSize      = 10
	ProcessorMaxConcurrency = 10
	// DrafterBatchSize is compose.DrafterConcurrency, so a batch's requests
	// all run at once and the function's timeout is one request's.
	DrafterBatchSize = 5
	// DrafterMaxConcurrency: a backlog of drafts is worked off by 5
	// instances, 25 requests at once, which keeps the model's and
	// Chatwoot's load bounded. A suggestion that comes late is worth less,
	// and the age alarm says when they do.
	DrafterMaxConcurrency = 5
)

// EMF metrics contract: the functions write CloudWatch Embedded Metric Format
// records with internal/ops/metrics' namespace and its single dimension set
// [Service] = metrics.Service; alarms and the dashboard read exactly that.
// Metric names are the daily counter names of internal/ops/stats (see
// monitoring.go).
const (
	MetricsNamespace = metrics.Namespace
	MetricsDimension = "Service"
	MetricsService   = metrics.Service
)

type functionSpec struct {
	name        string
	description string
	timeout     float64 // seconds
	memory      float64 // MB
	// concurrency, when > 0, reserves that many concurrent executions.
	concurrency float64
	// scheduled functions are invoked asynchronously by EventBridge, with
	// asyncRetries retries within maxEventAge seconds; the others are
	// invoked synchronously, by invokedBy.
	scheduled    bool
	asyncRetries float64
	maxEventAge  float64
	invokedBy    string
	// code is the folder of the function's code; <dist>/<name> when "".
	code string
}

// commonEnvironment names every resource for every function, so one config
// loader serves all of them. Names and ARNs are not privileges: IAM below
// decides what each function may actually touch.
func (s *SupportStack) commonEnvironment() map[string]*string {
	c := s.Config
	env := map[string]*string{
		"SUPPORT_TABLE":               s.Table.TableName(),
		"SUPPORT_BUCKET":              s.Bucket.BucketName(),
		"SUPPORT_QUEUE_URL":           s.Queue.QueueUrl(),
		"SUPPORT_QUEUE_ARN":           s.Queue.QueueArn(),
		"SUPPORT_DLQ_URL":             s.DLQ.QueueUrl(),
		"SUPPORT_DLQ_ARN":             s.DLQ.QueueArn(),
		"SUPPORT_DRAFTS_QUEUE_URL":    s.Drafts.QueueUrl(),
		"SUPPORT_DRAFTS_DLQ_URL":      s.DraftsDLQ.QueueUrl(),
		"CHATWOOT_WEBHOOK_SECRET_ARN": s.WebhookSecret.SecretArn(),
		"CHATWOOT_API_TOKEN_ARN":      s.ChatwootToken.SecretArn(),
		"SUPPORT_API_TOKEN_ARN":       s.APIToken.SecretArn(),
		"CHATWOOT_BASE_URL":           jsii.String(c.ChatwootBaseURL),
		"CHATWOOT_ACCOUNT_ID":         jsii.String(c.ChatwootAccountID),
		"CHATWOOT_LIVE":               jsii.String(c.ChatwootLive),
	}
	if c.SupportConfig != "" {
		env["SUPPORT_CONFIG_YAML"] = jsii.String(c.SupportConfig)
	}
	return env
}

func (s *SupportStack) newFunction(spec functionSpec, env map[string]*string) awslambda.Function {
	id := constructID(spec.name)
	logs := awslogs.NewLogGroup(s.Stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention: LogRetention,
	})
	// Its own role, writing to its own log group only: the managed
	// AWSLambdaBasicExecutionRole would let it create and write any log
	// group in the account.
	role := awsiam.NewRole(s.Stack, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Execution role of the " + spec.name + " function"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*logs.LogGroupArn()),
	}))
	code := spec.code
	if code == "" {
		code = filepath.Join(s.Config.DistDir, spec.name)
	}
	props := &awslambda.FunctionProps{
		Description:  jsii.String(spec.description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(code), nil),
		MemorySize:   jsii.Number(spec.memory),
		Timeout:      seconds(spec.timeout),
		Environment:  &env,
		LogGroup:     logs,
		Role:         role,
		// Active tracing: every invocation's timeline (init, handler, the
		// SDK's calls as the function's own time) in X-Ray, sampled.
		Tracing: awslambda.Tracing_ACTIVE,
		// JSON format so Lambda filters by level: the platform's START, END
		// and REPORT lines (INFO) stay out, three lines per invocation that
		// would otherwise be a fifth of the log bill (docs/cost.md). Our
		// slog lines carry "level"; EMF lines have none, count as INFO and
		// pass unchanged (Lambda does not re-encode JSON).
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		SystemLogLevelV2:      awslambda.SystemLogLevel_WARN,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel_INFO,
	}
	if spec.concurrency > 0 {
		props.ReservedConcurrentExecutions = jsii.Number(spec.concurrency)
	}
	if spec.scheduled {
		// EventBridge invokes asynchronously: an invocation that fails
		// after its retries, or that is throttled past its maximum age,
		// lands in the failures queue, and its alarm says so.
		props.RetryAttempts = jsii.Number(spec.asyncRetries)
		props.MaxEventAge = seconds(spec.maxEventAge)
		props.DeadLetterQueue = s.ScheduledFailures
		props.OnFailure = awslambdadestinations.NewSqsDestination(s.ScheduledFailures)
	}
	fn := awslambda.NewFunction(s.Stack, jsii.String(id+"Function"), props)
	suppressFinding(role, "X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions; the statement holds those two actions only",
		"AwsSolutions-IAM5", `/^Resource::\*$/`)
	if !spec.scheduled {
		suppress(fn, "Invoked synchronously ("+spec.invokedBy+"): the caller gets the error, and an asynchronous DLQ or failure destination would never be used",
			"Serverless-LambdaDLQ")
	}
	return fn
}

// constructID turns a function name ("webhook") into a construct id prefix ("Webhook").
func constructID(name string) string {
	if name == "" {
		return name
	}
	b := []byte(name)
	if b[0] >= 'a' && b[0] <= 'z' {
		b[0] -= 'a' - 'A'
	}
	return string(b)
}

func (s *SupportStack) addFunctions() {
	env := s.commonEnvironment()
	s.Webhook = s.newFunction(functionSpec{
		name: "webhook", description: "Verifies Chatwoot webhooks and enqueues them (spool fallback)",
		timeout: WebhookTimeoutSeconds, memory: WebhookMemoryMB, invokedBy: "API Gateway",
		// Reserved so that no other function's burst, nor the account's
		// other workloads, can take the capacity a webhook needs: Chatwoot
		// never retries a throttled delivery.
		concurrency: float64(s.Config.WebhookConcurrency),
	}, env)
	s.Processor = s.newFunction(functionSpec{
		name: "processor", description: "Processes queued Chatwoot events (state, tags, SLA, actions, drafts)",
		timeout: ProcessorTimeoutSeconds, memory: ProcessorMemoryMB, invokedBy: "the SQS event source mapping",
	}, env)
	// The drafter alone gets the OpenAI-compatible endpoint's key, when that
	// is the provider.
	drafterEnv := maps.Clone(env)
	if s.OpenAIKey != nil {
		drafterEnv[providers.OpenAIKeyARNEnv] = s.OpenAIKey.SecretArn()
	}
	s.Drafter = s.newFunction(functionSpec{
		name: "drafter", description: "Drafts suggested replies for the drafts queue's requests, posted in Chatwoot as private notes",
		timeout: float64(drafterTimeoutSeconds(s.Config.Support.Drafting.Config)), memory: DrafterMemoryMB,
		invokedBy: "the SQS event source mapping", code: s.drafterCode(),
	}, drafterEnv)
	s.Report = s.newFunction(functionSpec{
		name: "report", description: "Writes the daily support report to S3 (09:00 UTC)",
		// A failed report is worth retrying: writing the same day's object
		// again is idempotent.
		timeout: ReportTimeoutSeconds, memory: DefaultMemoryMB, scheduled: true, asyncRetries: 2, maxEventAge: 2 * 60 * 60,
	}, env)
	s.API = s.newFunction(functionSpec{
		name: "api", description: "Serves GET /support/* (health, queue, stats, conversations, tile)",
		timeout: APITimeoutSeconds, memory: DefaultMemoryMB, invokedBy: "API Gateway",
	}, env)
	s.Sweeper = s.newFunction(functionSpec{
		name: "sweeper", description: "Every minute: SLA timers, spool re-enqueue, reconciliation",
		// One at a time: EventBridge delivers at least once, and two
		// sweeps at once would drain the spool and reconcile side by side.
		// No retries: the next run is a minute away and does the same work.
		timeout: SweeperTimeoutSeconds, memory: DefaultMemoryMB, concurrency: 1, scheduled: true, asyncRetries: 0, maxEventAge: 60,
	}, env)

	// Processor ← events queue. ReportBatchItemFailures so only failed
	// records return to the queue; MaxConcurrency caps how hard a backlog
	// hits DynamoDB and Chatwoot; a 1 s window gathers small bursts into one
	// batch without adding noticeable latency. The event source grants the
	// consume actions (Receive/Delete/ChangeMessageVisibility/GetQueueAttributes).
	s.Processor.AddEventSource(awslambdaeventsources.NewSqsEventSource(s.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(ProcessorBatchSize),
		MaxBatchingWindow:       seconds(1),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(ProcessorMaxConcurrency),
	}))
	suppress(s.Processor, "SQS event source mappings take no failure destination: a record that keeps failing is moved by the processor to the events DLQ after 3 attempts, and the queue's redrive policy catches the rest",
		"Serverless-LambdaEventSourceMappingDestination")
	// Drafter ← drafts queue. No batching window: a suggestion is wanted
	// while the customer waits, and a request should not wait for others.
	// Only failed records return; the drafter applies the retry policy
	// itself (attempts counted in the store, visibility backoff, then the
	// drafts DLQ with the reason).
	s.Drafter.AddEventSource(awslambdaeventsources.NewSqsEventSource(s.Drafts, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(DrafterBatchSize),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(DrafterMaxConcurrency),
	}))
	suppress(s.Drafter, "SQS event source mappings take no failure destination: a request that keeps failing is moved by the drafter to the drafts DLQ after 3 attempts, and the queue's redrive policy catches the rest",
		"Serverless-LambdaEventSourceMappingDestination")

	s.grantAccess()
}

// grantAccess gives each function only what it uses, through grant methods
// where they are as narrow as the use, and otherwise through statements
// scoped to the objects and prefixes it touches.
func (s *SupportStack) grantAccess() {
	// webhook: enqueue; a body SQS cannot carry goes to claims/ first; an
	// authentic payload it cannot use goes to the DLQ for review; spool to
	// S3 when SQS fails; write the daily ingress counters, the
	// last-webhook time and the delivery log's entries of the webhooks it
	// does not queue. Write-only on the table: it never reads items back.
	s.Queue.GrantSendMessages(s.Webhook)
	s.DLQ.GrantSendMessages(s.Webhook)
	s.objects(s.Webhook, SpoolPrefix, "s3:PutObject")
	s.objects(s.Webhook, ClaimsPrefix, "s3:PutObject")
	s.counters(s.Webhook)
	s.deliveryLog(s.Webhook)
	s.WebhookSecret.GrantRead(s.Webhook, nil)

	// processor: consume (event source above) + explicit visibility changes
	// for the 1/2/4 s backoff, move to the DLQ itself after 3 attempts,
	// read and release claim-checked bodies, request AI drafts, keep state
	// in the table, call Chatwoot.
	s.Queue.GrantConsumeMessages(s.Processor)
	s.DLQ.GrantSendMessages(s.Processor)
	s.Drafts.GrantSendMessages(s.Processor)
	s.objects(s.Processor, ClaimsPrefix, "s3:GetObject", "s3:DeleteObject")
	s.table(s.Processor, tableRead, tableWrite)
	s.ChatwootToken.GrantRead(s.Processor, nil)

	// drafter: consume the drafts queue (event source above) + explicit
	// visibility changes for the retry backoff, move a request to the
	// drafts DLQ itself after 3 attempts (or at once when it does not
	// decode), keep its outcomes, attempts and counters in the table, read
	// the conversation there, call Chatwoot (history, canned responses, the
	// note); and the model of the configured provider, nothing otherwise.
	s.Drafts.GrantConsumeMessages(s.Drafter)
	s.DraftsDLQ.GrantSendMessages(s.Drafter)
	s.table(s.Drafter, tableRead, tableWrite)
	s.ChatwootToken.GrantRead(s.Drafter, nil)
	switch d := s.Config.Support.Drafting.Config; d.Provider {
	case drafting.Bedrock:
		s.grantBedrock(s.Drafter, d.Bedrock)
	case drafting.OpenAI:
		s.OpenAIKey.GrantRead(s.Drafter, nil)
	}

	// report: read the counters/state, write reports/….
	s.table(s.Report, tableRead)
	s.objects(s.Report, ReportsPrefix, "s3:PutObject")

	// api: read state, report queue/DLQ depth and the spool's oldest event
	// in health and /support/queue, check its bearer token and Chatwoot
	// reachability.
	s.table(s.API, tableRead)
	s.Queue.Grant(s.API, jsii.String("sqs:GetQueueAttributes"))
	s.DLQ.Grant(s.API, jsii.String("sqs:GetQueueAttributes"))
	s.list(s.API, SpoolPrefix)
	s.APIToken.GrantRead(s.API, nil)
	s.ChatwootToken.GrantRead(s.API, nil)

	// sweeper: re-enqueue spooled requests (by claim check when SQS cannot
	// carry them) then delete them, record a failed send on its object, give
	// an event the queue keeps refusing to the DLQ, read both queues' depths
	// (is the queue up; the queue alarms the report lists), advance SLA
	// timers in the table, reconcile against Chatwoot's API.
	s.Queue.GrantSendMessages(s.Sweeper)
	s.Queue.Grant(s.Sweeper, jsii.String("sqs:GetQueueAttributes"))
	s.DLQ.Grant(s.Sweeper, jsii.String("sqs:GetQueueAttributes"))
	s.DLQ.GrantSendMessages(s.Sweeper)
	s.list(s.Sweeper, SpoolPrefix)
	s.objects(s.Sweeper, SpoolPrefix, "s3:GetObject", "s3:PutObject", "s3:DeleteObject")
	s.objects(s.Sweeper, ClaimsPrefix, "s3:PutObject")
	s.table(s.Sweeper, tableRead, tableWrite)
	s.ChatwootToken.GrantRead(s.Sweeper, nil)
}

// objects lets fn use actions on the bucket's objects under prefix. Keys
// under a prefix are made at run time (a day and an id), so the prefix is
// the narrowest resource there is.
func (s *SupportStack) objects(fn awslambda.Function, prefix string, actions ...string) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(*s.Bucket.ArnForObjects(jsii.String(prefix + "*"))),
	}))
	suppressFinding(fn.Role(), "Object keys under "+prefix+" are made at run time (a day and an id); the key prefix is the narrowest resource there is",
		"AwsSolutions-IAM5", `/^Resource::<Bucket[0-9A-F]+\.Arn>\/`+strings.TrimSuffix(prefix, "/")+`\/\*$/`)
}

// The DynamoDB actions of the store driver (internal/ports/store/dynamostore):
// reads, and writes, which include the items of its transactions. No
// function deletes, scans or batch-writes.
var (
	tableRead  = []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
	tableWrite = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
)

// table lets fn use actions on the table and its one index, by exact ARN.
func (s *SupportStack) table(fn awslambda.Function, actions ...[]string) {
	var all []string
	for _, a := range actions {
		all = append(all, a...)
	}
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(all...),
		Resources: jsii.Strings(*s.Table.TableArn(), *s.Table.TableArn()+"/index/"+GSI1Name),
	}))
}

// counters lets the internet-facing webhook function do the one write it
// makes: update its daily counters and marks (items COUNTERS#<day> and
// MARK#<name>). It reads nothing and can delete nothing.
func (s *SupportStack) counters(fn awslambda.Function) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:UpdateItem"),
		Resources: jsii.Strings(*s.Table.TableArn()),
		Conditions: &map[string]interface{}{
			"ForAllValues:StringLike": map[string]interface{}{"dynamodb:LeadingKeys": []string{"COUNTERS#*", "MARK#*"}},
		},
	}))
}

// list lets fn list the bucket's keys under prefix, and no others.
func (s *SupportStack) list(fn awslambda.Function, prefix string) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("s3:ListBucket"),
		Resources:  jsii.Strings(*s.Bucket.BucketArn()),
		Conditions: &map[string]interface{}{"StringLike": map[string]interface{}{"s3:prefix": []string{prefix + "*"}}},
	}))
}
