package chatwoot

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strconv"
)

// stringEnd returns the index of the closing quote of the string whose
// content starts at i. strict checks the content as JSON requires (no raw
// control byte, valid escapes); otherwise any byte after a backslash is
// escaped, whatever it is. Each byte is looked at a bounded number of
// times, however many escapes the string has: searching for the quote
// again after each one made a million escapes take seconds.
func stringEnd(b []byte, i int, strict bool) (end int, escaped, ok bool) {
	q := -1 // the next quote at or after i
	for {
		if q < i {
			n := bytes.IndexByte(b[i:], '"')
			if n < 0 {
				return -1, escaped, false
			}
			q = i + n
		}
		seg := b[i:q]
		bs := bytes.IndexByte(seg, '\\')
		if bs < 0 {
			return q, escaped, !strict || !hasControl(seg)
		}
		if strict && hasControl(seg[:bs]) {
			return -1, escaped, false
		}
		escaped = true
		i += bs + 1 // the escaped byte
		if i >= len(b) {
			return -1, escaped, false
		}
		n := 1
		if strict {
			if n = escapeLen(b[i:]); n == 0 {
				return -1, escaped, false
			}
		}
		i += n
	}
}

// escapeLen is the length of the escape that starts e (after its
// backslash), or 0 if it is not one JSON allows.
func escapeLen(e []byte) int {
	switch e[0] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 1
	case 'u':
		if len(e) < 5 {
			return 0
		}
		for _, h := range e[1:5] {
			if !isHex(h) {
				return 0
			}
		}
		return 5
	}
	return 0
}

func isHex(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

// hasControl says whether b has a byte below 0x20, which JSON strings may
// not hold raw; eight bytes at a time.
func hasControl(b []byte) bool {
	const lo, hi = 0x2020202020202020, 0x8080808080808080
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		if (x-lo)&^x&hi != 0 {
			return true
		}
		b = b[8:]
	}
	for _, x := range b {
		if x < 0x20 {
			return true
		}
	}
	return false
}

func digits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// parseInt is strconv.ParseInt(raw, 10, 64) of a JSON number, without its
// allocations in the common case.
func parseInt(raw []byte) (int64, bool) {
	neg := len(raw) > 0 && raw[0] == '-'
	digs := raw
	if neg {
		digs = raw[1:]
	}
	if len(digs) == 0 || len(digs) > 18 {
		n, err := strconv.ParseInt(string(raw), 10, 64)
		return n, err == nil
	}
	var n int64
	for _, b := range digs {
		if b < '0' || b > '9' {
			return 0, false // a fraction or an exponent
		}
		n = n*10 + int64(b-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// fitsFloat says whether a JSON number decodes into a float64, which an
// interface{} gets: only a huge exponent or mantissa can overflow.
func fitsFloat(raw []byte) bool {
	if len(raw) < 300 && bytes.IndexAny(raw, "eE") < 0 {
		return true
	}
	_, err := strconv.ParseFloat(string(raw), 64)
	return err == nil
}

// unquote returns the content of the JSON string literal q.
func unquote(q []byte) (string, bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", false
	}
	if bytes.IndexByte(q, '\\') < 0 {
		return string(q[1 : len(q)-1]), true
	}
	var s string
	return s, json.Unmarshal(q, &s) == nil
}
