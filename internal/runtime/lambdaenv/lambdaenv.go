// Package lambdaenv builds the AWS adapters of the Lambda functions from
// their environment (names set by the CDK stack) and reads secrets from
// Secrets Manager once per cold start. Endpoints can be redirected with the
// SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables, which is how the
// runtime-emulator tests point the real binaries at local fakes.
package lambdaenv

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/pipeline/spool"
	"supportpipe/internal/ports/blob/s3blob"
	"supportpipe/internal/ports/queue/sqsqueue"
	"supportpipe/internal/ports/store/dynamostore"
	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/runtime/config"
)

// Env is what every function gets.
type Env struct {
	AWS     aws.Config
	Config  *config.Config
	Log     *slog.Logger
	Store   *dynamostore.Store
	Queue   *sqsqueue.Queue
	Drafts  *sqsqueue.Queue
	Bucket  *s3blob.Bucket
	Spool   *spool.Spool
	Claims  *claim.Check
	Account int64
	Live    bool
}

func need(name string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("environment variable %s is not set", name)
	}
	return v, nil
}

// Load builds the adapters. It fails fast at cold start with a message that
// names what is missing.
func Load(ctx context.Context) (*Env, error) {
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	e := &Env{AWS: awsCfg, Config: cfg, Log: log, Live: os.Getenv("CHATWOOT_LIVE") == "true"}
	var errs []error
	get := func(name string) string {
		v, err := need(name)
		errs = append(errs, err)
		return v
	}
	table, bucket := get("SUPPORT_TABLE"), get("SUPPORT_BUCKET")
	qcfg := sqsqueue.Config{QueueURL: get("SUPPORT_QUEUE_URL"), DLQURL: get("SUPPORT_DLQ_URL"),
		QueueARN: os.Getenv("SUPPORT_QUEUE_ARN"), DLQARN: os.Getenv("SUPPORT_DLQ_ARN")}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if v := os.Getenv("CHATWOOT_ACCOUNT_ID"); v != "" {
		if e.Account, err = strconv.ParseInt(v, 10, 64); err != nil || e.Account <= 0 {
			return nil, errors.New("CHATWOOT_ACCOUNT_ID must be a positive integer")
		}
	}
	sqsClient := sqs.NewFromConfig(awsCfg)
	e.Store = dynamostore.New(dynamodb.NewFromConfig(awsCfg), table)
	e.Queue = sqsqueue.New(sqsClient, qcfg)
	if u := os.Getenv("SUPPORT_DRAFTS_QUEUE_URL"); u != "" {
		e.Drafts = sqsqueue.New(sqsClient, sqsqueue.Config{QueueURL: u})
	}
	e.Bucket = s3blob.New(s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("AWS_S3_USE_PATH_STYLE") == "true"
	}), bucket, s3blob.Options{})
	e.Claims = &claim.Check{Bucket: e.Bucket, Prefix: claim.Prefix}
	e.Spool = spool.New(e.Bucket, spool.Prefix)
	e.Spool.Claims = e.Claims
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

// Chatwoot returns the live client, or the recording mock when
// CHATWOOT_LIVE is not true.
func (e *Env) Chatwoot(ctx context.Context) (rest.Client, error) {
	if !e.Live {
		return rest.NewRecorder(e.Store), nil
	}
	token, err := e.Secret(ctx, "CHATWOOT_API_TOKEN_ARN", "CHATWOOT_API_TOKEN")
	if err != nil {
		return nil, err
	}
	// Each concurrent instance has its own limiter; CHATWOOT_RATE_PER_MINUTE
	// divides Chatwoot's per-IP allowance between them (default: a tenth,
	// for the processor's maximum concurrency of 10).
	rate := 300.0
	if v, err := strconv.ParseFloat(os.Getenv("CHATWOOT_RATE_PER_MINUTE"), 64); err == nil && v > 0 {
		rate = v
	}
	return rest.NewHTTPClient(os.Getenv("CHATWOOT_BASE_URL"), token, rest.Options{RatePerMinute: rate, Burst: 20})
}

// Deps assembles compose.Deps for the processor, API, report and sweeper
// functions. Only the processor classifies text, so it loads the tagger and
// the anger model itself (compose.Classifiers): decoding the model costs ~50 ms
// of cold start the other functions need not pay.
func (e *Env) Deps(ctx context.Context) (*compose.Deps, error) {
	client, err := e.Chatwoot(ctx)
	if err != nil {
		return nil, err
	}
	d := &compose.Deps{Config: e.Config, Store: e.Store, Queue: e.Queue, Claims: e.Claims, Spool: e.Spool, Chatwoot: client, Live: e.Live, Log: e.Log, Now: time.Now}
	if e.Drafts != nil {
		d.Drafts = e.Drafts
	}
	return d, nil
}

// CheckTeam is for the functions that escalate (processor, sweeper): live,
// it refuses an escalation.team_id the Chatwoot account does not have.
func (e *Env) CheckTeam(ctx context.Context, client rest.Client) error {
	if !e.Live {
		return nil
	}
	return e.Config.Escalation.CheckTeam(ctx, client, e.Account, e.Log)
}

// MustLoad is Load and Deps for a function's main: at cold start a missing
// setting ends the process with a message that names it, which is what Lambda
// reports as an init error.
func MustLoad(ctx context.Context) (*Env, *compose.Deps) {
	env, err := Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	deps, err := env.Deps(ctx)
	if err != nil {
		log.Fatal(err)
	}
	return env, deps
}
