// Command report is the Lambda EventBridge runs at 09:00 UTC: the previous UTC
// day's report to s3://<bucket>/reports/support/<day>.md (internal/ops/report).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/runtime/lambdaenv"
)

func main() {
	ctx := context.Background()
	env := lambdaenv.Must(lambdaenv.Load(ctx))
	lambda.Start(lambdaenv.Must(env.Report(ctx)))
}
