package stack

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestTopics(t *testing.T) {
	countIs(t, "AWS::SNS::Topic", 2)
	key := logicalID(sup.TopicKey)
	// Both topics under the customer managed key (not alias/aws/sns, which
	// CloudWatch alarms cannot publish to).
	check(t, "topics encrypted with the topic key", func() {
		tmpl.AllResourcesProperties(jsii.String("AWS::SNS::Topic"), M{"KmsMasterKeyId": arnOf(key)})
	})
	hasProps(t, "topic key", "AWS::KMS::Key", M{
		"EnableKeyRotation": true,
		"KeyPolicy": M{"Statement": arrayWith(M{
			"Effect":    "Allow",
			"Principal": M{"Service": "cloudwatch.amazonaws.com"},
			"Action":    A{"kms:Decrypt", "kms:GenerateDataKey*"},
			"Condition": M{"StringEquals": M{"aws:SourceAccount": M{"Ref": "AWS::AccountId"}}},
		})},
	})
	// CloudWatch's use of the key is always conditioned on this account.
	for _, st := range props(t, key)["KeyPolicy"].(M)["Statement"].([]interface{}) {
		if strings.Contains(js(st), "cloudwatch.amazonaws.com") && !strings.Contains(js(st), "aws:SourceAccount") {
			t.Errorf("key statement without aws:SourceAccount: %s", js(st))
		}
	}
	// Undeliverable notifications are kept, not dropped.
	hasProps(t, "subscriptions have a DLQ", "AWS::SNS::Subscription", M{
		"Protocol": "email", "RedrivePolicy": M{"deadLetterTargetArn": anyValue()},
	})
}

// alarmProps finds the alarm created under id.
func alarmProps(t *testing.T, id string) M {
	t.Helper()
	a, ok := sup.Alarms[id]
	if !ok {
		t.Fatalf("no alarm %s", id)
	}
	return props(t, logicalID(a))
}

func TestAlarms(t *testing.T) {
	alerts, escalations := ref(logicalID(sup.Alerts)), ref(logicalID(sup.Escalations))
	queueDim := A{M{"Name": "QueueName", "Value": getAtt(logicalID(sup.Queue), "QueueName")}}
	dlqDim := A{M{"Name": "QueueName", "Value": getAtt(logicalID(sup.DLQ), "QueueName")}}

	cases := []struct {
		what  string
		props M
	}{
		{"queue depth > 50 → alerts", M{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Dimensions": queueDim,
			"Threshold": 50, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": A{alerts},
		}},
		{"queue depth > 100 → escalations", M{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Dimensions": queueDim,
			"Threshold": 100, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": A{escalations},
		}},
		{"DLQ ≥ 1 → alerts", M{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Dimensions": dlqDim,
			"Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "AlarmActions": A{alerts},
		}},
		{"each new dead letter → alerts", M{
			"Namespace": "SupportPipeline", "MetricName": "dead_lettered", "Statistic": "Sum", "Period": 300,
			"Dimensions": A{M{"Name": "Service", "Value": "supportpipe"}},
			"Threshold":  1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "AlarmActions": A{alerts},
		}},
		{"scheduled runs failed for good → alerts", M{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
			"Dimensions": A{M{"Name": "QueueName", "Value": getAtt(logicalID(sup.ScheduledFailures), "QueueName")}},
			"Threshold":  1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "AlarmActions": A{alerts},
		}},
		{"oldest message age → alerts", M{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage", "Dimensions": queueDim,
			"Threshold": OldestMessageAgeSeconds, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": A{alerts},
		}},
		{"per-message processing p99 > 1 s (EMF) → alerts", M{
			"Namespace": "SupportPipeline", "MetricName": "processing_ms", "ExtendedStatistic": "p99",
			"Dimensions": A{M{"Name": "Service", "Value": "supportpipe"}},
			"Threshold":  1000, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": A{alerts},
		}},
		{"processor batch p99 > 10 s → alerts", M{
			"Namespace": "AWS/Lambda", "MetricName": "Duration", "ExtendedStatistic": "p99",
			"Dimensions": A{M{"Name": "FunctionName", "Value": ref(logicalID(sup.Processor))}},
			"Threshold":  10000, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": A{alerts},
		}},
		{"API Gateway 429/413 on the webhook routes → alerts", M{
			"Namespace": "SupportPipeline", "MetricName": "gateway_refused", "Statistic": "Sum",
			"Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "AlarmActions": A{alerts},
		}},
		{"API Gateway 5xx on the webhook routes → alerts", M{
			"Namespace": "SupportPipeline", "MetricName": "gateway_5xx", "Statistic": "Sum",
			"Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "AlarmActions": A{alerts},
		}},
		{"EMF refused webhooks → alerts", M{
			"Namespace": "SupportPipeline", "MetricName": "refused", "Statistic": "Sum",
			"Dimensions": A{M{"Name": "Service", "Value": "supportpipe"}},
			"Threshold":  1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "AlarmActions": A{alerts},
		}},
		{"spool age > 15 min → alerts", M{
			"Namespace": "SupportPipeline", "MetricName": "spool_oldest_age_seconds", "Statistic": "Maximum", "Period": 60,
			"Dimensions": A{M{"Name": "Service", "Value": "supportpipe"}},
			"Threshold":  900, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": A{alerts},
		}},
		{"spool drain failures → alerts", M{
			"Namespace": "SupportPipeline", "MetricName": "spool_drain_failures", "Statistic": "Sum",
			"Dimensions": A{M{"Name": "Service", "Value": "supportpipe"}},
			"Threshold":  1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "AlarmActions": A{alerts},
		}},
		{"drafts failing (EMF, ≥ 5 in 2 of 3 periods) → alerts", M{
			"Namespace": "SupportPipeline", "MetricName": "drafts_failed", "Statistic": "Sum", "Period": 300,
			"Dimensions": A{M{"Name": "Service", "Value": "supportpipe"}},
			"Threshold":  5, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
			"EvaluationPeriods": 3, "DatapointsToAlarm": 2, "AlarmActions": A{alerts},
		}},
		{"drafts queue oldest message > 10 min → alerts", M{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage",
			"Dimensions": A{M{"Name": "QueueName", "Value": getAtt(logicalID(sup.Drafts), "QueueName")}},
			"Threshold":  600, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": A{alerts},
		}},
		{"drafts DLQ ≥ 1 → alerts", M{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
			"Dimensions": A{M{"Name": "QueueName", "Value": getAtt(logicalID(sup.DraftsDLQ), "QueueName")}},
			"Threshold":  1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "AlarmActions": A{alerts},
		}},
		{"EMF invalid payloads kept → alerts", M{
			"Namespace": "SupportPipeline", "MetricName": "invalid_payload", "Statistic": "Sum",
			"Dimensions": A{M{"Name": "Service", "Value": "supportpipe"}},
			"Threshold":  1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "AlarmActions": A{alerts},
		}},
	}
	for name, fn := range sup.Functions() {
		cases = append(cases, struct {
			what  string
			props M
		}{name + " errors > 0 → alerts", M{
			"Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum",
			"Dimensions": A{M{"Name": "FunctionName", "Value": ref(logicalID(fn))}},
			"Threshold":  0, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": A{alerts},
		}})
	}
	for _, fn := range []string{"Webhook", "Processor", "Drafter"} {
		cases = append(cases, struct {
			what  string
			props M
		}{fn + " throttles > 0 → alerts", M{
			"Namespace": "AWS/Lambda", "MetricName": "Throttles", "Statistic": "Sum",
			"Dimensions": A{M{"Name": "FunctionName", "Value": ref(logicalID(sup.Functions()[strings.ToLower(fn)]))}},
			"Threshold":  0, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": A{alerts},
		}})
	}
	for _, c := range cases {
		c.props["TreatMissingData"] = "notBreaching"
		c.props["OKActions"] = c.props["AlarmActions"]
		hasProps(t, c.what, "AWS::CloudWatch::Alarm", c.props)
	}

	// Every alarm notifies someone, tells them when it is over, and treats
	// missing data as fine.
	check(t, "all alarms", func() {
		tmpl.AllResourcesProperties(jsii.String("AWS::CloudWatch::Alarm"), M{
			"TreatMissingData": "notBreaching",
			"AlarmActions":     A{anyValue()},
			"OKActions":        A{anyValue()},
		})
	})
	// The gateway metrics are counted from the access log, on the webhook
	// routes only.
	for _, metric := range []string{GatewayRefusedMetric, Gateway5xxMetric} {
		hasProps(t, "metric filter "+metric, "AWS::Logs::MetricFilter", M{
			"LogGroupName":          ref(logicalID(sup.AccessLogs)),
			"FilterPattern":         assertions.Match_StringLikeRegexp(jsii.String(`\$\.route = "\*/webhooks/chatwoot\*"`)),
			"MetricTransformations": A{M{"MetricNamespace": "SupportPipeline", "MetricName": metric, "MetricValue": "1"}},
		})
	}
	// The escalation alarm is the only one paging the escalations topic.
	for id := range sup.Alarms {
		got := js(alarmProps(t, id)["AlarmActions"])
		isEsc := got == js(A{escalations})
		if isEsc != (id == "QueueDepthEscalationAlarm") {
			t.Errorf("alarm %s notifies %s", id, got)
		}
	}
}

func TestDashboard(t *testing.T) {
	countIs(t, "AWS::CloudWatch::Dashboard", 1)
	body := js(props(t, logicalID(sup.Dashboard))["DashboardBody"])
	for _, want := range []string{
		"ApproximateNumberOfMessagesVisible", // queue and DLQ depth
		"ApproximateAgeOfOldestMessage",
		`\"stat\":\"p50\"`, `\"stat\":\"p99\"`, // processor duration
		"Duration", "Errors",
		"SupportPipeline", // EMF metrics
		`\"received\"`, `\"accepted\"`, `\"refused\"`, `\"invalid_payload\"`, `\"processed\"`, `\"dead_lettered\"`, `\"spool_oldest_age_seconds\"`,
		`\"alarm\"`, // alarm status widget
		// The drafts row.
		`\"drafts_made\"`, `\"drafts_skipped\"`, `\"drafts_failed\"`, `\"draft_ms\"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	// Tokens only with a model (TestDashboardTokensWithAModel).
	if strings.Contains(body, "draft_input_tokens") {
		t.Error("dashboard shows model tokens with the retrieval provider")
	}
	// Depth widgets reference both queues' DLQs.
	for _, q := range []string{logicalID(sup.Queue), logicalID(sup.DLQ), logicalID(sup.Drafts), logicalID(sup.DraftsDLQ)} {
		if !strings.Contains(body, q) {
			t.Errorf("dashboard does not show queue %s", q)
		}
	}
}
