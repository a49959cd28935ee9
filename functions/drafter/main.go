// Command drafter is the drafts queue's Lambda: each draft request becomes a
// suggested reply, posted in Chatwoot as a private note
// (internal/pipeline/drafter, the provider the configuration names).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/runtime/lambdaenv"
	"supportpipe/internal/support/drafting/bedrock"
)

func main() {
	ctx := context.Background()
	env := lambdaenv.Must(lambdaenv.Load(ctx))
	lambda.Start(lambdaenv.Must(env.Drafter(ctx, bedrock.Open)))
}
