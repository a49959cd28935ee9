package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseDiskstats(t *testing.T) {
	const stats = `   7       0 loop0 9 0 18 0 0 0 0 0 0 4 0 0 0 0 0 0 0
   7       1 loop1 9 0
 254       0 vda 2917038 384951 107717394 3372218 21046247 1007841 749353480 7867364 2 3048116 13129229 11 0 88 52 227750 6992371
 254       1 vda1 5 0 10 1 6 0 12 1 0 1 2
   8      16 sdb 100 0 0 0 200 0 0 0 3 0 0
`
	key := func(major, minor string) [2][]byte { return [2][]byte{[]byte(major), []byte(minor)} }
	tests := []struct {
		name              string
		key               [2][]byte
		completed, flight int64
		ok                bool
	}{
		{"reads, writes, discards and flushes", key("254", "0"), 2917038 + 21046247 + 11 + 227750, 2, true},
		{"a kernel without discard and flush fields", key("8", "16"), 300, 3, true},
		{"a partition", key("254", "1"), 11, 0, true},
		{"a line cut short", key("7", "1"), 0, 0, false},
		{"no such device", key("9", "9"), 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			completed, flight, ok := parseDiskstats([]byte(stats), tt.key)
			assert.Equal(t, tt.ok, ok)
			if ok {
				assert.Equal(t, tt.completed, completed)
				assert.Equal(t, tt.flight, flight)
			}
		})
	}
}
