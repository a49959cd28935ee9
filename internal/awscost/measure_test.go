package awscost

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMeasure(t *testing.T) {
	tr := DefaultTraffic
	res, err := Measure(t.Context(), tr)
	require.NoError(t, err)
	t.Logf("%+v", res)
	t.Logf("ingest: %s", res.Ingest)
	t.Logf("processing: %s", res.Processing)
	t.Logf("processing items: %v", res.Processing.Items)
	Print(os.Stdout, Price(res, DefaultDeployment))
}
