package stack

import (
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/pipeline/spool"
	"supportpipe/internal/support/drafting"
)

// Table schema. The DynamoDB store adapter is written against exactly these
// names; change them only together with internal/ports/store's DynamoDB adapter.
const (
	TablePartitionKey = "pk"
	TableSortKey      = "sk"
	GSI1Name          = "gsi1"
	GSI1PartitionKey  = "gsi1pk"
	GSI1SortKey       = "gsi1sk"
	TTLAttribute      = "ttl"
)

// Bucket key prefixes (lifecycle rules and IAM grants are scoped to them).
const (
	SpoolPrefix   = spool.Prefix
	ClaimsPrefix  = claim.Prefix
	ReportsPrefix = "reports/"
)

// Queue tuning.
const (
	// MaxMessageBytes is SQS's 1 MiB maximum. Set explicitly: IaC defaults
	// still say 256 KiB, and the webhook accepts bodies up to 1 MiB.
	MaxMessageBytes = 1048576

	// VisibilityFactor: a queue behind a Lambda event source mapping needs a
	// visibility timeout ≥ the function timeout (validated on create), and
	// AWS recommends 6×: the poller holds a batch while it retries a
	// throttled invoke, and the messages must stay hidden all that time or
	// they are delivered to a second invocation and processed twice.
	VisibilityFactor = 6

	// RedriveMaxReceiveCount is the queue-level crash backstop. The processor
	// counts its own attempts and moves a message to the DLQ after the third
	// (with reason and attempt count). SQS's receive count also grows on
	// receives that never reached the handler (ESM throttling, a crashed or
	// timed-out invocation), so the redrive must sit above 3; AWS recommends
	// ≥ 5 for Lambda consumers.
	RedriveMaxReceiveCount = 5

	// EventsRetentionDays keeps unprocessed events for 4 days (the SQS
	// default); DLQRetentionDays is the SQS maximum, 14 days, and longer than
	// the source retention so a message's age (kept when it moves to a
	// standard DLQ) does not expire it in the DLQ before anyone looks.
	EventsRetentionDays = 4
	DLQRetentionDays    = 14
)

// Bucket lifecycle.
const (
	// ClaimsExpirationDays is the backstop of the claim check: the
	// processor deletes a body once its event is complete, so only the
	// bodies of messages lost in a crash outlive it. Longer than the DLQ's
	// retention, so a dead letter can always be redriven with its body.
	// The spool has no expiry: an acknowledged event leaves it only for the
	// queue or the DLQ.
	ClaimsExpirationDays = int(claim.Retention / (24 * time.Hour))
	// NoncurrentExpirationDays bounds how long overwritten or deleted
	// versions (old reports, drained spool objects, released claims) are kept.
	NoncurrentExpirationDays = 7
	// AccessLogExpirationDays keeps the data bucket's access logs a quarter.
	AccessLogExpirationDays = 90
)

func days(n float64) awscdk.Duration    { return awscdk.Duration_Days(jsii.Number(n)) }
func seconds(n float64) awscdk.Duration { return awscdk.Duration_Seconds(jsii.Number(n)) }
func minutes(n float64) awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(n)) }
func hours(n float64) awscdk.Duration   { return awscdk.Duration_Hours(jsii.Number(n)) }

func (s *SupportStack) addData() {
	// Single table, on demand. PITR and deletion protection because it holds
	// conversation state, idempotency records and the daily counters the
	// reports are built from; RETAIN so deleting the stack never drops it.
	s.Table = awsdynamodb.NewTable(s.Stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String(TablePartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String(TableSortKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection:  jsii.Bool(true),
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		TimeToLiveAttribute: jsii.String(TTLAttribute),
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
	})
	s.Table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(GSI1Name),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(GSI1PartitionKey), Type: awsdynamodb.AttributeType_STRING},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String(GSI1SortKey), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})

	// Reports (reports/support/YYYY-MM-DD.md), the ingress spool (spool/…,
	// raw webhook requests written when SQS is unavailable) and the claim
	// check (claims/…, bodies SQS cannot carry).
	// Server access logs of the data bucket, for audits of who read what.
	// The log bucket cannot log to itself (each write would log another),
	// and S3 delivers access logs only to SSE-S3 buckets.
	accessLogs := awss3.NewBucket(s.Stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_PREFERRED,
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id: jsii.String("expire-access-logs"), Expiration: days(AccessLogExpirationDays),
		}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	suppress(accessLogs, "This is the access-log bucket of the data bucket; logging its own writes would log every log delivery again, without end",
		"AwsSolutions-S1")
	s.Bucket = awss3.NewBucket(s.Stack, jsii.String("Bucket"), &awss3.BucketProps{
		ServerAccessLogsBucket: accessLogs,
		ServerAccessLogsPrefix: jsii.String("bucket/"),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		Versioned:              jsii.Bool(true),
		LifecycleRules: &[]*awss3.LifecycleRule{
			{
				Id:         jsii.String("expire-claims"),
				Prefix:     jsii.String(ClaimsPrefix),
				Expiration: days(float64(ClaimsExpirationDays)),
			},
			{
				Id:                                  jsii.String("trim-old-versions"),
				NoncurrentVersionExpiration:         days(NoncurrentExpirationDays),
				ExpiredObjectDeleteMarker:           jsii.Bool(true),
				AbortIncompleteMultipartUploadAfter: days(1),
			},
		},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	newQueue := s.newQueue
	s.DLQ = newQueue("EventsDlq", &awssqs.QueueProps{RetentionPeriod: days(DLQRetentionDays)})
	s.Queue = newQueue("Events", &awssqs.QueueProps{
		VisibilityTimeout: seconds(VisibilityFactor * ProcessorTimeoutSeconds),
		RetentionPeriod:   days(EventsRetentionDays),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			MaxReceiveCount: jsii.Number(RedriveMaxReceiveCount),
			Queue:           s.DLQ,
		},
	})
	s.DraftsDLQ = newQueue("DraftsDlq", &awssqs.QueueProps{RetentionPeriod: days(DLQRetentionDays)})
	// Scheduled invocations (report, sweeper) that failed after their
	// retries or could not be delivered: Lambda's async DLQ and failure
	// destination, and the EventBridge targets' DLQ.
	s.ScheduledFailures = newQueue("ScheduledFailures", &awssqs.QueueProps{RetentionPeriod: days(DLQRetentionDays)})
	for _, q := range []awssqs.Queue{s.DLQ, s.DraftsDLQ, s.ScheduledFailures} {
		deadLetters(q)
	}
	// The drafts queue feeds the drafter as the events queue feeds the
	// processor: its visibility timeout follows the drafter's timeout,
	// which follows drafting.timeout.
	s.Drafts = newQueue("Drafts", &awssqs.QueueProps{
		VisibilityTimeout: seconds(float64(VisibilityFactor * drafterTimeoutSeconds(s.Config.Support.Drafting.Config))),
		RetentionPeriod:   days(EventsRetentionDays),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			MaxReceiveCount: jsii.Number(RedriveMaxReceiveCount),
			Queue:           s.DraftsDLQ,
		},
	})
}

// newQueue makes a queue the way every queue of the stack is made: SSE with
// SQS-owned keys (no KMS cost or key policy to manage), TLS enforced by queue
// policy, 1 MiB messages everywhere (a DLQ gets the original body plus error
// details, so it needs the same size).
func (s *SupportStack) newQueue(id string, props *awssqs.QueueProps) awssqs.Queue {
	props.Encryption = awssqs.QueueEncryption_SQS_MANAGED
	props.EnforceSSL = jsii.Bool(true)
	props.MaxMessageSizeBytes = jsii.Number(MaxMessageBytes)
	return awssqs.NewQueue(s.Stack, jsii.String(id), props)
}

// deadLetters marks q as a dead-letter queue for the review gate.
func deadLetters(q awssqs.Queue) {
	suppress(q, "A dead-letter queue: what lands here stays for review (supportctl dlq, the runbook) until it expires; there is nowhere further to redrive it",
		"Serverless-SQSRedrivePolicy", "AwsSolutions-SQS3")
}

func (s *SupportStack) addSecrets() {
	// Values are generated so the stack deploys without a secret in the
	// template or the CLI history; operators then put the real values in
	// with `aws secretsmanager put-secret-value`. Punctuation is excluded so
	// a generated value never contains the comma that separates secrets.
	gen := func(n float64) *awssecretsmanager.SecretStringGenerator {
		return &awssecretsmanager.SecretStringGenerator{
			ExcludePunctuation: jsii.Bool(true),
			IncludeSpace:       jsii.Bool(false),
			PasswordLength:     jsii.Number(n),
		}
	}
	s.WebhookSecret = awssecretsmanager.NewSecret(s.Stack, jsii.String("ChatwootWebhookSecret"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Chatwoot webhook signing secret(s), comma-separated; several may be valid at once during rotation. " +
			"Replace with the secret Chatwoot shows for the webhook."),
		GenerateSecretString: gen(48),
	})
	s.ChatwootToken = awssecretsmanager.NewSecret(s.Stack, jsii.String("ChatwootApiToken"), &awssecretsmanager.SecretProps{
		Description:          jsii.String("Chatwoot API access token (admin user). Replace the generated placeholder."),
		GenerateSecretString: gen(32),
	})
	s.APIToken = awssecretsmanager.NewSecret(s.Stack, jsii.String("SupportApiToken"), &awssecretsmanager.SecretProps{
		Description:          jsii.String("Bearer token for GET /support/* (health excepted)."),
		GenerateSecretString: gen(48),
	})
	suppress(s.WebhookSecret, "Chatwoot generates this secret and signs with it; it is rotated in Chatwoot (reset_secret, or a new webhook) and then here, old and new side by side (runbook §5). A rotation function could not change Chatwoot's side",
		"AwsSolutions-SMG4")
	suppress(s.ChatwootToken, "A Chatwoot user's access token: only Chatwoot can issue a new one, so it is rotated by hand in Chatwoot's profile page and here (runbook §5)",
		"AwsSolutions-SMG4")
	suppress(s.APIToken, "Whoever reads /support/* holds this token (the dashboard tile's #token= link), so a scheduled rotation would break them unannounced; it is rotated by hand with both values valid during the change-over (runbook §5)",
		"AwsSolutions-SMG4")
	// The OpenAI-compatible endpoint's key, only when the drafter calls one:
	// no secret, and no permission to read one, for the other providers.
	if s.Config.Support.Drafting.Provider == drafting.OpenAI {
		s.OpenAIKey = awssecretsmanager.NewSecret(s.Stack, jsii.String("OpenAiApiKey"), &awssecretsmanager.SecretProps{
			Description: jsii.String("API key of the OpenAI-compatible endpoint the drafter calls (drafting.openai.base_url). " +
				"Replace the generated placeholder."),
			GenerateSecretString: gen(32),
		})
		suppress(s.OpenAIKey, "The endpoint's vendor issues the key (OpenAI's API keys page, or the operator of a self-hosted endpoint): a rotation function could not make a new one, so it is replaced by hand there and here",
			"AwsSolutions-SMG4")
	}
}
