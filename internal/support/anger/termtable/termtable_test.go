package termtable

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPackAndGet(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 100, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(n), 1))
			m := make(map[string]float64, n)
			for len(m) < n {
				k := make([]byte, rng.IntN(12))
				for i := range k {
					k[i] = byte(rng.IntN(256))
				}
				m[string(k)] = rng.NormFloat64()
			}
			tab, err := Open(Pack(m))
			require.NoError(t, err)
			assert.Equal(t, n, tab.Len())
			for k, v := range m {
				assert.Equal(t, math.Float64bits(v), math.Float64bits(tab.Get(k)), "%q", k)
				assert.Equal(t, math.Float64bits(v), math.Float64bits(tab.GetBytes([]byte(k))), "%q", k)
			}
			got := map[string]float64{}
			prev := ""
			for k, v := range tab.All() {
				assert.True(t, prev == "" || k > prev, "sorted")
				got[k], prev = v, k
			}
			assert.Equal(t, m, got)
			for range 1000 {
				k := fmt.Sprint("absent", rng.Int())
				if _, ok := m[k]; !ok {
					assert.Zero(t, tab.Get(k))
				}
			}
		})
	}
}

func TestPackIsDeterministic(t *testing.T) {
	m := map[string]float64{"a": 1, "b b": -0.25, "": 3, "ünï": 1e-4, "~refu": 0.5}
	assert.Equal(t, Pack(m), Pack(m))
}

func TestOpenRejects(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("tt3\n"), []byte("xx1\n\x01\x00\x00\x00\x00\x00\x00\x00"), []byte("tt3\n\x03\x00\x00\x00\x00\x00\x00\x00" + "000000000000000000000000")} {
		_, err := Open(b)
		assert.Error(t, err, "%q", b)
	}
	var zero Table
	assert.Zero(t, zero.Get("a"))
}

var sink float64

// BenchmarkGet compares a lookup with a Go map's, on the anger model's
// terms and as many absent ones, as a message's word pairs mostly are.
func BenchmarkGet(b *testing.B) {
	js, err := os.ReadFile("../model.json")
	require.NoError(b, err)
	var model struct{ Terms map[string]float64 }
	require.NoError(b, json.Unmarshal(js, &model))
	m := model.Terms
	var keys [][]byte
	for k := range m {
		keys = append(keys, []byte(k), []byte(k+" x"))
	}
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	tab, err := Open(Pack(m))
	require.NoError(b, err)
	b.Run("table", func(b *testing.B) {
		i := 0
		for b.Loop() {
			sink += tab.GetBytes(keys[i%len(keys)])
			i++
		}
	})
	b.Run("map", func(b *testing.B) {
		i := 0
		for b.Loop() {
			sink += m[string(keys[i%len(keys)])]
			i++
		}
	})
}
