package queue

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"
)

// SQS's limits, which every driver enforces so that what works locally works
// on AWS: a message (body and attributes together) of at most MaxMessageSize
// bytes, at most MaxAttributes attributes, and text made only of the
// characters SQS accepts.
const (
	MaxMessageSize = 1 << 20
	MaxAttributes  = 10
	// attrDataType is the data type every attribute is sent with; SQS counts
	// its bytes towards the message size.
	attrDataType = "String"
)

// ErrUnfit is returned by Send for a message the queue cannot carry. The
// claim check (package claim) sends such a body through the blob store.
var ErrUnfit = errors.New("queue: message does not fit")

// Fits reports why SQS would refuse body with attrs, or nil. Empty attribute
// values are not sent (SQS rejects them), so they neither count nor break
// the limit.
func Fits(body []byte, attrs map[string]string) error {
	if len(body) == 0 {
		return fmt.Errorf("%w: empty body", ErrUnfit)
	}
	size, n := len(body), 0
	for k, v := range attrs {
		if v == "" {
			continue
		}
		n++
		size += len(k) + len(attrDataType) + len(v)
		if i := invalidText(v); i >= 0 {
			return fmt.Errorf("%w: attribute %s: character not allowed at byte %d", ErrUnfit, k, i)
		}
	}
	if n > MaxAttributes {
		return fmt.Errorf("%w: %d attributes, at most %d", ErrUnfit, n, MaxAttributes)
	}
	if size > MaxMessageSize {
		return fmt.Errorf("%w: %d bytes with attributes, at most %d", ErrUnfit, size, MaxMessageSize)
	}
	if i := invalidText(string(body)); i >= 0 {
		return fmt.Errorf("%w: body: character not allowed at byte %d", ErrUnfit, i)
	}
	return nil
}

// invalidText returns the byte offset of the first character outside SQS's
// set (#x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF),
// or of the first invalid UTF-8 byte, or -1. Valid JSON may carry U+FFFE,
// U+FFFF and most control characters raw or escaped; only raw ones matter
// here, because SQS sees the bytes.
func invalidText(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r >= 0xD800 && r <= 0xDFFF || r == 0xFFFE || r == 0xFFFF {
			return i
		}
		i += size
	}
	return -1
}

// SafeJSON returns the JSON document b with the characters SQS refuses
// (U+FFFE, U+FFFF) written as \u escapes: the same JSON value, in bytes
// every driver takes. encoding/json writes them raw, and they can only
// occur inside strings, where an escape means the same character.
func SafeJSON(b []byte) []byte {
	const fffe, ffff = "\uFFFE", "\uFFFF"
	if !bytes.Contains(b, []byte(fffe)) && !bytes.Contains(b, []byte(ffff)) {
		return b
	}
	b = bytes.ReplaceAll(b, []byte(fffe), []byte(`\ufffe`))
	return bytes.ReplaceAll(b, []byte(ffff), []byte(`\uffff`))
}
