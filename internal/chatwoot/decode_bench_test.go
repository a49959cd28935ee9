package chatwoot

import (
	"os"
	"testing"
)

func benchBody(b *testing.B) []byte {
	body, err := os.ReadFile("../../testdata/chatwoot/02_message_created_incoming.json")
	if err != nil {
		b.Skip(err)
	}
	return body
}

func BenchmarkValidate(b *testing.B) {
	body := benchBody(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := Validate(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	body := benchBody(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(body); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPayload is the kind of payload cmd/bench sends.
var benchPayload = []byte(`{"event":"message_created","id":12345,"content":"Hi, I was charged twice for order #A-12345, can someone help?","message_type":"incoming","private":false,"created_at":"2026-11-29T02:20:08.123456789Z","account":{"id":7,"name":"Northwind"},"inbox":{"id":4,"name":"Web"},"sender":{"id":5512,"name":"Priya"},"conversation":{"id":2346,"inbox_id":4,"status":"open","labels":[],"updated_at":1778577267.604113,"created_at":1778577267,"messages":[]}}`)

func BenchmarkDecodeSmall(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(benchPayload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck is the edge's cost per payload (BenchmarkDecode builds it).
func BenchmarkCheck(b *testing.B) {
	body := benchBody(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckSmall(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Check(benchPayload); err != nil {
			b.Fatal(err)
		}
	}
}
