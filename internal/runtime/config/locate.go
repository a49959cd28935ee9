package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// The decoder reports type problems and unknown keys as "line N: …" with the
// Go type but not the key path. These patterns take its messages apart so
// that locate can name the key; the tests pin them to the library version.
var (
	lineMsg    = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownKey = regexp.MustCompile(`^field (.*) not found in type `)
	badValue   = regexp.MustCompile("^cannot unmarshal (!![a-z]+)(?: `(.*)`)? into ")
)

// A place is a key, or a list item, of the document.
type place struct {
	path string
	key  *yaml.Node // nil for a list item
	val  *yaml.Node
}

// locate rewrites the decoder's messages about doc to start with key paths.
func locate(te *yaml.TypeError, doc []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return te
	}
	ps := places(&root, "", nil)
	errs := make([]error, len(te.Errors))
	for i, msg := range te.Errors {
		errs[i] = locateOne(msg, ps)
	}
	return errors.Join(errs...)
}

func locateOne(msg string, ps []place) error {
	m := lineMsg.FindStringSubmatch(msg)
	if m == nil {
		return errors.New(msg)
	}
	line, _ := strconv.Atoi(m[1])
	what := m[2]
	if u := unknownKey.FindStringSubmatch(what); u != nil {
		for _, p := range ps {
			if p.key != nil && p.key.Line == line && p.key.Value == u[1] {
				return fmt.Errorf("%s: unknown key (line %d)", p.path, line)
			}
		}
		return fmt.Errorf("%s: unknown key (line %d)", u[1], line)
	}
	if b := badValue.FindStringSubmatch(what); b != nil {
		for _, p := range ps {
			if p.val.Line == line && p.val.ShortTag() == b[1] && shown(p.val.Value, b[2]) {
				return fmt.Errorf("%s: %s (line %d)", p.path, what, line)
			}
		}
	}
	return errors.New(msg)
}

// shown reports whether the decoder would quote value v as s; it cuts
// values longer than ten bytes, and quotes none for maps and lists.
func shown(v, s string) bool {
	return s == "" || s == v || len(v) > 10 && s == v[:7]+"..."
}

// places lists the keys and list items under n, depth first, with their paths
// in the form the rest of the package uses: a.b[0].c.
func places(n *yaml.Node, path string, out []place) []place {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			out = places(c, path, out)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			out = append(out, place{p, k, v})
			out = places(v, p, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			out = append(out, place{p, nil, c})
			out = places(c, p, out)
		}
	}
	return out
}
