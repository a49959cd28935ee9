package sqlitequeue

import (
	"encoding/json"
	"testing"
)

func TestEncodeAttrsIsJSONMarshal(t *testing.T) {
	for _, attrs := range []map[string]string{
		nil,
		{},
		{"delivery_id": "7d8f7f5e-2c4b", "account_id": "42", "event": "message_created", "received_at": "2026-11-28T10:20:00.123456789Z"},
		{"a": `quote " here`},
		{"a": `back\\slash`},
		{"a": "<html> & co"},
		{"a": "tab\there", "b": "é", "c": "\xff"},
		{"": ""},
	} {
		want, _ := json.Marshal(attrs)
		got, err := encodeAttrs(attrs)
		if err != nil || string(got) != string(want) {
			t.Errorf("%q: got %s, %v; want %s", attrs, got, err, want)
		}
	}
}

func FuzzEncodeAttrs(f *testing.F) {
	f.Add("k", "v", "k2", "v2")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		attrs := map[string]string{k1: v1, k2: v2}
		want, _ := json.Marshal(attrs)
		got, err := encodeAttrs(attrs)
		if err != nil || string(got) != string(want) {
			t.Fatalf("%q: got %s, %v; want %s", attrs, got, err, want)
		}
	})
}
