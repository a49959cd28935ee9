package stack

import (
	"strings"
	"testing"

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
		})},
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
		{"oldest message age → alerts", M{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage", "Dimensions": queueDim,
			"Threshold": OldestMessageAgeSeconds, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": A{alerts},
		}},
		{"processor p99 > 1 s → alerts", M{
			"Namespace": "AWS/Lambda", "MetricName": "Duration", "ExtendedStatistic": "p99",
			"Dimensions": A{M{"Name": "FunctionName", "Value": ref(logicalID(sup.Processor))}},
			"Threshold":  1000, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": A{alerts},
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
	for _, c := range cases {
		c.props["TreatMissingData"] = "notBreaching"
		hasProps(t, c.what, "AWS::CloudWatch::Alarm", c.props)
	}

	// Every alarm notifies someone and treats missing data as fine.
	check(t, "all alarms", func() {
		tmpl.AllResourcesProperties(jsii.String("AWS::CloudWatch::Alarm"), M{
			"TreatMissingData": "notBreaching",
			"AlarmActions":     A{anyValue()},
		})
	})
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
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	// Depth widgets reference both queues' DLQs.
	for _, q := range []string{logicalID(sup.Queue), logicalID(sup.DLQ), logicalID(sup.DraftsDLQ)} {
		if !strings.Contains(body, q) {
			t.Errorf("dashboard does not show queue %s", q)
		}
	}
}
