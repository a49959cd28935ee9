package chatwoot

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Head is what the edge needs to know about a payload: that the processor
// will decode it, and the ids it names.
type Head struct {
	Event string
	Kind  Kind
	// ID is the message, conversation (display) or contact id.
	ID int64
	// AccountID is the account the payload names, or 0. Conversation
	// payloads carry their own since Chatwoot 4.14.2; before that, the
	// first nested message's account_id stands in (chatwoot#11753).
	AccountID int64
	// ConversationID is the conversation's display id, 0 for contacts.
	ConversationID int64
}

// Check tells whether Decode accepts body, and reads its Head, without
// decoding it: after the structural scan, one pass over the bytes applies
// the typed decoder's rules (the schema comes from the Go types by
// reflection, so it cannot drift from them). Building the typed payload,
// with its maps, strings and slices, was most of the edge's CPU per
// webhook; the processor still builds it, from a body Check has passed.
func Check(body []byte) (Head, error) {
	name, err := eventOf(body)
	if err != nil {
		return Head{}, err
	}
	h := Head{Event: name, Kind: KindOf(name)}
	root, ok := roots[h.Kind]
	if !ok {
		if !json.Valid(body) {
			return Head{}, ErrNotJSON
		}
		return h, nil
	}
	c := checker{data: body, captures: captures[h.Kind]}
	ok = c.value(root)
	c.ws()
	if !ok || c.i != len(c.data) {
		return Head{}, ErrNotJSON
	}
	if c.dup != nil {
		return Head{}, c.dup
	}
	if err := c.err(); err != nil {
		return Head{}, fmt.Errorf("%w: %s", ErrBadPayload, describe(err))
	}
	h.ID, h.AccountID, h.ConversationID = c.ids[slotID], c.ids[slotAccount], c.ids[slotConversation]
	if h.Kind == KindConversation {
		h.ConversationID = h.ID
	}
	if err := h.validate(); err != nil {
		return Head{}, fmt.Errorf("%w: %s", ErrBadPayload, err)
	}
	return h, nil
}

// eventOf checks what every body must pass whatever its event (a UTF-8
// JSON object, no duplicate keys, no extreme nesting) and returns the event
// name.
func eventOf(body []byte) (string, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || !utf8.Valid(body) {
		return "", ErrNotJSON
	}
	raw, err := scan(body)
	if err != nil {
		return "", err
	}
	name, ok := unquote(raw)
	if !ok || name == "" || len(name) > 64 {
		if !json.Valid(body) {
			return "", ErrNotJSON
		}
		return "", ErrNoEvent
	}
	return name, nil
}

func (h *Head) validate() error {
	switch h.Kind {
	case KindMessage:
		if h.ID <= 0 {
			return fmt.Errorf("message id missing")
		}
		if h.ConversationID <= 0 {
			return fmt.Errorf("message without conversation id")
		}
	case KindConversation:
		if h.ID <= 0 {
			return fmt.Errorf("conversation id missing")
		}
	case KindContact:
		if h.ID <= 0 {
			return fmt.Errorf("contact id missing")
		}
	}
	return nil
}

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

// The ids a Head reads, by the path of struct fields (json names) that
// leads to them, as the Payload's types would hold them.
const (
	slotID = iota
	slotAccount
	slotConversation
	numSlots
)

type capture struct {
	path  []string
	slot  int
	first bool // the first positive value wins (one of many messages)
}

var captures = map[Kind][]capture{
	KindMessage: {
		{path: []string{"id"}, slot: slotID},
		{path: []string{"account", "id"}, slot: slotAccount},
		{path: []string{"conversation", "id"}, slot: slotConversation},
	},
	KindConversation: {
		{path: []string{"id"}, slot: slotID},
		// The conversation's own account (Chatwoot ≥ 4.14.2) wins over the
		// first nested message's, whichever comes first in the body.
		{path: []string{"account", "id"}, slot: slotAccount},
		{path: []string{"messages", "account_id"}, slot: slotAccount, first: true},
	},
	KindContact: {
		{path: []string{"id"}, slot: slotID},
		{path: []string{"account", "id"}, slot: slotAccount},
	},
}

// checker is one pass of Check. It mirrors encoding/json's Unmarshal: any
// syntax error wins; otherwise an UnmarshalJSON error (decoding stops
// there), otherwise the first value of the wrong type (decoding goes on).
type checker struct {
	data    []byte
	i       int
	dup     error // a key that folds onto a field another key already set
	abort   error
	typeErr error
	// path holds the struct fields from the root to the value: scan has
	// bounded the nesting to MaxDepth.
	path     [MaxDepth + 1]string
	depth    int
	captures []capture
	ids      [numSlots]int64
}

func (c *checker) err() error {
	if c.abort != nil {
		return c.abort
	}
	return c.typeErr
}

// checking says whether values are still checked against their shapes.
func (c *checker) checking() bool { return c.abort == nil && c.dup == nil }

func (c *checker) ws() {
	for c.i < len(c.data) {
		switch c.data[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// mismatch records a value of the wrong type, as encoding/json's
// UnmarshalTypeError: what came, the Go type, the json field path.
func (c *checker) mismatch(what string, t reflect.Type) {
	if c.typeErr == nil && c.checking() {
		c.typeErr = &json.UnmarshalTypeError{Value: what, Type: t, Field: strings.Join(c.path[:c.depth], ".")}
	}
}

// value checks the value at c.i against s (nil: anything, unchecked) and
// reports false on a syntax error.
func (c *checker) value(s *shape) bool {
	c.ws()
	if c.i >= len(c.data) {
		return false
	}
	if s != nil && !c.checking() {
		s = nil
	}
	start := c.i
	switch b := c.data[c.i]; {
	case b == '{':
		return c.object(s, start)
	case b == '[':
		return c.array(s, start)
	case b == '"':
		if _, ok := c.str(); !ok {
			return false
		}
		if s != nil {
			c.scalar(s, "string", c.data[start:c.i])
		}
	case b == 't' || b == 'f' || b == 'n':
		lit := "null"
		if b == 't' {
			lit = "true"
		} else if b == 'f' {
			lit = "false"
		}
		if !bytes.HasPrefix(c.data[c.i:], []byte(lit)) {
			return false
		}
		c.i += len(lit)
		if s != nil {
			what := "bool"
			if b == 'n' {
				what = "null"
			}
			c.scalar(s, what, c.data[start:c.i])
		}
	case b == '-' || (b >= '0' && b <= '9'):
		if !c.number() {
			return false
		}
		if s != nil {
			c.scalar(s, "number", c.data[start:c.i])
		}
	default:
		return false
	}
	return true
}

// scalar applies s to a string, number, bool or null.
func (c *checker) scalar(s *shape, what string, raw []byte) {
	switch s.kind {
	case shapeRaw:
	case shapeUnmarshaler:
		if err := s.unmarshal(raw); err != nil {
			c.abort = err
		}
	case shapeAny:
		if what == "number" && !fitsFloat(raw) {
			c.mismatch("number "+string(raw), float64Type)
		}
	default:
		if what == "null" {
			return // a null leaves the value as it was
		}
		if what != scalarOf(s.kind) {
			c.mismatch(what, s.typ)
			return
		}
		if s.kind == shapeInt {
			n, ok := parseInt(raw)
			if !ok {
				c.mismatch("number "+string(raw), s.typ)
				return
			}
			c.capture(n)
		}
	}
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

// capture keeps n if the current path is one a Head reads.
func (c *checker) capture(n int64) {
	for _, k := range c.captures {
		if !slices.Equal(k.path, c.path[:c.depth]) {
			continue
		}
		if k.first {
			if c.ids[k.slot] <= 0 && n > 0 {
				c.ids[k.slot] = n
			}
		} else {
			c.ids[k.slot] = max(n, 0)
		}
	}
}

// open moves past a container's opening byte and says what its members
// must be: fields (an object decoded into a struct) or elem (nil:
// anything, unchecked). empty says the container closes at once.
func (c *checker) open(s *shape) (fields, elem *shape, empty bool) {
	what, closing, members := "object", byte('}'), shapeMap
	if c.data[c.i] == '[' {
		what, closing, members = "array", ']', shapeSlice
	}
	switch {
	case s == nil, s.kind == shapeRaw, s.kind == shapeUnmarshaler:
	case s.kind == shapeAny:
		elem = s
	case s.kind == members:
		elem = s.elem
	case s.kind == shapeStruct && what == "object":
		fields = s
	default:
		c.mismatch(what, s.typ)
	}
	c.i++
	c.ws()
	if c.i < len(c.data) && c.data[c.i] == closing {
		c.i++
		return fields, elem, true
	}
	return fields, elem, false
}

func (c *checker) object(s *shape, start int) bool {
	fields, elem, empty := c.open(s)
	if empty {
		return c.done(s, start)
	}
	var set uint64 // fields set by a key of this object
	for {
		c.ws()
		if c.i >= len(c.data) || c.data[c.i] != '"' {
			return false
		}
		kstart := c.i
		esc, ok := c.str()
		if !ok {
			return false
		}
		kend := c.i
		key := c.data[kstart+1 : kend-1]
		c.ws()
		if c.i >= len(c.data) || c.data[c.i] != ':' {
			return false
		}
		c.i++
		vs, pushed := elem, false
		if fields != nil && c.checking() {
			if esc {
				k, ok := unquote(c.data[kstart:kend])
				if !ok {
					return false
				}
				key = []byte(k)
			}
			if f, ok := fields.lookup(key); ok {
				if set&(1<<f) != 0 {
					// encoding/json matches keys case-insensitively, so
					// "ID" after "id" overwrites it; another parser would
					// keep both. Ambiguous, like a duplicate key.
					c.dup = fmt.Errorf("%w %q", ErrDuplicateKey, truncate(string(key), 40))
				} else {
					set |= 1 << f
					vs, pushed = fields.fields[f].shape, true
					c.path[c.depth] = fields.fields[f].name
					c.depth++
				}
			}
		}
		if !c.value(vs) {
			return false
		}
		if pushed {
			c.depth--
		}
		if more, ok := c.next('}'); !more {
			return ok && c.done(s, start)
		}
	}
}

func (c *checker) array(s *shape, start int) bool {
	_, elem, empty := c.open(s)
	if empty {
		return c.done(s, start)
	}
	for {
		if !c.value(elem) {
			return false
		}
		if more, ok := c.next(']'); !more {
			return ok && c.done(s, start)
		}
	}
}

// next moves past what follows a member: a ',' (more members follow) or
// the container's closing byte; anything else is a syntax error (!ok).
func (c *checker) next(closing byte) (more, ok bool) {
	c.ws()
	if c.i < len(c.data) {
		switch c.data[c.i] {
		case ',':
			c.i++
			return true, true
		case closing:
			c.i++
			return false, true
		}
	}
	return false, false
}

// done finishes a container: a type with its own UnmarshalJSON gets it
// whole, as encoding/json hands it over.
func (c *checker) done(s *shape, start int) bool {
	if s != nil && s.kind == shapeUnmarshaler && c.checking() {
		if err := s.unmarshal(c.data[start:c.i]); err != nil {
			c.abort = err
		}
	}
	return true
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

// str checks the string at c.i and moves past it.
func (c *checker) str() (escaped, ok bool) {
	end, escaped, ok := stringEnd(c.data, c.i+1, true)
	if ok {
		c.i = end + 1
	}
	return escaped, ok
}

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

// number checks a JSON number at c.i and moves past it.
func (c *checker) number() bool {
	d, i := c.data, c.i
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = digits(d, i)
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		j := digits(d, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := digits(d, i)
		if j == i {
			return false
		}
		i = j
	}
	c.i = i
	return true
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
