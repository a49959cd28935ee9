package edge

import (
	"encoding/json"
	"testing"
)

func TestResponseJSONIsMarshal(t *testing.T) {
	for _, r := range []response{
		{Status: "accepted", ID: "0193a0b4-7c1e-7f3a-9d2b-4c5d6e7f8091"},
		{Status: "accepted", ID: "d-1", Ignored: true},
		{Status: "accepted", ID: "x", Spooled: true},
		{Status: "accepted", ID: "x", InvalidPayload: true, Spooled: true},
		{Status: "rejected", Error: "signature does not match"},
		{Status: "rejected", Error: `payload does not match the event's schema: field "id": expected int64, got string`},
		{Status: "rejected", Error: "<script>&"},
		{Status: "error", Error: "temporarily unavailable"},
		{Status: "accepted", ID: "é\x00"},
		{},
	} {
		want, _ := json.Marshal(r)
		if got := r.json(); got != string(want) {
			t.Errorf("%+v: got %s, want %s", r, got, want)
		}
	}
}

func FuzzResponseJSON(f *testing.F) {
	f.Add("accepted", "id", "", false, false, false)
	f.Fuzz(func(t *testing.T, status, id, msg string, ignored, spooled, invalid bool) {
		r := response{Status: status, ID: id, Error: msg, Ignored: ignored, Spooled: spooled, InvalidPayload: invalid}
		want, _ := json.Marshal(r)
		if got := r.json(); got != string(want) {
			t.Fatalf("%+v: got %s, want %s", r, got, want)
		}
	})
}
