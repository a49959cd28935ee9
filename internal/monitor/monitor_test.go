package monitor

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"supportpipe/internal/queue"
)

func TestCrossingsReportedOnce(t *testing.T) {
	m := &Monitor{AlertDepth: 50, EscalateDepth: 100}
	obs := func(depth, dlq int64) []string {
		var out []string
		for _, e := range m.Observe(queue.Depth{Visible: depth}, queue.Depth{Visible: dlq}) {
			out = append(out, e.Alarm+":"+e.From+"→"+e.Level)
		}
		return out
	}
	assert.Empty(t, obs(50, 0), "50 is not above 50")
	assert.Equal(t, []string{"queue_depth:ok→alert"}, obs(51, 0))
	assert.Empty(t, obs(70, 0), "still alert: no repeat")
	assert.Equal(t, []string{"queue_depth:alert→escalate"}, obs(101, 0))
	assert.Empty(t, obs(150, 0))
	assert.Equal(t, []string{"queue_depth:escalate→alert"}, obs(60, 0))
	assert.Equal(t, []string{"queue_depth:alert→ok", "dlq_depth:ok→alert"}, obs(3, 1))
	assert.Empty(t, obs(3, 4))
	assert.Equal(t, []string{"dlq_depth:alert→ok"}, obs(0, 0))
}
