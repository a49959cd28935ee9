package local_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"supportpipe/internal/anger"
	"supportpipe/internal/config"
)

func TestDefaultAngerThresholdIsTheModels(t *testing.T) {
	assert.Equal(t, anger.DefaultThreshold, config.DefaultAngerThreshold)
}
