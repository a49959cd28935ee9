//go:build !linux

package local

import (
	"context"
	"errors"
	"os/exec"
)

// Without Pdeathsig a child could outlive a killed server: the processor
// runs in the server process instead.
const workerSupported = false

func runWorker(context.Context, *exec.Cmd) error {
	return errors.New("worker processes need linux")
}
