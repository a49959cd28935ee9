package awscost

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ops/stats"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCostPerMillion runs the traffic model through the real handlers and
// the DynamoDB driver and holds the design to its budget: a change that
// adds a write per webhook shows up here, not on the bill. It runs the
// model as it is (its webhooks within a second) and spread over a day of a
// simulated clock, as real traffic comes, and prints the tables of
// docs/cost.md: the webhook pipeline's cost per million webhooks, and the
// drafter's per million draft requests.
func TestCostPerMillion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		traffic Traffic
	}{
		{"default", DefaultTraffic},
		{"spread_over_a_day", SpreadDay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Measure(t.Context(), tc.traffic)
			require.NoError(t, err)
			lines, drafting := Price(res, DefaultDeployment), PriceDrafting(res, DefaultDeployment)
			var b strings.Builder
			Print(&b, lines)
			b.WriteString("\n")
			PrintDrafting(&b, drafting, res)
			t.Logf("%d webhooks, %d batches, processed in %d UTC hours: $%.3f per million webhooks\ningest: %s\nprocessing: %s\nitems: %v\n"+
				"drafter: %d requests in %d batches, %v, Chatwoot %v: $%.3f per million requests\ndrafting: %s\nitems: %v\n%s",
				res.Webhooks, res.Batches, res.Hours, Total(lines), res.Ingest, res.Processing, res.Processing.Items,
				res.DraftRequests, res.DraftBatches, res.DraftOutcomes, res.DraftingChatwoot, Total(drafting), res.Drafting, res.Drafting.Items, b.String())

			assert.Equal(t, 2000+100+40, res.Webhooks, "2,000 events, 5 % duplicates, 2 % re-emissions")
			assert.Equal(t, res.Webhooks, res.QueueSends, "every webhook was enqueued")
			assert.Zero(t, res.Ingest.WRU-res.Ingest.Items[MarkItem], "an accepted webhook writes nothing to DynamoDB but the last-accepted mark")
			assert.LessOrEqual(t, res.Ingest.Items[MarkItem], 1+tc.traffic.Spread.Minutes(), "the mark at most once a minute")
			perWebhook := res.Processing.WRU / float64(res.Webhooks)
			assert.Less(t, perWebhook, 4.5, "WRU per webhook")
			assert.Greater(t, perWebhook, 2.0, "a completion alone is 2 WRU (transactional put): the meter must see it")
			// Each batch writes the day's counters once, in its transaction:
			// 2 WRU while the item holds under 1 KB. An item that grows with
			// the day (per-hour counters did) or gathers every function's
			// names passes it, and every batch pays twice that.
			assert.LessOrEqual(t, res.Processing.Items[countersItem], 2.05*float64(res.Batches), "the processor's counter writes stay within a write unit")
			assert.LessOrEqual(t, res.Drafting.Items[countersItem], 2.05*float64(res.DraftBatches), "the drafter's too")
			assert.Zero(t, res.IngestS3.Total()+res.ProcessingS3.Total(), "no body of the model needs a claim check")
			assert.LessOrEqual(t, Total(lines), 5.0, "dollars per million webhooks")

			// The drafter drafted every request the processor sent, from
			// the stand-in account's canned responses: one note per
			// suggestion, and each request counted once.
			assert.Equal(t, res.DraftSends, res.DraftRequests, "every draft request reached the drafter")
			made := res.DraftOutcomes[stats.DraftsMade]
			assert.Positive(t, made, "suggestions were made")
			assert.Equal(t, int(made), res.DraftingChatwoot[rest.OpPrivateNote], "a note per suggestion")
			var outcomes int64
			for name, n := range res.DraftOutcomes {
				if name == stats.DraftsMade || name == stats.DraftsFailed || strings.HasPrefix(name, stats.DraftsSkippedPrefix) {
					outcomes += n
				}
			}
			assert.Equal(t, int64(res.DraftRequests), outcomes, "an outcome per request")
			assert.Zero(t, res.DraftOutcomes[stats.DraftsFailed])
			perRequest := res.Drafting.WRU / float64(res.DraftRequests)
			assert.Greater(t, perRequest, 3.0, "a completion (2 WRU) and a day record at least")
			assert.Less(t, perRequest, 7.0, "WRU per draft request")

			if tc.traffic.Spread > 0 {
				assert.Equal(t, 24, res.Hours, "batches processed in every hour of the day")
			}
		})
	}
}

// countersItem is the kind (Usage.Items) of the day's counter items.
const countersItem = "COUNTERS/COUNTERS"

// TestClaimCheckMetered sends a body SQS cannot carry: the S3 meter must
// see the edge store it and the processor read and release it.
func TestClaimCheckMetered(t *testing.T) {
	res, err := Measure(t.Context(), Traffic{Events: 20, BatchSize: 10, Seed: 1, Large: 1})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"PutObject": 1}, res.IngestS3.Requests)
	assert.Greater(t, res.IngestS3.PutBytes, int64(1<<20))
	assert.Equal(t, map[string]int{"GetObject": 1, "DeleteObject": 1}, res.ProcessingS3.Requests)
	lines := Price(res, DefaultDeployment)
	for _, l := range lines {
		if strings.HasPrefix(l.Item, "S3") {
			assert.Positive(t, l.Dollars, l.Item)
		}
	}
}

// TestMonthly prices the synthesized template (make synth writes it) and
// checks that the per-webhook model describes the same stack. It prints
// the monthly table of docs/cost.md.
func TestMonthly(t *testing.T) {
	f, err := os.Open("../../../cdk.out/SupportStack.template.json")
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("no synthesized template: run make synth")
	}
	require.NoError(t, err)
	defer f.Close()
	tmpl, err := ReadTemplate(f)
	require.NoError(t, err)
	d := DefaultDeployment
	fixed, upTo := Monthly(tmpl, d)
	var b strings.Builder
	PrintMonthly(&b, fixed, upTo)
	t.Logf("custom metrics: %s\n%s", strings.Join(tmpl.CustomMetrics, ", "), b.String())

	assert.Equal(t, d.WebhookMB, tmpl.Functions["webhook"].MemoryMB)
	assert.Equal(t, d.ProcessorMB, tmpl.Functions["processor"].MemoryMB)
	assert.Equal(t, d.DrafterMB, tmpl.Functions["drafter"].MemoryMB)
	assert.Equal(t, d.WebhookTraced, tmpl.Functions["webhook"].Tracing == "Active", "webhook tracing")
	assert.Equal(t, d.ProcessorTraced, tmpl.Functions["processor"].Tracing == "Active", "processor tracing")
	assert.Equal(t, d.DrafterTraced, tmpl.Functions["drafter"].Tracing == "Active", "drafter tracing")
	assert.NotEmpty(t, tmpl.FilterMetrics, "the access log's metric filters")
}

func TestReadTemplate(t *testing.T) {
	const tmpl = `{"Resources": {
	"QueueAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Namespace": "AWS/SQS", "MetricName": "Depth", "Period": 60}},
	"FastAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Namespace": "App", "MetricName": "errors", "Period": 10,
		"Dimensions": [{"Name": "Service", "Value": "s"}]}},
	"MathAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [
		{"Id": "a", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "errors", "Dimensions": [{"Name": "Service", "Value": "s"}]}, "Period": 300}},
		{"Id": "b", "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"}, "Period": 300}},
		{"Id": "e", "Expression": "a+b"}]}},
	"Filter": {"Type": "AWS::Logs::MetricFilter", "Properties": {"MetricTransformations": [{"MetricNamespace": "App", "MetricName": "gateway_5xx", "MetricValue": "1"}]}},
	"Board": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardBody": {"Fn::Join": ["", [
		"{\"widgets\":[{\"properties\":{\"metrics\":[[\"AWS/SQS\",\"Depth\",\"QueueName\",\"", {"Ref": "Q"}, "\"],",
		"[\"App\",\"processed\",\"Service\",\"s\",{\"stat\":\"Sum\"}],[\".\",\"failed\",\".\",\".\"],[{\"expression\":\"m1+m2\"}]]}}]}"]]}}},
	"WorkerFunctionAB12": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 256, "TracingConfig": {"Mode": "Active"}, "ReservedConcurrentExecutions": 1}},
	"EdgeFunctionCD34": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": 128, "TracingConfig": {"Mode": "Active"}}},
	"Every5": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "rate(5 minutes)", "Targets": [{"Arn": {"Fn::GetAtt": ["WorkerFunctionAB12", "Arn"]}}]}},
	"Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {}},
	"Key": {"Type": "AWS::KMS::Key", "Properties": {}}
}}`
	got, err := ReadTemplate(strings.NewReader(tmpl))
	require.NoError(t, err)
	assert.Equal(t, 3, got.Alarms, "the queue alarm, and the math alarm's two metrics")
	assert.Equal(t, 1, got.HighResolutionAlarms)
	assert.Equal(t, []string{"App/errors Service=s", "App/failed Service=s", "App/gateway_5xx", "App/processed Service=s"}, got.CustomMetrics)
	assert.Equal(t, []string{"App/gateway_5xx"}, got.FilterMetrics)
	assert.Equal(t, 1, got.Dashboards)
	assert.Equal(t, 1, got.Secrets)
	assert.Equal(t, 1, got.KMSKeys)
	assert.Equal(t, Function{MemoryMB: 256, Tracing: "Active", ReservedConcurrency: 1, RunsPerMonth: 730 * 12}, got.Functions["worker"])
	assert.Equal(t, Function{MemoryMB: 128, Tracing: "Active"}, got.Functions["edge"])

	fixed, upTo := Monthly(got, Deployment{XRaySampled: 0.05, XRayScans: 1})
	require.Len(t, upTo, 1)
	assert.Equal(t, "X-Ray reservoir, edge", upTo[0].Item)
	assert.InDelta(t, 2.628e6*5.5e-6, upTo[0].Dollars, 1e-9, "every request up to one a second")
	assert.InDelta(t, 3*0.10+0.30+4*0.30+3.00+0.40+1.00+730*12*5.5e-6, Total(fixed), 1e-9)
}

func TestRunsPerMonth(t *testing.T) {
	for expr, want := range map[string]float64{
		"rate(1 minute)":     43800,
		"rate(15 minutes)":   2920,
		"rate(2 hours)":      365,
		"cron(0 9 * * ? *)":  730 / 24.0,
		"cron(30 6 ? * * *)": 730 / 24.0,
	} {
		got, err := RunsPerMonth(expr)
		require.NoError(t, err, expr)
		assert.InDelta(t, want, got, 1e-9, expr)
	}
	_, err := RunsPerMonth("cron(0 9 ? * MON-FRI *)")
	assert.Error(t, err, "a weekday cron is not priced as daily")
}

func TestItemSize(t *testing.T) {
	tests := []struct {
		name string
		item map[string]av
		want int
	}{
		{"string", map[string]av{"pk": {"S": []byte(`"CONV#7#1"`)}}, 2 + 8},
		{"number", map[string]av{"n": {"N": []byte(`"12345"`)}}, 1 + 4},
		{"number with zeros and point", map[string]av{"n": {"N": []byte(`"-1200.50"`)}}, 1 + 4},
		{"binary", map[string]av{"b": {"B": []byte(`"AAECAw=="`)}}, 1 + 4},
		{"bool", map[string]av{"ok": {"BOOL": []byte(`true`)}}, 2 + 1},
		{"list", map[string]av{"l": {"L": []byte(`[{"S":"ab"},{"N":"1"}]`)}}, 1 + 3 + (1 + 2) + (1 + 2)},
		{"map", map[string]av{"m": {"M": []byte(`{"k":{"S":"v"}}`)}}, 1 + 3 + 1 + 1 + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ItemSize(tc.item))
		})
	}
}
