// Command webhook is the Lambda behind POST /webhooks/chatwoot: verify, keep,
// acknowledge (internal/pipeline/edge).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/runtime/lambdaenv"
)

func main() {
	ctx := context.Background()
	env := lambdaenv.Must(lambdaenv.Load(ctx))
	lambda.Start(lambdaenv.Must(env.Webhook(ctx)))
}
