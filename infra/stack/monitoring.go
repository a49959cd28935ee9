package stack

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"supportpipe/internal/ops/health"
	"supportpipe/internal/ops/metrics"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/support/drafting"
)

// Alarm thresholds. The queue depths are the configuration's
// (queue.alert_depth and queue.escalate_depth, 50 and 100 by default).
const (
	OldestMessageAgeSeconds = 300  // a stalled consumer shows here first
	ProcessorP99Millis      = 1000 // processing p99 > 1 s
	// DraftsOldestMessageAgeSeconds: a request that waited 10 minutes gets
	// its suggestion after most agents would have answered.
	DraftsOldestMessageAgeSeconds = 600
	// DraftsFailedThreshold: failed requests in 5 minutes, in 2 of 3
	// periods. A failure is a missing suggestion, not lost data (the
	// conversation is untouched, an agent answers as without the drafter),
	// so one does not page; a model or Chatwoot that keeps failing does.
	DraftsFailedThreshold = 5
)

// Metrics counted from the API's access log: what API Gateway answered on
// the webhook routes without the function deciding it.
const (
	GatewayRefusedMetric = "gateway_refused"
	Gateway5xxMetric     = "gateway_5xx"
)

// Ingress and processing metrics on the dashboard, named like the daily
// counters so alarms, dashboard and the daily report count the same things.
var (
	// An accepted webhook writes no metric (its cost is per webhook): the
	// webhook function's invocations are the received count.
	ingressMetrics    = []string{stats.Rejected, stats.Refused, stats.InvalidPayload, stats.Spooled, stats.Ignored, stats.AccountMismatch}
	processingMetrics = []string{stats.Processed, stats.Duplicates, stats.Retried, stats.Failed, stats.DeadLettered}
)

// gatewayMetric is a metric counted from the API's access log. A metric
// filter cannot set a fixed dimension, so these have none.
func gatewayMetric(name string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(MetricsNamespace), MetricName: jsii.String(name),
		Statistic: jsii.String("Sum"), Period: minutes(5),
	})
}

// pipelineMetric is an EMF metric of the functions (see MetricsNamespace).
func pipelineMetric(name, statistic string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(MetricsNamespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{MetricsDimension: jsii.String(MetricsService)},
		Statistic:     jsii.String(statistic),
		Period:        minutes(5),
	})
}

func (s *SupportStack) addTopics() {
	// SNS topics are encrypted with a customer managed key, not the AWS
	// managed alias/aws/sns: CloudWatch alarms cannot publish to a topic
	// under the AWS managed key (its key policy cannot be changed to let
	// cloudwatch.amazonaws.com use it), so alarms would fail silently. The
	// key policy grants CloudWatch exactly Decrypt + GenerateDataKey*.
	s.TopicKey = awskms.NewKey(s.Stack, jsii.String("TopicKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the support pipeline's SNS topics (alerts, escalations)"),
		EnableKeyRotation: jsii.Bool(true),
	})
	// Only this account's alarms may use the key (the confused-deputy
	// guard: CloudWatch acts for whoever owns the alarm).
	s.TopicKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
	}), jsii.Bool(false))

	s.Alerts = awssns.NewTopic(s.Stack, jsii.String("Alerts"), &awssns.TopicProps{
		DisplayName: jsii.String("Support pipeline alerts"),
		MasterKey:   s.TopicKey,
	})
	s.Escalations = awssns.NewTopic(s.Stack, jsii.String("Escalations"), &awssns.TopicProps{
		DisplayName: jsii.String("Support pipeline escalations"),
		MasterKey:   s.TopicKey,
	})
	// Notifications SNS could not deliver (a bouncing address, a deleted
	// endpoint) are kept for two weeks instead of dropped.
	undelivered := s.newQueue("UndeliveredNotifications", &awssqs.QueueProps{RetentionPeriod: days(DLQRetentionDays)})
	deadLetters(undelivered)
	sub := &awssnssubscriptions.EmailSubscriptionProps{DeadLetterQueue: undelivered}
	if e := s.Config.AlertsEmail; e != "" {
		s.Alerts.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), sub))
	}
	if e := s.Config.EscalationsEmail; e != "" {
		s.Escalations.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), sub))
	}
}

type alarmSpec struct {
	id, description string
	metric          awscloudwatch.IMetric
	threshold       float64
	op              awscloudwatch.ComparisonOperator
	evaluations     float64 // periods looked at
	datapoints      float64 // of which must breach
	topic           awssns.ITopic
}

// addAlarm creates an alarm that notifies topic. Missing data is "not
// breaching": SQS stops reporting idle queues' metrics and Lambda emits
// nothing without invocations, and silence must not page anyone.
func (s *SupportStack) addAlarm(a alarmSpec) awscloudwatch.Alarm {
	alarm := awscloudwatch.NewAlarm(s.Stack, jsii.String(a.id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(a.description),
		Metric:             a.metric,
		Threshold:          jsii.Number(a.threshold),
		ComparisonOperator: a.op,
		EvaluationPeriods:  jsii.Number(a.evaluations),
		DatapointsToAlarm:  jsii.Number(a.datapoints),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	// OK actions too: whoever was paged learns that it passed, and an alarm
	// that stays in ALARM is visibly still broken.
	alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(a.topic))
	alarm.AddOkAction(awscloudwatchactions.NewSnsAction(a.topic))
	s.Alarms[a.id] = alarm
	return alarm
}

func (s *SupportStack) addMonitoring() {
	s.addTopics()
	s.Alarms = map[string]awscloudwatch.Alarm{}
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	gte := awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD
	perMinuteMax := &awscloudwatch.MetricOptions{Period: minutes(1), Statistic: jsii.String("Maximum")}

	// Queue depth is judged over two consecutive minutes so a burst the
	// processor drains at once does not page. The thresholds are the
	// configuration's (queue.alert_depth, queue.escalate_depth), the same
	// the local mode and /support/health use.
	alertAt, escalateAt := float64(s.Config.Support.Queue.AlertDepth), float64(s.Config.Support.Queue.EscalateDepth)
	depth := s.Queue.MetricApproximateNumberOfMessagesVisible(perMinuteMax)
	s.addAlarm(alarmSpec{
		id: "QueueDepthAlarm", description: fmt.Sprintf("Events queue has more than %.0f visible messages", alertAt),
		metric: depth, threshold: alertAt, op: gt, evaluations: 2, datapoints: 2, topic: s.Alerts,
	})
	s.addAlarm(alarmSpec{
		id: "QueueDepthEscalationAlarm", description: fmt.Sprintf("Events queue has more than %.0f visible messages: escalate", escalateAt),
		metric: depth, threshold: escalateAt, op: gt, evaluations: 2, datapoints: 2, topic: s.Escalations,
	})
	// Anything in a DLQ needs a human (dlq show / dlq redrive). The depth
	// alarm stays in ALARM while the queue holds anything, so a second dead
	// letter would page nobody: DeadLetteredAlarm rises with each new one.
	s.addAlarm(alarmSpec{
		id: "DlqNotEmptyAlarm", description: "Events DLQ holds at least one message (supportctl dlq list)",
		metric: s.DLQ.MetricApproximateNumberOfMessagesVisible(perMinuteMax), threshold: 1, op: gte,
		evaluations: 1, datapoints: 1, topic: s.Alerts,
	})
	s.addAlarm(alarmSpec{
		id: "DeadLetteredAlarm", description: "Events were dead-lettered in the last 5 minutes (each new dead letter raises it again)",
		metric: pipelineMetric(stats.DeadLettered, "Sum"), threshold: 1, op: gte, evaluations: 1, datapoints: 1, topic: s.Alerts,
	})
	s.addAlarm(alarmSpec{
		id: "DraftsDlqNotEmptyAlarm", description: "Drafts DLQ holds at least one message",
		metric: s.DraftsDLQ.MetricApproximateNumberOfMessagesVisible(perMinuteMax), threshold: 1, op: gte,
		evaluations: 1, datapoints: 1, topic: s.Alerts,
	})
	s.addAlarm(alarmSpec{
		id: "ScheduledFailuresAlarm", description: "A scheduled run (daily report or sweeper) failed for good or was never delivered",
		metric: s.ScheduledFailures.MetricApproximateNumberOfMessagesVisible(perMinuteMax), threshold: 1, op: gte,
		evaluations: 1, datapoints: 1, topic: s.Alerts,
	})
	// Age catches a stalled consumer even when depth stays low.
	s.addAlarm(alarmSpec{
		id: "OldestMessageAgeAlarm", description: "Oldest events queue message is older than 5 minutes",
		metric: s.Queue.MetricApproximateAgeOfOldestMessage(perMinuteMax), threshold: OldestMessageAgeSeconds, op: gt,
		evaluations: 2, datapoints: 2, topic: s.Alerts,
	})
	// Per message: the processor's EMF processing_ms holds one value per
	// message. p99 over 5-minute periods, 2 of 3 so a lone slow call does
	// not page.
	s.addAlarm(alarmSpec{
		id: "ProcessingP99Alarm", description: "Per-message processing p99 above 1 s",
		metric:    pipelineMetric(metrics.ProcessingTime, "p99"),
		threshold: ProcessorP99Millis, op: gt, evaluations: 3, datapoints: 2, topic: s.Alerts,
	})
	// The drafter: requests that got no suggestion because something
	// failed (the model, Chatwoot, the store), and requests waiting.
	s.addAlarm(alarmSpec{
		id: "DraftsFailedAlarm", description: fmt.Sprintf("At least %d draft requests failed in 5 minutes, in 2 of 3 periods: no suggestions (the model, Chatwoot or the store fails)", DraftsFailedThreshold),
		metric: pipelineMetric(metrics.DraftsFailed, "Sum"), threshold: DraftsFailedThreshold, op: gte, evaluations: 3, datapoints: 2, topic: s.Alerts,
	})
	s.addAlarm(alarmSpec{
		id: "DraftsOldestMessageAgeAlarm", description: "Oldest drafts queue message is older than 10 minutes: suggestions come late or not at all",
		metric: s.Drafts.MetricApproximateAgeOfOldestMessage(perMinuteMax), threshold: DraftsOldestMessageAgeSeconds, op: gt,
		evaluations: 2, datapoints: 2, topic: s.Alerts,
	})
	// Per batch of up to 10: an invocation's duration.
	s.addAlarm(alarmSpec{
		id: "ProcessorBatchDurationP99Alarm", description: "Processor invocation (a batch of up to 10 messages) p99 duration above 10 s",
		metric:    s.Processor.MetricDuration(&awscloudwatch.MetricOptions{Period: minutes(5), Statistic: jsii.String("p99")}),
		threshold: 10 * ProcessorP99Millis, op: gt, evaluations: 3, datapoints: 2, topic: s.Alerts,
	})
	for _, name := range FunctionNames {
		fn := s.Functions()[name]
		s.addAlarm(alarmSpec{
			id: constructID(name) + "ErrorsAlarm", description: "The " + name + " function reported errors",
			metric:    fn.MetricErrors(&awscloudwatch.MetricOptions{Period: minutes(5), Statistic: jsii.String("Sum")}),
			threshold: 0, op: gt, evaluations: 1, datapoints: 1, topic: s.Alerts,
		})
	}
	// A throttled webhook invocation is a 5xx to Chatwoot, which never
	// retries; a throttled processor or drafter batch waits, its events or
	// suggestions late. (The sweeper runs one at a time on purpose: a
	// duplicate EventBridge delivery is throttled.)
	for _, fn := range []struct {
		name string
		fn   awslambda.Function
	}{{"Webhook", s.Webhook}, {"Processor", s.Processor}, {"Drafter", s.Drafter}} {
		s.addAlarm(alarmSpec{
			id: fn.name + "ThrottlesAlarm", description: "The " + strings.ToLower(fn.name) + " function was throttled",
			metric:    fn.fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: minutes(5), Statistic: jsii.String("Sum")}),
			threshold: 0, op: gt, evaluations: 1, datapoints: 1, topic: s.Alerts,
		})
	}
	// What API Gateway answered on the webhook routes without our code
	// deciding it (our own refusals are counted by the function): 429
	// throttled, 413 over its payload limit, 5xx the integration failed.
	// Chatwoot retries none of them. The access log is the only place that
	// sees them, so metric filters count them.
	for _, g := range []struct {
		id, metric, description, statuses string
	}{
		{"WebhookGatewayRefusedAlarm", GatewayRefusedMetric, "API Gateway refused webhooks (429 throttled or 413 too large): lost, reconcile", `$.status = "429" || $.status = "413"`},
		{"WebhookGateway5xxAlarm", Gateway5xxMetric, "API Gateway answered 5xx on the webhook routes: lost unless the function spooled, reconcile", `$.status = "5*"`},
	} {
		awslogs.NewMetricFilter(s.Stack, jsii.String(g.id+"Filter"), &awslogs.MetricFilterProps{
			LogGroup:        s.AccessLogs,
			FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(`{ $.route = "*/webhooks/chatwoot*" && (` + g.statuses + `) }`)),
			MetricNamespace: jsii.String(MetricsNamespace),
			MetricName:      jsii.String(g.metric),
			MetricValue:     jsii.String("1"),
		})
		s.addAlarm(alarmSpec{
			id: g.id, description: g.description, metric: gatewayMetric(g.metric),
			threshold: 1, op: gte, evaluations: 1, datapoints: 1, topic: s.Alerts,
		})
	}
	// A refused webhook (too large, or queue and spool both failed: a 413
	// or 5xx to Chatwoot, which never retries) may have been authentic: the
	// one failure that drops data, so reconciliation must run.
	s.addAlarm(alarmSpec{
		id: "WebhookRefusedAlarm", description: "Possibly authentic webhooks were refused (too large, or queue and spool both failed); reconcile with Chatwoot",
		metric: pipelineMetric(stats.Refused, "Sum"), threshold: 1, op: gte, evaluations: 1, datapoints: 1, topic: s.Alerts,
	})
	// An authentic payload the decoder cannot use is kept in the DLQ; many
	// at once mean Chatwoot changed a shape.
	s.addAlarm(alarmSpec{
		id: "InvalidPayloadAlarm", description: "Authentic webhooks with payloads the pipeline cannot decode were kept in the DLQ for review",
		metric: pipelineMetric(stats.InvalidPayload, "Sum"), threshold: 1, op: gte, evaluations: 1, datapoints: 1, topic: s.Alerts,
	})

	// The spool: an acknowledged event waiting there longer than health
	// allows (the sweeper drains every minute), and drains that failed.
	spoolAge := pipelineMetric(metrics.SpoolOldestAge, "Maximum")
	s.addAlarm(alarmSpec{
		id: "SpoolAgeAlarm", description: "An acknowledged webhook has waited in the spool for over 15 minutes: the queue refuses it or is down",
		metric:    spoolAge.With(&awscloudwatch.MetricOptions{Period: minutes(1)}),
		threshold: health.SpoolMaxAge.Seconds(), op: gt, evaluations: 1, datapoints: 1, topic: s.Alerts,
	})
	s.addAlarm(alarmSpec{
		id: "SpoolDrainFailuresAlarm", description: "Spooled webhooks could not be re-enqueued",
		metric: pipelineMetric(metrics.SpoolFailures, "Sum"), threshold: 1, op: gte, evaluations: 3, datapoints: 2, topic: s.Alerts,
	})

	s.addDashboard()
}

func (s *SupportStack) addDashboard() {
	graph := func(title string, width float64, left []awscloudwatch.IMetric, annotations ...*awscloudwatch.HorizontalAnnotation) awscloudwatch.GraphWidget {
		props := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Width: jsii.Number(width), Height: jsii.Number(6), Left: &left}
		if len(annotations) > 0 {
			props.LeftAnnotations = &annotations
		}
		return awscloudwatch.NewGraphWidget(props)
	}
	line := func(value float64, label string) *awscloudwatch.HorizontalAnnotation {
		return &awscloudwatch.HorizontalAnnotation{Value: jsii.Number(value), Label: jsii.String(label)}
	}
	label := func(m awscloudwatch.Metric, l string) awscloudwatch.IMetric {
		return m.With(&awscloudwatch.MetricOptions{Label: jsii.String(l)})
	}
	perMinuteMax := &awscloudwatch.MetricOptions{Period: minutes(1), Statistic: jsii.String("Maximum")}

	var errs []awscloudwatch.IMetric
	for _, name := range FunctionNames {
		errs = append(errs, label(s.Functions()[name].MetricErrors(&awscloudwatch.MetricOptions{
			Period: minutes(5), Statistic: jsii.String("Sum"),
		}), name))
	}
	received := s.Webhook.MetricInvocations(&awscloudwatch.MetricOptions{Period: minutes(5), Statistic: jsii.String("Sum")})
	ingress := []awscloudwatch.IMetric{
		label(received, stats.Received),
		awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String("received - FILL(rejected, 0) - FILL(refused, 0)"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"received": received, "rejected": pipelineMetric(stats.Rejected, "Sum"), "refused": pipelineMetric(stats.Refused, "Sum"),
			},
			Label:  jsii.String(stats.Accepted),
			Period: minutes(5),
		}),
	}
	var processing []awscloudwatch.IMetric
	for _, n := range ingressMetrics {
		ingress = append(ingress, label(pipelineMetric(n, "Sum"), n))
	}
	for _, n := range processingMetrics {
		processing = append(processing, label(pipelineMetric(n, "Sum"), n))
	}
	ids := make([]string, 0, len(s.Alarms))
	for id := range s.Alarms {
		ids = append(ids, id)
	}
	sort.Strings(ids) // deterministic template
	var alarms []interfacesawscloudwatch.IAlarmRef
	for _, id := range ids {
		alarms = append(alarms, s.Alarms[id])
	}

	s.Dashboard = awscloudwatch.NewDashboard(s.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: hours(6),
	})
	s.Dashboard.AddWidgets(
		graph("Events queue depth", 8, []awscloudwatch.IMetric{
			label(s.Queue.MetricApproximateNumberOfMessagesVisible(perMinuteMax), "visible"),
			label(s.Queue.MetricApproximateNumberOfMessagesNotVisible(perMinuteMax), "in flight"),
		}, line(float64(s.Config.Support.Queue.AlertDepth), "alert"), line(float64(s.Config.Support.Queue.EscalateDepth), "escalate")),
		graph("DLQ depth", 8, []awscloudwatch.IMetric{
			label(s.DLQ.MetricApproximateNumberOfMessagesVisible(perMinuteMax), "events DLQ"),
			label(s.DraftsDLQ.MetricApproximateNumberOfMessagesVisible(perMinuteMax), "drafts DLQ"),
		}),
		graph("Oldest message age (s)", 8, []awscloudwatch.IMetric{
			label(s.Queue.MetricApproximateAgeOfOldestMessage(perMinuteMax), "events"),
			label(s.Drafts.MetricApproximateAgeOfOldestMessage(perMinuteMax), "drafts"),
			label(pipelineMetric(metrics.SpoolOldestAge, "Maximum").With(perMinuteMax), "spool"),
		}, line(OldestMessageAgeSeconds, "alarm"), line(DraftsOldestMessageAgeSeconds, "drafts alarm"), line(health.SpoolMaxAge.Seconds(), "spool alarm")),
	)
	s.Dashboard.AddWidgets(
		graph("Processor duration (ms)", 12, []awscloudwatch.IMetric{
			label(s.Processor.MetricDuration(&awscloudwatch.MetricOptions{Period: minutes(5), Statistic: jsii.String("p50")}), "p50"),
			label(s.Processor.MetricDuration(&awscloudwatch.MetricOptions{Period: minutes(5), Statistic: jsii.String("p99")}), "p99"),
		}, line(ProcessorP99Millis, "p99 alarm")),
		graph("Function errors", 12, errs),
	)
	s.Dashboard.AddWidgets(
		graph(MetricsNamespace+": ingress", 12, ingress),
		graph(MetricsNamespace+": processing", 12, processing),
	)
	// The drafter: what became of the requests, how long a suggestion
	// took from the request to its note, and a model's tokens (its bill).
	drafts := []awscloudwatch.IWidget{
		graph(MetricsNamespace+": drafts", 8, []awscloudwatch.IMetric{
			label(pipelineMetric(metrics.DraftsMade, "Sum"), metrics.DraftsMade),
			label(pipelineMetric(metrics.DraftsSkipped, "Sum"), metrics.DraftsSkipped),
			label(pipelineMetric(metrics.DraftsFailed, "Sum"), metrics.DraftsFailed),
		}, line(DraftsFailedThreshold, "failed alarm")),
		graph("Draft latency (ms)", 8, []awscloudwatch.IMetric{
			label(pipelineMetric(metrics.DraftTime, "p50"), "p50"),
			label(pipelineMetric(metrics.DraftTime, "p99"), "p99"),
		}),
	}
	if p := s.Config.Support.Drafting.Provider; p == drafting.Bedrock || p == drafting.OpenAI {
		drafts = append(drafts, graph("Draft model tokens", 8, []awscloudwatch.IMetric{
			label(pipelineMetric(metrics.InputTokens, "Sum"), "input"),
			label(pipelineMetric(metrics.OutputTokens, "Sum"), "output"),
		}))
	} else {
		drafts = append(drafts, graph("Drafter duration (ms)", 8, []awscloudwatch.IMetric{
			label(s.Drafter.MetricDuration(&awscloudwatch.MetricOptions{Period: minutes(5), Statistic: jsii.String("p50")}), "p50"),
			label(s.Drafter.MetricDuration(&awscloudwatch.MetricOptions{Period: minutes(5), Statistic: jsii.String("p99")}), "p99"),
		}))
	}
	s.Dashboard.AddWidgets(drafts...)
	s.Dashboard.AddWidgets(awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title:  jsii.String("Alarms"),
		Width:  jsii.Number(24),
		Alarms: &alarms,
	}))
}
