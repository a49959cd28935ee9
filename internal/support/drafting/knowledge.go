package drafting

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxKnowledgeLine bounds one JSON line of a knowledge file; a canned
// response is a few paragraphs, and a runaway line must not take memory
// without end.
const maxKnowledgeLine = 1 << 20

// LoadKnowledge reads a knowledge file: JSON lines (.jsonl, .ndjson) or a
// YAML list (.yaml, .yml, and .json, whose array YAML reads too), each entry
// a Canned. It is strict like the configuration file: an unknown key, an
// entry without short_code or content, an empty example or a short code
// given twice is an error that names the file and the line.
func LoadKnowledge(path string) ([]Canned, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("knowledge: %w", err)
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".jsonl", ".ndjson":
		return ParseKnowledgeLines(bytes.NewReader(b), path)
	case ".yaml", ".yml", ".json":
		return ParseKnowledgeYAML(b, path)
	default:
		return nil, fmt.Errorf("knowledge %s: unknown format %q (want .jsonl, .ndjson, .yaml, .yml or .json)", path, ext)
	}
}

// ParseKnowledgeLines reads JSON lines, one Canned an object; blank lines
// are skipped. name starts error messages.
func ParseKnowledgeLines(r io.Reader, name string) ([]Canned, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxKnowledgeLine)
	var (
		out   []Canned
		lines []int
	)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c Canned
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("knowledge %s:%d: %w", name, n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("knowledge %s:%d: more than one JSON value on the line", name, n)
		}
		out = append(out, c)
		lines = append(lines, n)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("knowledge %s: %w", name, err)
	}
	return out, checkKnowledge(out, func(i int) string { return fmt.Sprintf("%s:%d", name, lines[i]) })
}

// ParseKnowledgeYAML reads a YAML (or JSON) list of Canned. name starts
// error messages.
func ParseKnowledgeYAML(b []byte, name string) ([]Canned, error) {
	var out []Canned
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&out); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("knowledge %s: %w", name, err)
	}
	// The entries' lines, for the checks' messages; the decode above has
	// already proved the document a list.
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("knowledge %s: %w", name, err)
	}
	var items []*yaml.Node
	if len(root.Content) == 1 {
		items = root.Content[0].Content
	}
	return out, checkKnowledge(out, func(i int) string {
		if i < len(items) {
			return fmt.Sprintf("%s:%d (entry %d)", name, items[i].Line, i+1)
		}
		return fmt.Sprintf("%s (entry %d)", name, i+1)
	})
}

// checkKnowledge rejects what could never be drafted from, or would be
// drafted from ambiguously; where(i) names entry i in a message.
func checkKnowledge(cs []Canned, where func(int) string) error {
	seen := map[string]int{}
	var errs []error
	for i, c := range cs {
		switch code := strings.TrimSpace(c.ShortCode); {
		case code == "":
			errs = append(errs, fmt.Errorf("knowledge %s: short_code is empty", where(i)))
		case seen[code] > 0:
			errs = append(errs, fmt.Errorf("knowledge %s: short_code %q repeats the entry at %s", where(i), code, where(seen[code]-1)))
		default:
			seen[code] = i + 1
		}
		if strings.TrimSpace(c.Content) == "" {
			errs = append(errs, fmt.Errorf("knowledge %s: content is empty", where(i)))
		}
		for j, e := range c.Examples {
			if strings.TrimSpace(e) == "" {
				errs = append(errs, fmt.Errorf("knowledge %s: examples[%d] is empty", where(i), j))
			}
		}
	}
	return errors.Join(errs...)
}
