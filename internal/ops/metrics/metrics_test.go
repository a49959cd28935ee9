package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/pipeline/processor"
)

var _ processor.Metrics = (*Recorder)(nil)

// parse reads EMF lines back, checking each against the EMF specification:
// an _aws object with a millisecond Timestamp and CloudWatchMetrics
// directives whose dimensions are top-level strings and whose metrics are
// top-level numbers or arrays of at most 100 numbers.
func parse(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "each line is one JSON object")
		var aws struct {
			Timestamp         *int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		}
		raw, err := json.Marshal(line["_aws"])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &aws))
		require.NotNil(t, aws.Timestamp, "_aws.Timestamp")
		assert.InDelta(t, time.Now().UnixMilli(), *aws.Timestamp, 60_000, "Timestamp is epoch milliseconds")
		require.Len(t, aws.CloudWatchMetrics, 1)
		d := aws.CloudWatchMetrics[0]
		assert.Equal(t, Namespace, d.Namespace)
		assert.Equal(t, [][]string{{"Service"}}, d.Dimensions, "one low-cardinality dimension set")
		for _, set := range d.Dimensions {
			for _, dim := range set {
				assert.IsType(t, "", line[dim], "dimension %s is a top-level string", dim)
			}
		}
		require.NotEmpty(t, d.Metrics)
		assert.LessOrEqual(t, len(d.Metrics), 100)
		for _, m := range d.Metrics {
			assert.Contains(t, []string{"Milliseconds", "Count", "None"}, m.Unit)
			switch v := line[m.Name].(type) {
			case float64:
			case []any:
				assert.NotEmpty(t, v)
				assert.LessOrEqual(t, len(v), 100, "at most 100 values per metric per line")
				for _, x := range v {
					assert.IsType(t, 0.0, x, "metric %s values are numbers", m.Name)
				}
			default:
				t.Errorf("metric %s has no number value: %#v", m.Name, v)
			}
		}
		lines = append(lines, line)
	}
	require.NoError(t, sc.Err())
	return lines
}

func TestFlush(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "supportpipe-processor")
	require.NoError(t, r.Flush())
	assert.Empty(t, buf.String(), "nothing recorded, nothing written")

	r.Message("processed", 12500*time.Microsecond)
	r.Message("processed", 3*time.Millisecond)
	r.Message("duplicate", time.Millisecond)
	r.Message("redelivered", 0)
	r.Message("retry", 40*time.Millisecond)
	r.Message("retry", 41*time.Millisecond)
	r.Message("dead_lettered", 2*time.Second)
	r.Message("something new", time.Millisecond)
	r.Reject("bad_signature")
	r.Reject("bad_signature")
	r.Reject("too_large")
	require.NoError(t, r.Flush())

	lines := parse(t, buf.Bytes())
	require.Len(t, lines, 1, "one line per flush")
	l := lines[0]
	assert.Equal(t, "supportpipe-processor", l["Function"])
	assert.Equal(t, Service, l["Service"], "the dimension the stack alarms on")
	assert.Equal(t, []any{12.5, 3.0, 1.0, 0.0, 40.0, 41.0, 2000.0, 1.0}, l[ProcessingTime])
	for name, want := range map[string]float64{
		Processed: 2, Duplicates: 1, Redelivered: 1, Retries: 2, Failures: 3, DeadLettered: 1, Rejected: 3,
	} {
		assert.Equal(t, want, l[name], name)
	}
	assert.Equal(t, map[string]any{"bad_signature": 2.0, "too_large": 1.0}, l[ReasonsProperty])
	assert.NotContains(t, l["_aws"], ReasonsProperty)
	units := map[string]string{}
	for _, m := range l["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any) {
		units[m.(map[string]any)["Name"].(string)] = m.(map[string]any)["Unit"].(string)
	}
	assert.Equal(t, map[string]string{
		ProcessingTime: "Milliseconds", Processed: "Count", Duplicates: "Count", Redelivered: "Count",
		Retries: "Count", Failures: "Count", DeadLettered: "Count", Rejected: "Count",
	}, units, "declared metrics are exactly the ones in the line")

	buf.Reset()
	require.NoError(t, r.Flush())
	assert.Empty(t, buf.String(), "a flush forgets what it wrote")

	r.Reject("schema")
	require.NoError(t, r.Flush())
	lines = parse(t, buf.Bytes())
	require.Len(t, lines, 1)
	assert.NotContains(t, lines[0], ProcessingTime, "only recorded metrics are declared")
	assert.Equal(t, 1.0, lines[0][Rejected])
}

func TestFlushSplitsBeyondHundredValues(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "fn")
	for i := range 250 {
		r.Message("processed", time.Duration(i)*time.Millisecond)
	}
	require.NoError(t, r.Flush())
	lines := parse(t, buf.Bytes())
	require.Len(t, lines, 3)
	var times []any
	for _, l := range lines {
		times = append(times, l[ProcessingTime].([]any)...)
	}
	require.Len(t, times, 250)
	for i, v := range times {
		assert.Equal(t, float64(i), v, "values in order across lines")
	}
	assert.Equal(t, 250.0, lines[0][Processed])
	assert.NotContains(t, lines[1], Processed, "counts are written once")
	assert.NotContains(t, lines[2], Processed)
}

// TestFlushTimeMetrics checks that each time metric is split on its own:
// the lines carry as many as the longest needs, and a shorter one only in
// the first.
func TestFlushTimeMetrics(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, "fn")
	for i := range 150 {
		r.Message("processed", time.Duration(i)*time.Millisecond)
	}
	for i := range 30 {
		r.Duration(DraftTime, time.Duration(i)*time.Millisecond)
	}
	require.NoError(t, r.Flush())
	lines := parse(t, buf.Bytes())
	require.Len(t, lines, 2)
	assert.Len(t, lines[0][ProcessingTime], 100)
	assert.Len(t, lines[0][DraftTime], 30)
	assert.Len(t, lines[1][ProcessingTime], 50)
	assert.NotContains(t, lines[1], DraftTime)
}

func TestConcurrent(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	r := New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), "fn")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range 50 {
				r.Message("retry", time.Millisecond)
				r.Reject("bad_signature")
				if i%10 == 0 {
					assert.NoError(t, r.Flush())
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, r.Flush())
	var retries, rejected float64
	var times int
	for _, l := range parse(t, buf.Bytes()) {
		retries += num(l[Retries])
		rejected += num(l[Rejected])
		if v, ok := l[ProcessingTime].([]any); ok {
			times += len(v)
		}
	}
	assert.Equal(t, 400.0, retries)
	assert.Equal(t, 400.0, rejected)
	assert.Equal(t, 400, times)
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestWriteError(t *testing.T) {
	r := New(writerFunc(func([]byte) (int, error) { return 0, errors.New("closed") }), "fn")
	r.Message("processed", time.Millisecond)
	assert.ErrorContains(t, r.Flush(), "metrics: write: closed")
}

func TestGauge(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, "sweeper")
	r.Gauge(SpoolOldestAge, 12)
	r.Gauge(SpoolOldestAge, 960.5) // the last value before Flush wins
	r.Count(SpoolFailures, 0)
	require.NoError(t, r.Flush())
	lines := parse(t, out.Bytes())
	require.Len(t, lines, 1)
	assert.Equal(t, 960.5, lines[0][SpoolOldestAge])
	assert.Equal(t, 0.0, lines[0][SpoolFailures], "a zero count is written: the alarm sees the drain ran")

	out.Reset()
	require.NoError(t, r.Flush())
	assert.Empty(t, out.String(), "a gauge is written once")
}
