package stack

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
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

	DefaultMemoryMB   = 256
	ProcessorMemoryMB = 512
	// WebhookMemoryMB: the edge verifies an HMAC and makes one SendMessage
	// call; it is the function billed per webhook, so it gets the least.
	WebhookMemoryMB = 128

	// LogRetention for function and access logs. Logs never contain
	// secrets or raw payloads (design invariant 8), a month is enough for
	// incident work.
	LogRetention = awslogs.RetentionDays_ONE_MONTH
)

// EMF metrics contract. The functions write CloudWatch Embedded Metric Format
// records to stdout with this namespace and a single dimension set
// [Service] = MetricsService; alarms and the dashboard read exactly that.
// Metric names are the daily counter names of internal/stats (see
// monitoring.go).
const (
	MetricsNamespace = "SupportPipeline"
	MetricsDimension = "Service"
	MetricsService   = "supportpipe"
)

type functionSpec struct {
	name        string
	description string
	timeout     float64 // seconds
	memory      float64 // MB
	// asyncRetries, when >= 0, sets the retry count of asynchronous
	// (EventBridge) invocations; -1 keeps Lambda's default (2).
	asyncRetries float64
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
		"CHATWOOT_WEBHOOK_SECRET_ARN": s.WebhookSecret.SecretArn(),
		"CHATWOOT_API_TOKEN_ARN":      s.ChatwootToken.SecretArn(),
		"SUPPORT_API_TOKEN_ARN":       s.APIToken.SecretArn(),
		"CHATWOOT_BASE_URL":           jsii.String(c.ChatwootBaseURL),
		"CHATWOOT_ACCOUNT_ID":         jsii.String(c.ChatwootAccountID),
		"CHATWOOT_LIVE":               jsii.String(c.ChatwootLive),
		"SUPPORT_METRICS_NAMESPACE":   jsii.String(MetricsNamespace),
		"SUPPORT_METRICS_SERVICE":     jsii.String(MetricsService),
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
	props := &awslambda.FunctionProps{
		Description:  jsii.String(spec.description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(s.Config.DistDir, spec.name)), nil),
		MemorySize:   jsii.Number(spec.memory),
		Timeout:      seconds(spec.timeout),
		Environment:  &env,
		LogGroup:     logs,
		// JSON format so Lambda filters by level: the platform's START, END
		// and REPORT lines (INFO) stay out, three lines per invocation that
		// would otherwise be a fifth of the log bill (docs/cost.md). Our
		// slog lines carry "level"; EMF lines have none, count as INFO and
		// pass unchanged (Lambda does not re-encode JSON).
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		SystemLogLevelV2:      awslambda.SystemLogLevel_WARN,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel_INFO,
	}
	if spec.asyncRetries >= 0 {
		props.RetryAttempts = jsii.Number(spec.asyncRetries)
	}
	return awslambda.NewFunction(s.Stack, jsii.String(id+"Function"), props)
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
		timeout: WebhookTimeoutSeconds, memory: WebhookMemoryMB, asyncRetries: -1,
	}, env)
	s.Processor = s.newFunction(functionSpec{
		name: "processor", description: "Processes queued Chatwoot events (state, tags, SLA, actions, drafts)",
		timeout: ProcessorTimeoutSeconds, memory: ProcessorMemoryMB, asyncRetries: -1,
	}, env)
	s.Report = s.newFunction(functionSpec{
		name: "report", description: "Writes the daily support report to S3 (09:00 UTC)",
		// A failed report is worth retrying: writing the same day's object
		// again is idempotent.
		timeout: ReportTimeoutSeconds, memory: DefaultMemoryMB, asyncRetries: 2,
	}, env)
	s.API = s.newFunction(functionSpec{
		name: "api", description: "Serves GET /support/* (health, queue, stats, conversations, tile)",
		timeout: APITimeoutSeconds, memory: DefaultMemoryMB, asyncRetries: -1,
	}, env)
	s.Sweeper = s.newFunction(functionSpec{
		name: "sweeper", description: "Every minute: SLA timers, spool re-enqueue, reconciliation",
		// No async retries: the next run is a minute away and a retry would
		// overlap it.
		timeout: SweeperTimeoutSeconds, memory: DefaultMemoryMB, asyncRetries: 0,
	}, env)

	// Processor ← events queue. ReportBatchItemFailures so only failed
	// records return to the queue; MaxConcurrency caps how hard a backlog
	// hits DynamoDB and Chatwoot; a 1 s window gathers small bursts into one
	// batch without adding noticeable latency. The event source grants the
	// consume actions (Receive/Delete/ChangeMessageVisibility/GetQueueAttributes).
	s.Processor.AddEventSource(awslambdaeventsources.NewSqsEventSource(s.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(10),
		MaxBatchingWindow:       seconds(1),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(10),
	}))

	s.grantAccess()
}

// grantAccess gives each function only what it uses, through grant methods
// where they are as narrow as the use, and otherwise through statements
// scoped to the objects and prefixes it touches.
func (s *SupportStack) grantAccess() {
	spool := jsii.String(SpoolPrefix + "*")
	claims := jsii.String(ClaimsPrefix + "*")
	reports := jsii.String(ReportsPrefix + "*")

	// webhook: enqueue; a body SQS cannot carry goes to claims/ first; an
	// authentic payload it cannot use goes to the DLQ for review; spool to
	// S3 when SQS fails; write the daily ingress counters and the
	// last-webhook time. Write-only on the table: it never reads items back.
	s.Queue.GrantSendMessages(s.Webhook)
	s.DLQ.GrantSendMessages(s.Webhook)
	s.Bucket.GrantPut(s.Webhook, spool)
	s.Bucket.GrantPut(s.Webhook, claims)
	s.Table.GrantWriteData(s.Webhook)
	s.WebhookSecret.GrantRead(s.Webhook, nil)

	// processor: consume (event source above) + explicit visibility changes
	// for the 1/2/4 s backoff, move to the DLQ itself after 3 attempts,
	// read and release claim-checked bodies, request AI drafts, keep state
	// in the table, call Chatwoot.
	s.Queue.GrantConsumeMessages(s.Processor)
	s.DLQ.GrantSendMessages(s.Processor)
	s.Drafts.GrantSendMessages(s.Processor)
	s.objects(s.Processor, ClaimsPrefix, "s3:GetObject", "s3:DeleteObject")
	s.Table.GrantReadWriteData(s.Processor)
	s.ChatwootToken.GrantRead(s.Processor, nil)

	// report: read the counters/state, write reports/….
	s.Table.GrantReadData(s.Report)
	s.Bucket.GrantPut(s.Report, reports)

	// api: read state, report queue/DLQ depth and the spool's oldest event
	// in health and /support/queue, check its bearer token and Chatwoot
	// reachability.
	s.Table.GrantReadData(s.API)
	s.Queue.Grant(s.API, jsii.String("sqs:GetQueueAttributes"))
	s.DLQ.Grant(s.API, jsii.String("sqs:GetQueueAttributes"))
	s.list(s.API, SpoolPrefix)
	s.APIToken.GrantRead(s.API, nil)
	s.ChatwootToken.GrantRead(s.API, nil)

	// sweeper: re-enqueue spooled requests (by claim check when SQS cannot
	// carry them) then delete them, record a failed send on its object, give
	// an event the queue keeps refusing to the DLQ, ask the queue whether it
	// is up, advance SLA timers in the table, reconcile against Chatwoot's
	// API.
	s.Queue.GrantSendMessages(s.Sweeper)
	s.Queue.Grant(s.Sweeper, jsii.String("sqs:GetQueueAttributes"))
	s.DLQ.GrantSendMessages(s.Sweeper)
	s.list(s.Sweeper, SpoolPrefix)
	s.objects(s.Sweeper, SpoolPrefix, "s3:GetObject", "s3:PutObject", "s3:DeleteObject")
	s.Bucket.GrantPut(s.Sweeper, claims)
	s.Table.GrantReadWriteData(s.Sweeper)
	s.ChatwootToken.GrantRead(s.Sweeper, nil)
}

// objects lets fn use actions on the bucket's objects under prefix.
func (s *SupportStack) objects(fn awslambda.Function, prefix string, actions ...string) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(*s.Bucket.ArnForObjects(jsii.String(prefix + "*"))),
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
