package stack

import (
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

var wantEnv = []string{
	"SUPPORT_TABLE", "SUPPORT_BUCKET", "SUPPORT_QUEUE_URL", "SUPPORT_DLQ_URL",
	"SUPPORT_QUEUE_ARN", "SUPPORT_DLQ_ARN", "SUPPORT_DRAFTS_QUEUE_URL", "SUPPORT_DRAFTS_DLQ_URL",
	"CHATWOOT_WEBHOOK_SECRET_ARN", "CHATWOOT_API_TOKEN_ARN", "SUPPORT_API_TOKEN_ARN",
	"CHATWOOT_BASE_URL", "CHATWOOT_ACCOUNT_ID", "CHATWOOT_LIVE",
}

func TestFunctionsCommon(t *testing.T) {
	// Exactly our six: no hidden helper functions (log retention, auto-delete…).
	countIs(t, "AWS::Lambda::Function", 6)
	for name, fn := range sup.Functions() {
		t.Run(name, func(t *testing.T) {
			p := props(t, logicalID(fn))
			if p["Runtime"] != "provided.al2023" {
				t.Errorf("Runtime = %v", p["Runtime"])
			}
			if js(p["Architectures"]) != `["arm64"]` {
				t.Errorf("Architectures = %v", p["Architectures"])
			}
			if p["Handler"] != "bootstrap" {
				t.Errorf("Handler = %v", p["Handler"])
			}
			if mem := num(t, p["MemorySize"], "MemorySize"); mem < 128 || mem > 1024 {
				t.Errorf("MemorySize = %v", mem)
			}
			if to := num(t, p["Timeout"], "Timeout"); to <= 0 || to > 300 {
				t.Errorf("Timeout = %v", to)
			}
			vars, _ := p["Environment"].(M)["Variables"].(M)
			for _, k := range wantEnv {
				if _, ok := vars[k]; !ok {
					t.Errorf("environment lacks %s", k)
				}
			}
			// Log retention: the function logs to its own group with a retention.
			lg, _ := p["LoggingConfig"].(M)["LogGroup"].(M)
			id, _ := lg["Ref"].(string)
			if id == "" {
				t.Fatalf("no LoggingConfig.LogGroup: %v", p["LoggingConfig"])
			}
			if r := resource(t, id); r["Type"] != "AWS::Logs::LogGroup" || r["Properties"].(M)["RetentionInDays"] != float64(30) {
				t.Errorf("log group %s: %v", id, r)
			}
			// JSON logs filtered by level: no platform START/END/REPORT lines.
			lc := p["LoggingConfig"].(M)
			if lc["LogFormat"] != "JSON" || lc["SystemLogLevel"] != "WARN" || lc["ApplicationLogLevel"] != "INFO" {
				t.Errorf("LoggingConfig = %v", lc)
			}
		})
	}
}

func TestWebhookMemory(t *testing.T) {
	// The function billed per webhook (docs/cost.md prices 128 MB).
	if mem := num(t, props(t, logicalID(sup.Functions()["webhook"]))["MemorySize"], "MemorySize"); mem != 128 {
		t.Errorf("webhook MemorySize = %v, want 128", mem)
	}
}

func TestFunctionTimeouts(t *testing.T) {
	timeout := func(name string) float64 {
		return num(t, props(t, logicalID(sup.Functions()[name]))["Timeout"], name+" Timeout")
	}
	// Chatwoot gives up after 5 s and never retries.
	if to := timeout("webhook"); to > 4 {
		t.Errorf("webhook timeout %v s > 4 s", to)
	}
	if to := timeout("processor"); to != ProcessorTimeoutSeconds {
		t.Errorf("processor timeout %v s", to)
	}
	// The sweeper runs every minute and must finish before the next tick.
	if to := timeout("sweeper"); to >= 60 {
		t.Errorf("sweeper timeout %v s ≥ its 60 s schedule", to)
	}
	// API Gateway's integration timeout is 30 s.
	if to := timeout("api"); to >= 30 {
		t.Errorf("api timeout %v s", to)
	}
}

func TestFunctionEnvironmentValues(t *testing.T) {
	vars := props(t, logicalID(sup.Webhook))["Environment"].(M)["Variables"].(M)
	want := map[string]string{
		"SUPPORT_TABLE":               js(ref(logicalID(sup.Table))),
		"SUPPORT_BUCKET":              js(ref(logicalID(sup.Bucket))),
		"SUPPORT_QUEUE_URL":           js(ref(logicalID(sup.Queue))),
		"SUPPORT_QUEUE_ARN":           js(arnOf(logicalID(sup.Queue))),
		"SUPPORT_DLQ_URL":             js(ref(logicalID(sup.DLQ))),
		"SUPPORT_DLQ_ARN":             js(arnOf(logicalID(sup.DLQ))),
		"SUPPORT_DRAFTS_QUEUE_URL":    js(ref(logicalID(sup.Drafts))),
		"SUPPORT_DRAFTS_DLQ_URL":      js(ref(logicalID(sup.DraftsDLQ))),
		"CHATWOOT_WEBHOOK_SECRET_ARN": js(ref(logicalID(sup.WebhookSecret))),
		"CHATWOOT_API_TOKEN_ARN":      js(ref(logicalID(sup.ChatwootToken))),
		"SUPPORT_API_TOKEN_ARN":       js(ref(logicalID(sup.APIToken))),
		// From the test context (defaults: TestLoadConfigDefaults).
		"CHATWOOT_BASE_URL":   `"https://chat.example.com"`,
		"CHATWOOT_ACCOUNT_ID": `"42"`,
		"CHATWOOT_LIVE":       `"true"`,
	}
	for k, v := range want {
		if got := js(vars[k]); got != v {
			t.Errorf("%s = %s, want %s", k, got, v)
		}
	}
	// No secret values in the template, only ARNs.
	for k, v := range vars {
		if strings.Contains(k, "SECRET") && !strings.HasSuffix(k, "_ARN") {
			t.Errorf("environment carries a secret value: %s=%v", k, v)
		}
	}
}

func TestProcessorEventSource(t *testing.T) {
	countIs(t, "AWS::Lambda::EventSourceMapping", 2) // the processor's and the drafter's
	hasProps(t, "processor ← events queue", "AWS::Lambda::EventSourceMapping", M{
		"EventSourceArn":                 arnOf(logicalID(sup.Queue)),
		"FunctionName":                   ref(logicalID(sup.Processor)),
		"BatchSize":                      10,
		"FunctionResponseTypes":          A{"ReportBatchItemFailures"},
		"ScalingConfig":                  M{"MaximumConcurrency": 10},
		"MaximumBatchingWindowInSeconds": 1,
	})
}

func TestSchedules(t *testing.T) {
	countIs(t, "AWS::Events::Rule", 2)
	hasProps(t, "daily report rule", "AWS::Events::Rule", M{
		"ScheduleExpression": "cron(0 9 * * ? *)",
		"State":              "ENABLED",
		"Targets":            A{like(M{"Arn": arnOf(logicalID(sup.Report))})},
	})
	hasProps(t, "sweeper rule", "AWS::Events::Rule", M{
		"ScheduleExpression": "rate(1 minute)",
		"State":              "ENABLED",
		"Targets":            A{like(M{"Arn": arnOf(logicalID(sup.Sweeper))})},
	})
	// EventBridge may invoke each scheduled function.
	for name, fn := range map[string]string{"report": logicalID(sup.Report), "sweeper": logicalID(sup.Sweeper)} {
		hasProps(t, name+" invoke permission", "AWS::Lambda::Permission", M{
			"Action":       "lambda:InvokeFunction",
			"FunctionName": arnOf(fn),
			"Principal":    "events.amazonaws.com",
		})
	}
	// The sweeper is not retried asynchronously (the next tick is a minute away).
	hasProps(t, "sweeper async retries", "AWS::Lambda::EventInvokeConfig", M{
		"FunctionName":         ref(logicalID(sup.Sweeper)),
		"MaximumRetryAttempts": 0,
	})
}

// TestTracingAndConcurrency: every function traces actively; the webhook
// has capacity reserved (the default, 50) so nothing else can take it; the
// sweeper runs one at a time.
func TestTracingAndConcurrency(t *testing.T) {
	check(t, "active tracing everywhere", func() {
		tmpl.AllResourcesProperties(jsii.String("AWS::Lambda::Function"), M{"TracingConfig": M{"Mode": "Active"}})
	})
	want := map[string]interface{}{"webhook": float64(DefaultWebhookConcurrency), "sweeper": float64(1)}
	for name, fn := range sup.Functions() {
		if got := props(t, logicalID(fn))["ReservedConcurrentExecutions"]; got != want[name] {
			t.Errorf("%s ReservedConcurrentExecutions = %v, want %v", name, got, want[name])
		}
	}
}

// TestScheduledFailuresAreKept: a scheduled run that fails for good, or
// that EventBridge cannot deliver, lands in the failures queue.
func TestScheduledFailuresAreKept(t *testing.T) {
	failures := arnOf(logicalID(sup.ScheduledFailures))
	for _, fn := range []string{logicalID(sup.Report), logicalID(sup.Sweeper)} {
		hasProps(t, fn+" async DLQ", "AWS::Lambda::Function", M{"DeadLetterConfig": M{"TargetArn": failures}})
		hasProps(t, fn+" failure destination", "AWS::Lambda::EventInvokeConfig", M{
			"FunctionName": ref(fn), "DestinationConfig": M{"OnFailure": M{"Destination": failures}},
		})
		hasProps(t, fn+" target DLQ", "AWS::Events::Rule", M{
			"Targets": A{like(M{"Arn": arnOf(fn), "DeadLetterConfig": M{"Arn": failures}})},
		})
	}
}
