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
