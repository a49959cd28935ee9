package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/local"
)

// classify reads JSON lines {"id","text"} and writes {"id","tags","angry",
// "anger_score"} per line, with the same tagger and anger model as the
// processor and the configured threshold.
func classify(_ context.Context, _ []string) error {
	settings, err := config.ReadSettings(os.Getenv)
	cfg := settings.File
	if err != nil {
		return err
	}
	cls, err := local.NewClassifiers(cfg)
	if err != nil {
		return err
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 4<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	line := 0
	for in.Scan() {
		line++
		var req struct {
			ID   json.RawMessage `json:"id"`
			Text string          `json:"text"`
		}
		if len(in.Bytes()) == 0 {
			continue
		}
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			return fmt.Errorf("classify: line %d: %w", line, err)
		}
		tags := cls.Tagger.Tags(req.Text)
		if tags == nil {
			tags = []string{}
		}
		score := cls.Anger.Score(req.Text)
		if err := enc.Encode(struct {
			ID         json.RawMessage `json:"id"`
			Tags       []string        `json:"tags"`
			Angry      bool            `json:"angry"`
			AngerScore float64         `json:"anger_score"`
		}{req.ID, tags, score >= cfg.Escalation.AngerThreshold, score}); err != nil {
			return err
		}
	}
	return in.Err()
}
