// Command sweeper is the Lambda EventBridge runs every minute: SLA breaches,
// queue alarms, the spool's drain, reconciliation (compose.Pipeline.Jobs).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/runtime/lambdaenv"
)

func main() {
	ctx := context.Background()
	env := lambdaenv.Must(lambdaenv.Load(ctx))
	lambda.Start(lambdaenv.Must(env.Sweeper(ctx)))
}
