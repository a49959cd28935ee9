// Command api is the Lambda behind GET /support/*: health, queue, stats,
// conversation lookups and the dashboard tile (internal/ops/api).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/runtime/lambdaenv"
)

func main() {
	ctx := context.Background()
	env := lambdaenv.Must(lambdaenv.Load(ctx))
	lambda.Start(lambdaenv.Must(env.API(ctx)))
}
