package edge

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestReplayCache(t *testing.T) {
	t0 := time.Unix(1778577268, 0)
	type call struct {
		delivery, sig string
		at            time.Duration
		want          bool
	}
	cases := map[string][]call{
		"same request twice":              {{"d1", "s1", 0, false}, {"d1", "s1", time.Second, true}},
		"new delivery id, same signature": {{"d1", "s1", 0, false}, {"d2", "s1", 0, false}},
		"same delivery id, new signature": {{"d1", "s1", 0, false}, {"d1", "s2", 0, false}},
		"the boundary of the fields":      {{"d1|", "s1", 0, false}, {"d1", "|s1", 0, false}},
		"after the window":                {{"d1", "s1", 0, false}, {"d1", "s1", 11 * time.Second, false}, {"d1", "s1", 12 * time.Second, true}},
		"the size bound evicts the oldest": {
			{"a", "s", 0, false}, {"b", "s", 0, false}, {"c", "s", 0, false}, {"d", "s", 0, false},
			{"a", "s", 0, false}, // evicted by d
			{"c", "s", 0, true}, {"d", "s", 0, true},
		},
	}
	for name, calls := range cases {
		t.Run(name, func(t *testing.T) {
			c := NewReplayCache(10*time.Second, 3)
			for i, k := range calls {
				assert.Equal(t, k.want, c.Seen(k.delivery, k.sig, t0.Add(k.at)), "call %d %+v", i, k)
			}
		})
	}
}

func BenchmarkReplayCache(b *testing.B) {
	c := NewReplayCache(10*time.Minute, 100_000)
	sig := "sha256=2f6684caab5fc94614182eae898de184a642d177afa55275aeb3b6500e3bb676"
	now := time.Now()
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = time.Duration(i).String()
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Seen(ids[i&(len(ids)-1)], sig, now)
		i++
	}
}
