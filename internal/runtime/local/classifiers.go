package local

import (
	"supportpipe/internal/runtime/compose"
	"supportpipe/internal/runtime/config"
)

// NewClassifiers builds the tagger from the configured rules and loads the
// embedded anger model.
func NewClassifiers(cfg *config.Config) (Classifiers, error) {
	t, a, err := compose.Classifiers(cfg)
	return Classifiers{Tagger: t, Anger: a}, err
}
