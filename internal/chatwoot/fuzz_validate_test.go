package chatwoot

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzValidate: the structural scan never panics, and whatever it passes
// that is valid JSON has no duplicate keys per encoding/json's own reading.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"a":{"b":[1,{"c":"\u0063"}]}}`))
	f.Add([]byte(`{"a":1,"\u0061":2}`))
	f.Add([]byte(`{"s":"\"}{"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		err := Validate(body)
		if err != nil && !errors.Is(err, ErrNotJSON) && !errors.Is(err, ErrDuplicateKey) && !errors.Is(err, ErrTooDeep) {
			t.Fatalf("undocumented error %v", err)
		}
		if err == nil && json.Valid(body) {
			var top map[string]json.RawMessage
			if json.Unmarshal(body, &top) == nil {
				// Count top-level keys with a decoder: a duplicate would show
				// as fewer map entries than keys.
				dec := json.NewDecoder(bytesReader(body))
				if _, err := dec.Token(); err != nil {
					return
				}
				n := 0
				for dec.More() {
					if _, err := dec.Token(); err != nil {
						return
					}
					var v json.RawMessage
					if err := dec.Decode(&v); err != nil {
						return
					}
					n++
				}
				if n != len(top) {
					t.Fatalf("passed a duplicate top-level key: %q", body)
				}
			}
		}
	})
}
