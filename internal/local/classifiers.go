package local

import (
	"fmt"

	"supportpipe/internal/anger"
	"supportpipe/internal/config"
	"supportpipe/internal/tagging"
)

// NewClassifiers builds the tagger from the configured rules and loads the
// embedded anger model.
func NewClassifiers(cfg *config.Config) (Classifiers, error) {
	t, err := tagging.New(cfg.Tags.Rules)
	if err != nil {
		return Classifiers{}, fmt.Errorf("tags: %w", err)
	}
	a, err := anger.New()
	if err != nil {
		return Classifiers{}, fmt.Errorf("anger model: %w", err)
	}
	return Classifiers{Tagger: t, Anger: a}, nil
}
