// Package termtable stores a string → float64 map as one read-only byte
// slice: a hash table with open addressing whose layout is fixed when the
// table is built. A table embedded in the binary is used where it lies, so
// opening it costs nothing, where building a Go map of the anger model's
// 40,000 terms took a third of the processor's cold start. A lookup costs
// about what a Go map's does.
//
// A table is laid out as (integers little-endian):
//
//	"tt3\n"               magic and version
//	uint32 slots          a power of two, at least 4/3 of the number of keys
//	uint32 values         the number of distinct values
//	byte × slots          a tag per slot: 0 if empty, else 7 bits of its key's hash | 0x80
//	uint32 × slots        offset of the slot's record in records
//	float64 × values      the distinct values, in the order of their bits
//	records               per key: uvarint length, the key, uvarint index of its value
//
// The slot of a key is the top bits of its hash (see hash) times a
// Fibonacci constant, or the next free one after it (linear probing). A
// lookup reads a key's record only when the slot's tag matches, so an
// absent key, as most of a message's word pairs are, costs a few bytes of
// tags. Values are stored once each: the anger model's 40,000 weights
// (four decimals) take 5,862 values, so a record holds two bytes of index
// instead of eight of value, and the table is smaller than the JSON it
// comes from. Keys are inserted in sorted order, so the same map always
// gives the same bytes.
package termtable

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"math/bits"
	"slices"
	"unsafe"
)

const magic = "tt3\n"

// A Table is a packed map. The zero Table is empty.
type Table struct {
	tags    []byte
	offsets []byte // 4 bytes a slot
	values  []byte // 8 bytes a value
	records []byte
	shift   uint // 64 - log2(number of slots)
	mask    uint64
}

// Pack lays out m as a table.
func Pack(m map[string]float64) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// At most three quarters full: with the tags, an absent key reads two
	// or three of them on average.
	n := 1
	for 3*n < 4*len(keys) {
		n <<= 1
	}
	var values []float64
	for _, v := range m {
		values = append(values, v)
	}
	slices.SortFunc(values, func(a, b float64) int { return cmp.Compare(math.Float64bits(a), math.Float64bits(b)) })
	values = slices.CompactFunc(values, func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) })
	index := make(map[uint64]int, len(values))
	for i, v := range values {
		index[math.Float64bits(v)] = i
	}
	tags := make([]byte, n)
	offsets := make([]byte, 4*n)
	var records []byte
	shift, mask := uint(64-bits.TrailingZeros(uint(n))), uint64(n-1)
	for _, k := range keys {
		h := hash(k)
		i := slot(h, shift)
		for tags[i] != 0 {
			i = (i + 1) & mask
		}
		tags[i] = tag(h)
		binary.LittleEndian.PutUint32(offsets[4*i:], uint32(len(records)))
		records = binary.AppendUvarint(records, uint64(len(k)))
		records = append(records, k...)
		records = binary.AppendUvarint(records, uint64(index[math.Float64bits(m[k])]))
	}
	b := make([]byte, 0, len(magic)+8+len(tags)+len(offsets)+8*len(values)+len(records))
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(values)))
	b = append(b, tags...)
	b = append(b, offsets...)
	for _, v := range values {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return append(b, records...)
}

// Open returns the table laid out in b, which it uses in place: b must not
// change while the table is in use. It checks the header only; Pack's
// output is the only valid input.
func Open(b []byte) (Table, error) {
	if len(b) < len(magic)+8 || string(b[:len(magic)]) != magic {
		return Table{}, errors.New("termtable: not a table")
	}
	b = b[len(magic):]
	n := uint64(binary.LittleEndian.Uint32(b))
	v := uint64(binary.LittleEndian.Uint32(b[4:]))
	b = b[8:]
	if n == 0 || n&(n-1) != 0 || uint64(len(b)) < 5*n+8*v {
		return Table{}, fmt.Errorf("termtable: bad sizes: %d slots, %d values", n, v)
	}
	return Table{
		tags:    b[:n],
		offsets: b[n : 5*n],
		values:  b[5*n : 5*n+8*v],
		records: b[5*n+8*v:],
		shift:   uint(64 - bits.TrailingZeros64(n)),
		mask:    n - 1,
	}, nil
}

// Get returns the value of key, or 0 if it has none, as a Go map would.
func (t *Table) Get(key string) float64 {
	if len(t.tags) == 0 {
		return 0
	}
	h := hash(key)
	want := tag(h)
	for i := slot(h, t.shift); ; i = (i + 1) & t.mask {
		switch t.tags[i] {
		case 0:
			return 0
		case want:
			r := t.records[binary.LittleEndian.Uint32(t.offsets[4*i:]):]
			n, w := uint64(r[0]), 1
			if n >= 0x80 {
				n, w = binary.Uvarint(r)
			}
			if n == uint64(len(key)) && string(r[w:w+int(n)]) == key {
				return t.value(r[w+int(n):])
			}
		}
	}
}

// GetBytes is Get for a key in a byte slice. The key is only read during
// the call, so it is not copied into a string (which, for a key over 32
// bytes, would be an allocation per lookup).
func (t *Table) GetBytes(key []byte) float64 {
	return t.Get(unsafe.String(unsafe.SliceData(key), len(key)))
}

// Len returns the number of keys.
func (t *Table) Len() int {
	n := 0
	for range t.All() {
		n++
	}
	return n
}

// All yields the keys and their values in sorted order.
func (t *Table) All() iter.Seq2[string, float64] {
	return func(yield func(string, float64) bool) {
		r := t.records
		for len(r) > 0 {
			n, w := binary.Uvarint(r)
			k := string(r[w : w+int(n)])
			r = r[w+int(n):]
			if !yield(k, t.value(r)) {
				return
			}
			_, w = binary.Uvarint(r)
			r = r[w:]
		}
	}
}

// value returns the value whose index starts r.
func (t *Table) value(r []byte) float64 {
	i, _ := binary.Uvarint(r)
	return math.Float64frombits(binary.LittleEndian.Uint64(t.values[8*i:]))
}

// hash is a fixed hash, unlike the runtime's, so that a table built once is
// read the same by every process. It mixes 8 bytes at a time, as wyhash
// does (most keys are a word or two, under 16 bytes): hashing a byte at a
// time, as FNV-1a does, made a lookup about 1.5 times a Go map's.
func hash(key string) uint64 {
	const (
		k0 = 0xa0761d6478bd642f
		k1 = 0xe7037ed1a0b428db
	)
	n := len(key)
	var a, b uint64
	switch {
	case n >= 8:
		i := 0
		h := uint64(k0)
		for ; n-i > 16; i += 8 {
			h = mix(le64(key, i)^k1, h^k0)
		}
		a, b = le64(key, i)^h, le64(key, n-8)
	case n >= 4:
		a, b = le32(key, 0), le32(key, n-4)
	case n > 0:
		a = uint64(key[0])<<16 | uint64(key[n/2])<<8 | uint64(key[n-1])
	}
	return mix(a^k1, b^k0^uint64(n))
}

// mix is wyhash's: the two halves of a 128-bit product, xored.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

func le64(b string, i int) uint64 {
	b = b[i : i+8]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

func le32(b string, i int) uint64 {
	b = b[i : i+4]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24
}

// tag is the hash's low 7 bits, with the top bit set so that it is never 0
// (empty). The slot comes from the top bits of a product, so keys of one
// slot seldom share a tag.
func tag(h uint64) byte {
	return byte(h) | 0x80
}

// slot takes the top bits of the hash, spread by Fibonacci hashing.
func slot(h uint64, shift uint) uint64 {
	return (h * 0x9E3779B97F4A7C15) >> shift
}

// Join lays out tables one after another, each after its length, as
// OpenAll reads them: a file of several tables.
func Join(tables ...[]byte) []byte {
	var b []byte
	for _, t := range tables {
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	return b
}

// OpenAll opens the tables that Join laid out in b, in place.
func OpenAll(b []byte) ([]Table, error) {
	var tables []Table
	for len(b) > 0 {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return nil, errors.New("termtable: truncated")
		}
		t, err := Open(b[w : w+int(n)])
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
		b = b[w+int(n):]
	}
	return tables, nil
}
