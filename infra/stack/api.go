package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
)

// HTTP API routes (same paths as the local server, docs/design.md §5).
const (
	WebhookPath        = "/webhooks/chatwoot"
	WebhookAccountPath = "/webhooks/chatwoot/{account_id}"
	SupportPath        = "/support/{proxy+}"
)

// Stage throttling: the limit of the /support/* read routes. A dashboard
// and a few people reading it need a handful of requests a second; a
// low limit keeps a flood of forged requests from running up Lambda
// concurrency. The webhook routes have their own, far higher limits
// (Config.WebhookRateLimit and WebhookBurstLimit).
const (
	ThrottleRateLimit  = 50
	ThrottleBurstLimit = 100
)

// accessLogFormat is a JSON line per request: enough to trace a delivery
// (request id, route, status, latency) without headers, query strings or
// bodies, which may carry tokens or customer data; the time is the log
// event's own. It is the one log line an accepted webhook costs, so it
// stays short: docs/cost.md prices it as awscost.AccessLogExample, which
// has the same keys.
const accessLogFormat = `{"requestId":"$context.requestId",` +
	`"route":"$context.routeKey","status":"$context.status","latencyMs":"$context.responseLatency",` +
	`"error":"$context.integrationErrorMessage"}`

func (s *SupportStack) addHTTPAPI() {
	s.HTTPAPI = awsapigatewayv2.NewHttpApi(s.Stack, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description: jsii.String("Chatwoot webhooks and the /support read API"),
		// The default stage is created below so it can carry throttling and
		// access logging.
		CreateDefaultStage: jsii.Bool(false),
	})
	s.Stage = awsapigatewayv2.NewHttpStage(s.Stack, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    s.HTTPAPI,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(ThrottleRateLimit),
			BurstLimit: jsii.Number(ThrottleBurstLimit),
		},
	})
	// The L2 stage wants an IAccessLogSettings implementation; setting the
	// CloudFormation property directly is simpler from Go. HTTP APIs log
	// through a service-linked role, no account-level role is needed.
	accessLogs := awslogs.NewLogGroup(s.Stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention: LogRetention,
	})
	cfnStage := s.Stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(accessLogFormat),
	})
	// Chatwoot never retries: a webhook throttled here is lost. Its routes
	// get limits well above any burst Chatwoot sends, so they are never the
	// first thing to break (the runbook says how to raise them).
	routes := map[string]interface{}{}
	for _, path := range []string{WebhookPath, WebhookAccountPath} {
		for _, method := range []string{"POST", "ANY"} {
			// A plain map: the property is free-form JSON in the
			// CloudFormation schema, and a typed struct would be written
			// with camelCase keys that API Gateway ignores.
			routes[method+" "+path] = map[string]interface{}{
				"ThrottlingRateLimit":  s.Config.WebhookRateLimit,
				"ThrottlingBurstLimit": s.Config.WebhookBurstLimit,
			}
		}
	}
	cfnStage.SetRouteSettings(routes)
	s.AccessLogs = accessLogs

	webhook := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("WebhookIntegration"), s.Webhook, nil)
	api := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("SupportApiIntegration"), s.API, nil)
	for _, path := range []string{WebhookPath, WebhookAccountPath} {
		s.HTTPAPI.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_POST},
			Integration: webhook,
		})
		// Other methods also reach the webhook function, which answers 405
		// with an Allow header as the contract says; without this route API
		// Gateway would answer 404.
		s.HTTPAPI.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_ANY},
			Integration: webhook,
		})
	}
	s.HTTPAPI.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String(SupportPath),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
		Integration: api,
	})
	for _, r := range *s.HTTPAPI.Node().Children() {
		route, ok := r.(awsapigatewayv2.HttpRoute)
		if !ok {
			continue
		}
		if strings.Contains(*route.Node().Id(), "support") {
			suppress(route, "The read API checks a bearer token in the function (constant-time, against Secrets Manager); /support/health and the tile page are public by design (design §5), and an authorizer would add a second invocation per request",
				"AwsSolutions-APIG4")
			continue
		}
		suppress(route, "Chatwoot cannot send IAM or JWT credentials; every webhook is authenticated in the function by its HMAC-SHA256 signature over the raw body and timestamp, before anything is kept",
			"AwsSolutions-APIG4")
	}
}

// Schedules (UTC).
const (
	ReportSchedule  = "cron(0 9 * * ? *)"
	SweeperSchedule = "rate(1 minute)"
)

func (s *SupportStack) addSchedules() {
	awsevents.NewRule(s.Stack, jsii.String("DailyReportSchedule"), &awsevents.RuleProps{
		Description: jsii.String("Daily support report at 09:00 UTC"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(ReportSchedule)),
		Targets: &[]awsevents.IRuleTarget{
			awseventstargets.NewLambdaFunction(s.Report, &awseventstargets.LambdaFunctionProps{
				RetryAttempts:   jsii.Number(2),
				MaxEventAge:     hours(2),
				DeadLetterQueue: s.ScheduledFailures,
			}),
		},
	})
	awsevents.NewRule(s.Stack, jsii.String("SweeperSchedule"), &awsevents.RuleProps{
		Description: jsii.String("Sweeper every minute: SLA timers, spool re-enqueue, reconciliation"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(SweeperSchedule)),
		Targets: &[]awsevents.IRuleTarget{
			// A tick that cannot be delivered is skipped; the next one comes
			// a minute later and does the same work.
			awseventstargets.NewLambdaFunction(s.Sweeper, &awseventstargets.LambdaFunctionProps{
				RetryAttempts:   jsii.Number(0),
				MaxEventAge:     minutes(1),
				DeadLetterQueue: s.ScheduledFailures,
			}),
		},
	})
}
