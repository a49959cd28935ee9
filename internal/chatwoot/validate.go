package chatwoot

import (
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
	// The open containers, innermost last, and the keys of the open objects:
	// an object's keys are keys[f.start:], and are dropped when it closes,
	// before its parent can add another. Both start on the stack.
	var framesBuf [16]frame
	var keysBuf [64][]byte
	frames, keys := framesBuf[:0], keysBuf[:0]
	expectKey := false
	eventNext := false // the value after the top-level key "event" comes next
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case '{':
			frames = append(frames, frame{start: len(keys)})
			expectKey, eventNext = true, false
		case '[':
			frames = append(frames, frame{array: true})
			expectKey, eventNext = false, false
		case '}', ']':
			if len(frames) == 0 {
				return nil, ErrNotJSON
			}
			if f := frames[len(frames)-1]; !f.array {
				keys = keys[:f.start]
			}
			frames = frames[:len(frames)-1]
			expectKey = false
		case ',':
			expectKey = len(frames) > 0 && !frames[len(frames)-1].array
		case '"':
			end, hasEscape, ok := stringEnd(body, i+1, false)
			if !ok {
				return nil, ErrNotJSON
			}
			switch {
			case expectKey && len(frames) > 0 && !frames[len(frames)-1].array:
				key := body[i+1 : end]
				if hasEscape {
					k, ok := unquote(body[i : end+1])
					if !ok {
						return nil, ErrNotJSON
					}
					key = []byte(k)
				}
				if keys, err = frames[len(frames)-1].add(keys, key); err != nil {
					return nil, err
				}
				expectKey = false
				eventNext = len(frames) == 1 && string(key) == "event"
			case eventNext:
				event, eventNext = body[i:end+1], false
			}
			i = end
		default:
			if eventNext && c > ' ' && c != ':' {
				eventNext = false // a non-string value
			}
		}
		if len(frames) > MaxDepth {
			return nil, ErrTooDeep
		}
	}
	if len(frames) != 0 {
		return nil, ErrNotJSON
	}
	return event, nil
}

// frame is one open container of the scan.
type frame struct {
	array bool
	start int                 // this object's first key in the scan's keys
	set   map[string]struct{} // once an object has many keys, so a hostile one stays linear
}

// add records key k of the object f and returns the scan's keys.
func (f *frame) add(keys [][]byte, k []byte) ([][]byte, error) {
	if f.set != nil {
		if _, dup := f.set[string(k)]; dup {
			return keys, fmt.Errorf("%w %q", ErrDuplicateKey, truncate(string(k), 40))
		}
		f.set[string(k)] = struct{}{}
		return keys, nil
	}
	for _, x := range keys[f.start:] {
		if string(x) == string(k) {
			return keys, fmt.Errorf("%w %q", ErrDuplicateKey, truncate(string(k), 40))
		}
	}
	keys = append(keys, k)
	if len(keys)-f.start > 32 {
		f.set = make(map[string]struct{}, 64)
		for _, x := range keys[f.start:] {
			f.set[string(x)] = struct{}{}
		}
		keys = keys[:f.start]
	}
	return keys, nil
}
