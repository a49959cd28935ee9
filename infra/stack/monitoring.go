package stack

import (
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"supportpipe/internal/health"
	"supportpipe/internal/metrics"
	"supportpipe/internal/stats"
)

// Alarm thresholds (design §1 and the config defaults: queue 50/100).
const (
	QueueDepthAlertThreshold      = 50   // visible messages → alerts
	QueueDepthEscalationThreshold = 100  // visible messages → escalations
	OldestMessageAgeSeconds       = 300  // a stalled consumer shows here first
	ProcessorP99Millis            = 1000 // processing p99 > 1 s
)

// Ingress and processing metrics on the dashboard, named like the daily
// counters so alarms, dashboard and the daily report count the same things.
var (
	// An accepted webhook writes no metric (its cost is per webhook): the
	// webhook function's invocations are the received count.
	ingressMetrics    = []string{stats.Rejected, stats.Refused, stats.InvalidPayload, stats.Spooled, stats.Ignored, stats.AccountMismatch}
	processingMetrics = []string{stats.Processed, stats.Duplicates, stats.Retried, stats.Failed, stats.DeadLettered}
)

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
	s.TopicKey.Grant(awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil),
		jsii.String("kms:Decrypt"), jsii.String("kms:GenerateDataKey*"))

	s.Alerts = awssns.NewTopic(s.Stack, jsii.String("Alerts"), &awssns.TopicProps{
		DisplayName: jsii.String("Support pipeline alerts"),
		MasterKey:   s.TopicKey,
	})
	s.Escalations = awssns.NewTopic(s.Stack, jsii.String("Escalations"), &awssns.TopicProps{
		DisplayName: jsii.String("Support pipeline escalations"),
		MasterKey:   s.TopicKey,
	})
	if e := s.Config.AlertsEmail; e != "" {
		s.Alerts.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	if e := s.Config.EscalationsEmail; e != "" {
		s.Escalations.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
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
	alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(a.topic))
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
	// processor drains at once does not page.
	depth := s.Queue.MetricApproximateNumberOfMessagesVisible(perMinuteMax)
	s.addAlarm(alarmSpec{
		id: "QueueDepthAlarm", description: "Events queue has more than 50 visible messages",
		metric: depth, threshold: QueueDepthAlertThreshold, op: gt, evaluations: 2, datapoints: 2, topic: s.Alerts,
	})
	s.addAlarm(alarmSpec{
		id: "QueueDepthEscalationAlarm", description: "Events queue has more than 100 visible messages: escalate",
		metric: depth, threshold: QueueDepthEscalationThreshold, op: gt, evaluations: 2, datapoints: 2, topic: s.Escalations,
	})
	// Anything in a DLQ needs a human (dlq show / dlq redrive): alarm on the first message.
	s.addAlarm(alarmSpec{
		id: "DlqNotEmptyAlarm", description: "Events DLQ holds at least one message (supportctl dlq list)",
		metric: s.DLQ.MetricApproximateNumberOfMessagesVisible(perMinuteMax), threshold: 1, op: gte,
		evaluations: 1, datapoints: 1, topic: s.Alerts,
	})
	s.addAlarm(alarmSpec{
		id: "DraftsDlqNotEmptyAlarm", description: "Drafts DLQ holds at least one message",
		metric: s.DraftsDLQ.MetricApproximateNumberOfMessagesVisible(perMinuteMax), threshold: 1, op: gte,
		evaluations: 1, datapoints: 1, topic: s.Alerts,
	})
	// Age catches a stalled consumer even when depth stays low.
	s.addAlarm(alarmSpec{
		id: "OldestMessageAgeAlarm", description: "Oldest events queue message is older than 5 minutes",
		metric: s.Queue.MetricApproximateAgeOfOldestMessage(perMinuteMax), threshold: OldestMessageAgeSeconds, op: gt,
		evaluations: 2, datapoints: 2, topic: s.Alerts,
	})
	// p99 over 5-minute periods, 2 of 3 so a lone cold start does not page.
	s.addAlarm(alarmSpec{
		id: "ProcessorDurationP99Alarm", description: "Processor p99 duration above 1 s",
		metric:    s.Processor.MetricDuration(&awscloudwatch.MetricOptions{Period: minutes(5), Statistic: jsii.String("p99")}),
		threshold: ProcessorP99Millis, op: gt, evaluations: 3, datapoints: 2, topic: s.Alerts,
	})
	for _, name := range FunctionNames {
		fn := s.Functions()[name]
		s.addAlarm(alarmSpec{
			id: constructID(name) + "ErrorsAlarm", description: "The " + name + " function reported errors",
			metric:    fn.MetricErrors(&awscloudwatch.MetricOptions{Period: minutes(5), Statistic: jsii.String("Sum")}),
			threshold: 0, op: gt, evaluations: 1, datapoints: 1, topic: s.Alerts,
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
		}, line(QueueDepthAlertThreshold, "alert"), line(QueueDepthEscalationThreshold, "escalate")),
		graph("DLQ depth", 8, []awscloudwatch.IMetric{
			label(s.DLQ.MetricApproximateNumberOfMessagesVisible(perMinuteMax), "events DLQ"),
			label(s.DraftsDLQ.MetricApproximateNumberOfMessagesVisible(perMinuteMax), "drafts DLQ"),
		}),
		graph("Oldest message age (s)", 8, []awscloudwatch.IMetric{
			label(s.Queue.MetricApproximateAgeOfOldestMessage(perMinuteMax), "events"),
			label(s.Drafts.MetricApproximateAgeOfOldestMessage(perMinuteMax), "drafts"),
			label(pipelineMetric(metrics.SpoolOldestAge, "Maximum").With(perMinuteMax), "spool"),
		}, line(OldestMessageAgeSeconds, "alarm"), line(health.SpoolMaxAge.Seconds(), "spool alarm")),
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
	s.Dashboard.AddWidgets(awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
		Title:  jsii.String("Alarms"),
		Width:  jsii.Number(24),
		Alarms: &alarms,
	}))
}
