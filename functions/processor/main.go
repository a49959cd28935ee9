// Command processor is the SQS-triggered Lambda: partial batch failures, 3
// attempts with backoff, then the DLQ (internal/pipeline/processor and stages).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/runtime/lambdaenv"
)

func main() {
	ctx := context.Background()
	env := lambdaenv.Must(lambdaenv.Load(ctx))
	lambda.Start(lambdaenv.Must(env.Processor(ctx)))
}
