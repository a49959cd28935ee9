package chatwoot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// shape is what the typed decoder accepts where it puts a value.
type shape struct {
	kind    shapeKind
	typ     reflect.Type // named in type errors, as encoding/json names it
	fields  []field      // shapeStruct
	byName  map[string]int
	byFold  map[string]int // lower-case names, for ASCII keys
	longest int
	elem    *shape // shapeSlice, shapeMap
	// unmarshal runs the type's own UnmarshalJSON (shapeUnmarshaler).
	unmarshal func([]byte) error
}

type shapeKind uint8

const (
	shapeRaw    shapeKind = iota // json.RawMessage: any value
	shapeAny                     // interface{}: any value, numbers within float64
	shapeInt                     // int64
	shapeString                  // string or *string
	shapeBool
	shapeStruct // struct or pointer to one
	shapeSlice
	shapeMap // map[string]T
	shapeUnmarshaler
)

type field struct {
	name  string
	shape *shape
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
	float64Type     = reflect.TypeFor[float64]()

	roots = func() map[Kind]*shape {
		seen := map[reflect.Type]*shape{}
		return map[Kind]*shape{
			KindMessage:      shapeOf(reflect.TypeFor[Message](), seen),
			KindConversation: shapeOf(reflect.TypeFor[Conversation](), seen),
			KindContact:      shapeOf(reflect.TypeFor[Contact](), seen),
		}
	}()
)

// unmarshalers run the payload's own UnmarshalJSON methods on a value that
// needs no allocation (reflect.New would).
var unmarshalers = map[reflect.Type]func([]byte) error{
	reflect.TypeFor[Time]():        func(b []byte) error { var t Time; return t.UnmarshalJSON(b) },
	reflect.TypeFor[MessageType](): func(b []byte) error { var m MessageType; return m.UnmarshalJSON(b) },
}

// shapeOf derives t's shape. It panics on a kind the payload types do not
// use, so that a new field of another kind fails every test until the
// check learns it.
func shapeOf(t reflect.Type, seen map[reflect.Type]*shape) *shape {
	if s, ok := seen[t]; ok {
		return s
	}
	s := &shape{typ: t}
	seen[t] = s // before the fields: the payload types are recursive
	switch {
	case t == rawMessageType:
		s.kind = shapeRaw
	case reflect.PointerTo(t).Implements(unmarshalerType):
		s.kind = shapeUnmarshaler
		s.unmarshal = unmarshalers[t]
		if s.unmarshal == nil {
			s.unmarshal = func(b []byte) error {
				return reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(b)
			}
		}
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Pointer,
		t.Kind() == reflect.Pointer && reflect.PointerTo(t.Elem()).Implements(unmarshalerType):
		// encoding/json sets these to nil on a null without asking the type.
		panic(fmt.Sprintf("chatwoot: check: unsupported type %s", t))
	case t.Kind() == reflect.Pointer:
		// A pointer decodes as what it points to; a null sets it to nil.
		delete(seen, t)
		return shapeOf(t.Elem(), seen)
	case t.Kind() == reflect.Interface && t.NumMethod() == 0:
		s.kind = shapeAny
	case t.Kind() == reflect.Int64:
		s.kind = shapeInt
	case t.Kind() == reflect.String:
		s.kind = shapeString
	case t.Kind() == reflect.Bool:
		s.kind = shapeBool
	case t.Kind() == reflect.Slice:
		s.kind, s.elem = shapeSlice, shapeOf(t.Elem(), seen)
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
		s.kind, s.elem = shapeMap, shapeOf(t.Elem(), seen)
	case t.Kind() == reflect.Struct:
		s.kind, s.byName, s.byFold = shapeStruct, map[string]int{}, map[string]int{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || f.Anonymous || name == "" || name == "-" || opts != "" || !isASCII(name) {
				panic(fmt.Sprintf("chatwoot: check: field %s.%s needs a plain ASCII json name", t, f.Name))
			}
			s.byName[name] = len(s.fields)
			s.byFold[strings.ToLower(name)] = len(s.fields)
			s.longest = max(s.longest, len(name))
			s.fields = append(s.fields, field{name: name, shape: shapeOf(f.Type, seen)})
		}
		if len(s.fields) > 64 {
			panic(fmt.Sprintf("chatwoot: check: %s has more than 64 fields", t))
		}
	default:
		panic(fmt.Sprintf("chatwoot: check: unsupported type %s", t))
	}
	return s
}

// scalarOf is the kind of JSON scalar a shape takes, or "".
func scalarOf(k shapeKind) string {
	switch k {
	case shapeInt:
		return "number"
	case shapeString:
		return "string"
	case shapeBool:
		return "bool"
	}
	return ""
}

// lookup finds the field key sets: its exact name, or else a name equal
// under Unicode case folding, which encoding/json also accepts.
func (s *shape) lookup(key []byte) (int, bool) {
	if f, ok := s.byName[string(key)]; ok {
		return f, true
	}
	if isASCII(string(key)) {
		if len(key) > s.longest {
			return 0, false
		}
		var buf [64]byte
		low := buf[:len(key)]
		for i, b := range key {
			if b >= 'A' && b <= 'Z' {
				b += 'a' - 'A'
			}
			low[i] = b
		}
		f, ok := s.byFold[string(low)]
		return f, ok
	}
	// Unicode folding: "K" (Kelvin sign) matches "k", "ſ" matches "s".
	for f := range s.fields {
		if bytes.EqualFold(key, []byte(s.fields[f].name)) {
			return f, true
		}
	}
	return 0, false
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
