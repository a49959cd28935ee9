// Command processor is the SQS-triggered Lambda: partial batch failures,
// 3 attempts with backoff, then the DLQ. The logic is in internal/pipeline/processor
// and internal/pipeline/stages, assembled by internal/runtime/compose.
package main

import (
	"context"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/ops/metrics"
	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/runtime/lambdaenv"
)

func main() {
	ctx := context.Background()
	env, deps := lambdaenv.MustLoad(ctx)
	if err := env.CheckTeam(ctx, deps.Chatwoot); err != nil {
		log.Fatal(err)
	}
	var err error
	if deps.Tagger, deps.Anger, err = compose.Classifiers(env.Config); err != nil {
		log.Fatal(err)
	}
	lambda.Start(deps.ProcessorHandler(metrics.New(os.Stdout, "processor")))
}
