package chatwoot

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func escapedBody() []byte {
	return []byte(`{"event":"message_created","id":1,"conversation":{"id":2},"content":"` +
		strings.Repeat(`\n\"`, 250_000) + `"}`)
}

// A string of many escapes, escaped quotes among them, ends where it ends.
func TestManyEscapes(t *testing.T) {
	body := escapedBody()
	start := strings.Index(string(body), `"content":"`) + len(`"content":"`)
	for _, strict := range []bool{false, true} {
		end, esc, ok := stringEnd(body, start, strict)
		require.True(t, ok)
		require.True(t, esc)
		require.Equal(t, len(body)-2, end)
	}
	_, err := Check(body)
	require.NoError(t, err)
}

// BenchmarkManyEscapes: linear in the string's length (searching for the
// closing quote again after each escape took ~5 s for this 1 MB body).
func BenchmarkManyEscapes(b *testing.B) {
	body := escapedBody()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Check(body); err != nil {
			b.Fatal(err)
		}
	}
}
