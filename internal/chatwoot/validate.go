package chatwoot

import (
	"encoding/json"
	"errors"
	"fmt"
)

// MaxDepth is the deepest nesting a payload may have. Chatwoot's payloads
// nest about six levels; anything far deeper is an attack on the parser.
const MaxDepth = 64

// Structural problems that are not merely invalid JSON.
var (
	ErrDuplicateKey = errors.New("duplicate object key")
	ErrTooDeep      = errors.New("nesting too deep")
)

// Validate checks what json.Unmarshal lets through silently: a key repeated
// in one object (Go keeps the last; another parser might keep the first, and
// the two would disagree about what was signed) and extreme nesting.
func Validate(body []byte) error {
	_, err := scan(body)
	return err
}

// scan is Validate in one allocation-light pass over the bytes, which also
// picks out the top-level "event" string (raw, still JSON-escaped if it has
// escapes). Full syntax checking is left to the decoder that runs next.
func scan(body []byte) (event []byte, err error) {
	var stack []*object // nil entries are arrays
	expectKey := false
	eventNext := false // the value after the top-level key "event" comes next
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '{':
			stack = append(stack, &object{})
			expectKey, eventNext = true, false
		case '[':
			stack = append(stack, nil)
			expectKey, eventNext = false, false
		case '}', ']':
			if len(stack) == 0 {
				return nil, ErrNotJSON
			}
			stack = stack[:len(stack)-1]
			expectKey = false
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1] != nil
		case '"':
			end, hasEscape := scanString(body, i+1)
			if end < 0 {
				return nil, ErrNotJSON
			}
			switch {
			case expectKey && len(stack) > 0 && stack[len(stack)-1] != nil:
				key := string(body[i+1 : end])
				if hasEscape {
					if err := json.Unmarshal(body[i:end+1], &key); err != nil {
						return nil, ErrNotJSON
					}
				}
				if err := stack[len(stack)-1].add(key); err != nil {
					return nil, err
				}
				expectKey = false
				eventNext = len(stack) == 1 && key == "event"
			case eventNext:
				event, eventNext = body[i:end+1], false
			}
			i = end
		default:
			if eventNext && c > ' ' && c != ':' {
				eventNext = false // a non-string value
			}
		}
		if len(stack) > MaxDepth {
			return nil, ErrTooDeep
		}
	}
	if len(stack) != 0 {
		return nil, ErrNotJSON
	}
	return event, nil
}

// scanString returns the index of the closing quote of a string whose
// content starts at i, or -1.
func scanString(b []byte, i int) (end int, hasEscape bool) {
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			hasEscape = true
			i++
		case '"':
			return i, hasEscape
		}
	}
	return -1, hasEscape
}

// object tracks the keys of one JSON object being scanned.
type object struct {
	keys []string
	set  map[string]struct{} // once an object has many keys, so a hostile one stays linear
}

func (o *object) add(k string) error {
	if o.set != nil {
		if _, dup := o.set[k]; dup {
			return fmt.Errorf("%w %q", ErrDuplicateKey, truncate(k, 40))
		}
		o.set[k] = struct{}{}
		return nil
	}
	for _, x := range o.keys {
		if x == k {
			return fmt.Errorf("%w %q", ErrDuplicateKey, truncate(k, 40))
		}
	}
	o.keys = append(o.keys, k)
	if len(o.keys) > 32 {
		o.set = make(map[string]struct{}, 64)
		for _, x := range o.keys {
			o.set[x] = struct{}{}
		}
		o.keys = nil
	}
	return nil
}
