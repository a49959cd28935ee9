// Package stack defines SupportStack, the AWS deployment of the Chatwoot
// support pipeline: an HTTP API in front of the webhook and read API Lambdas,
// an SQS queue (with DLQ) feeding the processor, a drafts queue (with DLQ)
// feeding the drafter, a single DynamoDB table, an S3 bucket for reports and
// the ingress spool, scheduled report and sweeper functions, and the alarms,
// topics and dashboard that watch it all.
//
// The stack is environment-agnostic (no account/region), so it synthesizes
// without AWS credentials. Lambda code comes from prebuilt bootstraps, see
// CheckBootstraps.
package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StackName is the CloudFormation stack name (and construct id) used by the app.
const StackName = "SupportStack"

// Props configures SupportStack.
type Props struct {
	awscdk.StackProps
	// DistDir, when non-empty, is the folder holding <name>/bootstrap and
	// takes precedence over the distDir context key and DIST_DIR.
	DistDir string
}

// SupportStack exposes the constructs so tests (and future stacks) can refer
// to them without string lookups.
type SupportStack struct {
	awscdk.Stack
	Config Config

	Table  awsdynamodb.Table
	Bucket awss3.Bucket

	Queue     awssqs.Queue // "events": webhook → processor
	DLQ       awssqs.Queue
	Drafts    awssqs.Queue // draft requests: processor → drafter
	DraftsDLQ awssqs.Queue
	// ScheduledFailures holds scheduled invocations that failed for good.
	ScheduledFailures awssqs.Queue

	WebhookSecret awssecretsmanager.Secret
	ChatwootToken awssecretsmanager.Secret
	APIToken      awssecretsmanager.Secret
	// OpenAIKey is the OpenAI-compatible endpoint's key, made only when
	// the drafting provider is openai; nil otherwise.
	OpenAIKey awssecretsmanager.Secret

	Webhook   awslambda.Function
	Processor awslambda.Function
	Drafter   awslambda.Function
	Report    awslambda.Function
	API       awslambda.Function
	Sweeper   awslambda.Function

	HTTPAPI    awsapigatewayv2.HttpApi
	Stage      awsapigatewayv2.HttpStage
	AccessLogs awslogs.LogGroup

	TopicKey    awskms.Key
	Alerts      awssns.Topic
	Escalations awssns.Topic
	Alarms      map[string]awscloudwatch.Alarm
	Dashboard   awscloudwatch.Dashboard
}

// Functions returns the six functions by name (the names in FunctionNames).
func (s *SupportStack) Functions() map[string]awslambda.Function {
	return map[string]awslambda.Function{
		"webhook":   s.Webhook,
		"processor": s.Processor,
		"drafter":   s.Drafter,
		"report":    s.Report,
		"api":       s.API,
		"sweeper":   s.Sweeper,
	}
}

// NewSupportStack builds the stack. It panics with LoadConfig's or
// CheckBootstraps' message when the context is wrong or a bootstrap is
// missing (the app's main checks both first and exits cleanly with one line;
// the panic is the backstop for other callers).
func NewSupportStack(scope constructs.Construct, id string, props *Props) *SupportStack {
	var sprops awscdk.StackProps
	if props != nil {
		sprops = props.StackProps
	}
	if sprops.Description == nil {
		sprops.Description = jsii.String("Chatwoot support pipeline: webhook ingest, SQS processing, DynamoDB state, reports and alarms")
	}
	s := &SupportStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sprops)}
	awscdk.Tags_Of(s.Stack).Add(jsii.String("project"), jsii.String("supportpipe"), nil)

	var err error
	if s.Config, err = LoadConfig(s.Node()); err != nil {
		panic(fmt.Sprintf("SupportStack: %v", err))
	}
	if props != nil && props.DistDir != "" {
		s.Config.DistDir = props.DistDir
	}
	if err := CheckBootstraps(s.Config.DistDir); err != nil {
		panic(fmt.Sprintf("SupportStack: %v", err))
	}

	s.addData()
	s.addSecrets()
	s.addFunctions()
	s.addHTTPAPI()
	s.addSchedules()
	s.addMonitoring()
	s.addOutputs()
	return s
}

// addOutputs publishes what operators and the CLI need (supportctl against
// AWS reads resource names from these outputs).
func (s *SupportStack) addOutputs() {
	out := func(id string, value *string, desc string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{
			Value:       value,
			Description: jsii.String(desc),
		})
	}
	// Stage URLs end with "/".
	out("WebhookUrl", jsii.String(*s.Stage.Url()+"webhooks/chatwoot"),
		"Chatwoot webhook URL (optionally append /{account_id})")
	out("ApiUrl", jsii.String(*s.Stage.Url()+"support/"), "Base URL of the /support/* read API")
	out("BucketName", s.Bucket.BucketName(), "S3 bucket for reports/ and the ingress spool/")
	out("TableName", s.Table.TableName(), "DynamoDB table")
	out("QueueUrl", s.Queue.QueueUrl(), "Main events queue URL")
	out("DlqUrl", s.DLQ.QueueUrl(), "Dead-letter queue URL of the events queue")
	out("DraftsQueueUrl", s.Drafts.QueueUrl(), "Queue of draft requests (processor → drafter)")
	out("DraftsDlqUrl", s.DraftsDLQ.QueueUrl(), "Dead-letter queue of the drafts queue (requests the drafter gave up on, with the reason)")
	out("AlertsTopicArn", s.Alerts.TopicArn(), "SNS topic for operational alerts")
	out("EscalationsTopicArn", s.Escalations.TopicArn(), "SNS topic for escalations (queue depth > 100)")
}
