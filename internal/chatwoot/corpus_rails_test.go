package chatwoot_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// What the corpus generator needs of Ruby and Rails to write bodies byte for
// byte as Chatwoot does: @payload.to_json in lib/webhooks/trigger.rb, i.e.
// ActiveSupport's JSON encoding of Ruby hashes.

// hash is a Ruby Hash: to_json writes its keys in insertion order.
type hash []pair

type pair struct {
	key string
	val any
}

// h builds a hash from alternating keys and values, as a Ruby hash literal.
func h(kv ...any) hash {
	if len(kv)%2 != 0 {
		panic("h: odd number of arguments")
	}
	out := make(hash, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		out = append(out, pair{kv[i].(string), kv[i+1]})
	}
	return out
}

// merge is Ruby's Hash#merge: a key already present keeps its place and
// takes the new value, a new key goes last. Chatwoot builds payloads by
// merging (the event name, account, changed_attributes), so where a key
// lands depends on it.
func (x hash) merge(kv ...any) hash {
	out := append(hash(nil), x...)
	for _, p := range h(kv...) {
		if i := out.index(p.key); i >= 0 {
			out[i].val = p.val
		} else {
			out = append(out, p)
		}
	}
	return out
}

func (x hash) index(key string) int {
	for i, p := range x {
		if p.key == key {
			return i
		}
	}
	return -1
}

// isoTime is an ActiveSupport::TimeWithZone in UTC: as_json writes
// xmlschema(3), milliseconds truncated, "Z".
type isoTime time.Time

// dateTime is a Ruby DateTime (the Mail gem's Date header): xmlschema(3)
// with a numeric offset, "+00:00" even in UTC.
type dateTime time.Time

// epochF is a Time#to_f, as Chatwoot writes a conversation's updated_at.
type epochF time.Time

// rubyFloat is a Float column (SLA thresholds): Float#to_s keeps ".0".
type rubyFloat float64

// railsJSON encodes v as ActiveSupport does.
func railsJSON(v any) []byte {
	var b bytes.Buffer
	encode(&b, v)
	return b.Bytes()
}

func encode(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case rubyFloat:
		b.WriteString(formatRubyFloat(float64(v)))
	case string:
		encodeString(b, v)
	case isoTime:
		encodeString(b, time.Time(v).UTC().Format("2006-01-02T15:04:05.000Z"))
	case dateTime:
		encodeString(b, time.Time(v).Format("2006-01-02T15:04:05.000-07:00"))
	case epochF:
		t := time.Time(v)
		// Time#to_f rounds the exact rational seconds to the nearest double.
		r := new(big.Rat).SetFrac(big.NewInt(t.UnixNano()), big.NewInt(1e9))
		f, _ := r.Float64()
		b.WriteString(formatRubyFloat(f))
	case hash:
		b.WriteByte('{')
		for i, p := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			encodeString(b, p.key)
			b.WriteByte(':')
			encode(b, p.val)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			encode(b, e)
		}
		b.WriteByte(']')
	case []string:
		encode(b, toAny(v))
	case []hash:
		encode(b, toAny(v))
	default:
		panic(fmt.Sprintf("railsJSON: no Ruby value for %T", v))
	}
}

func toAny[T any](s []T) []any {
	out := make([]any, len(s))
	for i, e := range s {
		out[i] = e
	}
	return out
}

// encodeString writes s as the json gem does, then ActiveSupport's escapes
// (escape_html_entities_in_json): '<', '>' and '&' as \u003c, \u003e,
// \u0026, U+2028 and U+2029 escaped, '/' as it is, other non-ASCII raw.
// encoding/json with HTML escaping writes exactly that.
func encodeString(b *bytes.Buffer, s string) {
	if !utf8.ValidString(s) {
		panic("railsJSON: Chatwoot's strings are UTF-8")
	}
	q, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	b.Write(q)
}

// formatRubyFloat is Float#to_s for the magnitudes a payload holds: the
// shortest digits that read back as f, always with a fraction.
func formatRubyFloat(f float64) string {
	if f != 0 && (f < 1e-4 || f >= 1e16) {
		panic("formatRubyFloat: Ruby would use an exponent")
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// truncate is ActiveSupport's String#truncate(n): at most n characters,
// the last three of them "..." when it cuts.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}

// normalizeWebhookContent is Messages::WebhookContentNormalizer.normalize:
// the dashboard editor's markdown hard breaks (a backslash before a newline)
// become plain newlines, trailing newlines go.
func normalizeWebhookContent(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	s = strings.ReplaceAll(s, "\\\r\n", "\n")
	s = strings.ReplaceAll(s, "\\\n", "\n")
	for strings.HasSuffix(s, "\n") {
		s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	}
	return s
}
