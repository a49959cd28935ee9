package chatwoot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

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

// str checks the string at c.i and moves past it.
func (c *checker) str() (escaped, ok bool) {
	end, escaped, ok := stringEnd(c.data, c.i+1, true)
	if ok {
		c.i = end + 1
	}
	return escaped, ok
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
