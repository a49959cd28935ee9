// Command api is the Lambda behind GET /support/*: health (cached per
// instance), queue, stats, conversation lookups and the dashboard tile.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/runtime/lambdaenv"
)

func main() {
	ctx := context.Background()
	env, deps := lambdaenv.MustLoad(ctx)
	token, err := env.Secret(ctx, "SUPPORT_API_TOKEN_ARN", "SUPPORT_API_TOKEN")
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(deps.API(token, deps.Health()).Handle)
}
