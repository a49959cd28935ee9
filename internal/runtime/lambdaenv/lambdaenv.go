// Package lambdaenv is the Lambda runtime: it reads the settings, builds the
// AWS adapters of the functions from their environment (names set by the
// CDK stack), reads secrets from Secrets Manager once per cold start, and
// turns the composed pipeline's handlers into Lambda's: API Gateway, SQS and
// EventBridge events in, their responses out. Endpoints can be redirected
// with the SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables, which is how
// the runtime-emulator tests point the real binaries at local fakes.
package lambdaenv

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"supportpipe/internal/ports/blob/s3blob"
	"supportpipe/internal/ports/queue/sqsqueue"
	"supportpipe/internal/ports/store/dynamostore"
	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/logging"
)

// chatwootInstances is how many instances call Chatwoot at most at once,
// and share its rate allowance: the processor's and the drafter's event
// source mappings' maximum concurrency, infra/stack's
// ProcessorMaxConcurrency + DrafterMaxConcurrency. Change them together
// (infra/stack's TestChatwootInstancesFollowTheEventSources reads this line).
const chatwootInstances = 10 + 5

// Env is one Lambda instance: its settings and its AWS adapters, before the
// pipeline is assembled for the function it runs.
type Env struct {
	Settings config.Settings
	AWS      aws.Config
	adapters compose.Adapters
	// drafts is the drafts queue and its DLQ, for the drafter; nil when
	// the function is given neither.
	drafts *sqsqueue.Queue
}

// Load reads the settings and builds the adapters. It fails fast at cold
// start with a message that names what is missing.
func Load(ctx context.Context) (*Env, error) {
	s, err := config.ReadSettings(os.Getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	var errs []error
	need := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			errs = append(errs, fmt.Errorf("environment variable %s is not set", name))
		}
		return v
	}
	table, bucket := need("SUPPORT_TABLE"), need("SUPPORT_BUCKET")
	qcfg := sqsqueue.Config{QueueURL: need("SUPPORT_QUEUE_URL"), DLQURL: need("SUPPORT_DLQ_URL"),
		QueueARN: os.Getenv("SUPPORT_QUEUE_ARN"), DLQARN: os.Getenv("SUPPORT_DLQ_ARN")}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sqsClient := sqs.NewFromConfig(awsCfg)
	objects := s3blob.New(s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("AWS_S3_USE_PATH_STYLE") == "true"
	}), bucket, s3blob.Options{})
	e := &Env{Settings: s, AWS: awsCfg, adapters: compose.Adapters{
		Store: dynamostore.New(dynamodb.NewFromConfig(awsCfg), table),
		Queue: sqsqueue.New(sqsClient, qcfg),
		// One bucket; its lifecycle rule expires what the claim check
		// never released.
		Claims: objects, Spool: objects, Reports: objects,
		Log: logging.JSON(os.Stdout, s.LogLevel),
		Now: time.Now,
	}}
	if u := os.Getenv("SUPPORT_DRAFTS_QUEUE_URL"); u != "" {
		e.adapters.Drafts = sqsqueue.New(sqsClient, sqsqueue.Config{QueueURL: u})
		if dlq := os.Getenv("SUPPORT_DRAFTS_DLQ_URL"); dlq != "" {
			e.drafts = sqsqueue.New(sqsClient, sqsqueue.Config{QueueURL: u, DLQURL: dlq})
		}
	}
	return e, nil
}

// Secret returns the value of the secret whose ARN is in env var arnVar,
// or, without an ARN, the plain env var plainVar (local runs and tests).
// Call it at cold start: the value is kept for the life of the instance.
func (e *Env) Secret(ctx context.Context, arnVar, plainVar string) (string, error) {
	arn := os.Getenv(arnVar)
	if arn == "" {
		if v := os.Getenv(plainVar); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("neither %s nor %s is set", arnVar, plainVar)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := secretsmanager.NewFromConfig(e.AWS).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		// The error names the secret's ARN, never its value.
		return "", fmt.Errorf("read secret %s: %w", arnVar, err)
	}
	return strings.TrimSpace(aws.ToString(out.SecretString)), nil
}

// pipeline assembles the pipeline for a function. One that calls Chatwoot
// reads its token when live.
func (e *Env) pipeline(ctx context.Context, chatwoot bool) (*compose.Pipeline, error) {
	a := e.adapters
	if chatwoot {
		token := ""
		if e.Settings.Live {
			var err error
			if token, err = e.Secret(ctx, "CHATWOOT_API_TOKEN_ARN", "CHATWOOT_API_TOKEN"); err != nil {
				return nil, err
			}
		}
		var err error
		if a.Chatwoot, err = compose.Chatwoot(e.Settings, token, a.Store, chatwootInstances); err != nil {
			return nil, err
		}
	}
	return compose.New(e.Settings, a), nil
}

// escalating is pipeline for the functions that escalate (processor,
// sweeper): live, they refuse an escalation.team_id the account lacks.
func (e *Env) escalating(ctx context.Context) (*compose.Pipeline, error) {
	p, err := e.pipeline(ctx, true)
	if err != nil {
		return nil, err
	}
	return p, p.CheckTeam(ctx)
}

// Must ends the process with err's message, which Lambda reports as the
// init error, or returns v: for a function's main, at cold start.
func Must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
