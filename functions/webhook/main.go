// Command webhook is the Lambda behind POST /webhooks/chatwoot: verify,
// enqueue (or spool), acknowledge. The logic is in internal/pipeline/edge.
package main

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/ops/metrics"
	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/runtime/lambdaenv"
)

func main() {
	ctx := context.Background()
	env, err := lambdaenv.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// Not MustLoad: the edge neither calls Chatwoot nor may read its token.
	deps := &compose.Deps{Config: env.Config, Store: env.Store, Claims: env.Claims, Log: env.Log, Now: time.Now}
	secret, err := env.Secret(ctx, "CHATWOOT_WEBHOOK_SECRET_ARN", "CHATWOOT_WEBHOOK_SECRET")
	if err != nil {
		log.Fatal(err)
	}
	secrets, err := chatwoot.ParseSecrets(secret)
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(deps.Webhook(compose.WebhookOptions{
		Verifier: chatwoot.NewVerifier(secrets, chatwoot.DefaultTolerance),
		Queue:    env.Queue, Spool: env.Spool, Account: env.Account,
		Metrics: metrics.New(os.Stdout, "webhook"),
	}))
}
