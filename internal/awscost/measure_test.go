package awscost

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCostPerMillion runs the traffic model through the real handlers and
// the DynamoDB driver and holds the design to its budget: a change that
// adds a write per webhook shows up here, not on the bill.
func TestCostPerMillion(t *testing.T) {
	tr := DefaultTraffic
	tr.Events = 1000
	res, err := Measure(t.Context(), tr)
	require.NoError(t, err)
	lines := Price(res, DefaultDeployment)
	var b strings.Builder
	Print(&b, lines)
	t.Logf("%d webhooks, %d batches\ningest: %s\nprocessing: %s\nitems: %v\n%s",
		res.Webhooks, res.Batches, res.Ingest, res.Processing, res.Processing.Items, b.String())

	assert.Equal(t, 1050+20, res.Webhooks, "1,000 events, 5 % duplicates, 2 % re-emissions")
	assert.Equal(t, res.Webhooks, res.QueueSends, "every webhook was enqueued")
	assert.LessOrEqual(t, res.Ingest.WRU, 1.0, "an accepted webhook writes nothing to DynamoDB but the last-accepted mark, once a minute")
	perWebhook := res.Processing.WRU / float64(res.Webhooks)
	assert.Less(t, perWebhook, 4.5, "WRU per webhook")
	assert.Greater(t, perWebhook, 2.0, "a completion alone is 2 WRU (transactional put): the meter must see it")
	assert.LessOrEqual(t, Total(lines), 5.0, "dollars per million webhooks")
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
