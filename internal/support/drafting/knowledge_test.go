package drafting

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestLoadKnowledgeFormats(t *testing.T) {
	want := []Canned{
		{ShortCode: "refund", Content: "Refunds take {{days}} days.", Examples: []string{"where is my refund"}},
		{ShortCode: "hours", Content: "We answer 9 to 5."},
	}
	for name, content := range map[string]string{
		"kb.jsonl": `{"short_code": "refund", "content": "Refunds take {{days}} days.", "examples": ["where is my refund"]}

{"short_code": "hours", "content": "We answer 9 to 5."}
`,
		"kb.yaml": `- short_code: refund
  content: "Refunds take {{days}} days."
  examples: [where is my refund]
- short_code: hours
  content: We answer 9 to 5.
`,
		"kb.json": `[{"short_code": "refund", "content": "Refunds take {{days}} days.", "examples": ["where is my refund"]},
 {"short_code": "hours", "content": "We answer 9 to 5."}]`,
	} {
		got, err := LoadKnowledge(write(t, name, content))
		require.NoError(t, err, name)
		assert.Equal(t, want, got, name)
	}
}

func TestLoadKnowledgeEmpty(t *testing.T) {
	for _, name := range []string{"kb.jsonl", "kb.yaml"} {
		got, err := LoadKnowledge(write(t, name, ""))
		require.NoError(t, err, name)
		assert.Empty(t, got, name)
	}
}

func TestLoadKnowledgeSharedData(t *testing.T) {
	path := filepath.Join("..", "..", "..", "..", "shared", "data", "bitext", "kb.jsonl")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared data not found at %s (expected beside the repository checkout): %v", path, err)
	}
	kb, err := LoadKnowledge(path)
	require.NoError(t, err)
	assert.Len(t, kb, 27)
	for _, c := range kb {
		assert.NotEmpty(t, c.Examples, c.ShortCode)
	}
}

func TestLoadKnowledgeErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct{ name, content, want string }{
		{"a.jsonl", `{"short_code": "a", "content": "x"}` + "\n" + `{"short_code": "b", "content": "y", "tags": []}`,
			`a.jsonl:2: json: unknown field "tags"`},
		{"a.jsonl", `{"short_code": "a", "content": "x"}` + "\n" + `{"short_code": "a", "content": "y"}`,
			`a.jsonl:2: short_code "a" repeats the entry at`},
		{"a.jsonl", `{"short_code": " ", "content": "x"}`, "a.jsonl:1: short_code is empty"},
		{"a.jsonl", `{"short_code": "a", "content": ""}`, "a.jsonl:1: content is empty"},
		{"a.jsonl", `{"short_code": "a", "content": "x", "examples": ["", "y"]}`, "a.jsonl:1: examples[0] is empty"},
		{"a.jsonl", `{"short_code": "a", "content": "x"} {"short_code": "b", "content": "y"}`, "a.jsonl:1: more than one JSON value"},
		{"a.jsonl", `{"short_code": "a", "content": 3}`, "a.jsonl:1: json: cannot unmarshal number"},
		{"a.yaml", "- short_code: a\n  content: x\n- short_code: b\n  content: y\n  tag: z\n", "line 5: field tag not found"},
		{"a.yaml", "- short_code: a\n  content: x\n- short_code: b\n  content: \"\"\n", "a.yaml:3 (entry 2): content is empty"},
		{"a.yaml", "short_code: a\ncontent: x\n", "cannot unmarshal !!map"},
		{"a.txt", "", `unknown format ".txt"`},
	} {
		_, err := LoadKnowledge(write(t, c.name, c.content))
		require.Error(t, err, c.content)
		assert.Contains(t, err.Error(), c.want, c.content)
		assert.Contains(t, err.Error(), c.name, "the message names the file")
	}
}

func TestParseKnowledgeLinesBoundsALine(t *testing.T) {
	line := `{"short_code": "a", "content": "` + strings.Repeat("x", maxKnowledgeLine) + `"}`
	_, err := ParseKnowledgeLines(strings.NewReader(line), "big.jsonl")
	assert.ErrorContains(t, err, "token too long")
}
