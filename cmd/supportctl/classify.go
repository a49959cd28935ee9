package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/local"
)

func init() {
	register(func() *cobra.Command {
		return &cobra.Command{
			Use:   "classify < lines.jsonl",
			Short: `tag and score text: JSON lines {"id","text"} in, {"id","tags","angry","anger_score"} out`,
			Long: `classify reads JSON lines {"id","text"} on stdin and writes one line
{"id","tags":[...],"angry":bool,"anger_score":float} per input line, with the
processor's tagger and anger model and the configured anger threshold
(SUPPORT_CONFIG). Blank lines are skipped.

A line that is not a JSON object with a string "text" is not classified: no
output line, an error on stderr naming its line number (and id when it has
one), and classify goes on with the next line; it exits 1 at the end when any
line was refused, so a pipeline sees the failure and keeps every good line.`,
			Example: `  echo '{"id":1,"text":"I was charged twice!!"}' | supportctl classify`,
			RunE: func(c *cobra.Command, _ []string) error {
				return classify(c.InOrStdin(), c.OutOrStdout(), c.ErrOrStderr())
			},
		}
	})
}

// classify reads JSON lines {"id","text"} and writes {"id","tags","angry",
// "anger_score"} per line, with the same tagger and anger model as the
// processor and the configured threshold.
func classify(stdin io.Reader, stdout, stderr io.Writer) error {
	settings, err := config.ReadSettings(os.Getenv)
	if err != nil {
		return err
	}
	cfg := settings.File
	cls, err := local.NewClassifiers(cfg)
	if err != nil {
		return err
	}
	in := bufio.NewScanner(stdin)
	in.Buffer(make([]byte, 64<<10), 4<<20)
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	line, total, refused := 0, 0, 0
	for in.Scan() {
		line++
		if len(bytes.TrimSpace(in.Bytes())) == 0 {
			continue
		}
		total++
		id, text, err := classifyRequest(in.Bytes())
		if err != nil {
			// Said at once, in order with the output, so that someone
			// watching the stream sees which line it was.
			out.Flush()
			refused++
			where := fmt.Sprintf("line %d", line)
			if id != nil {
				where += fmt.Sprintf(" (id %s)", oneLine(string(id), 64))
			}
			fmt.Fprintf(stderr, "supportctl classify: %s: %v\n", where, err)
			continue
		}
		tags := cls.Tagger.Tags(text)
		if tags == nil {
			tags = []string{}
		}
		score := cls.Anger.Score(text)
		if err := enc.Encode(struct {
			ID         json.RawMessage `json:"id"`
			Tags       []string        `json:"tags"`
			Angry      bool            `json:"angry"`
			AngerScore float64         `json:"anger_score"`
		}{id, tags, score >= cfg.Escalation.AngerThreshold, score}); err != nil {
			return err
		}
	}
	if err := in.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	if refused > 0 {
		return fmt.Errorf("%d of %d lines not classified (see the errors above)", refused, total)
	}
	return nil
}

// classifyRequest reads one input line. The id is returned whenever the
// line has one, so that an error can name it; the text must be a string
// (an empty one is a valid, if dull, message).
func classifyRequest(b []byte) (json.RawMessage, string, error) {
	var req struct {
		ID   json.RawMessage  `json:"id"`
		Text *json.RawMessage `json:"text"`
	}
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, "", fmt.Errorf("not a JSON object: %w", err)
	}
	if req.Text == nil || string(*req.Text) == "null" {
		return req.ID, "", fmt.Errorf(`no "text"`)
	}
	var text string
	if err := json.Unmarshal(*req.Text, &text); err != nil {
		return req.ID, "", fmt.Errorf(`"text" is not a string`)
	}
	return req.ID, text, nil
}
