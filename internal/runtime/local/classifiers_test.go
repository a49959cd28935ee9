package local_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"supportpipe/internal/runtime/config"
	"supportpipe/internal/support/anger"
)

func TestDefaultAngerThresholdIsTheModels(t *testing.T) {
	assert.Equal(t, anger.DefaultThreshold, config.DefaultAngerThreshold)
}
