// Command report is the Lambda EventBridge runs at 09:00 UTC: it writes the
// previous UTC day's report to s3://<bucket>/reports/support/<day>.md. An
// event with {"date":"YYYY-MM-DD"} in its detail reports that day instead.
package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"supportpipe/internal/ops/report"
	"supportpipe/internal/runtime/lambdaenv"
)

func main() {
	ctx := context.Background()
	env, deps := lambdaenv.MustLoad(ctx)
	src := report.Source{Store: env.Store, Queue: env.Queue, Policy: deps.Policy(),
		AlertDepth: env.Config.Queue.AlertDepth, EscalateDepth: env.Config.Queue.EscalateDepth}
	lambda.Start(func(ctx context.Context, ev events.EventBridgeEvent) (map[string]string, error) {
		at := ev.Time
		if at.IsZero() {
			at = time.Now()
		}
		day := report.Yesterday(at)
		var detail struct {
			Date string `json:"date"`
		}
		if json.Unmarshal(ev.Detail, &detail) == nil && detail.Date != "" {
			day = detail.Date
		}
		key, err := report.Write(ctx, src, env.Bucket, day)
		if err != nil {
			return nil, err
		}
		env.Log.Info("daily report written", "key", key)
		return map[string]string{"key": key}, nil
	})
}
