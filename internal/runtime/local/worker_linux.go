package local

import (
	"context"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

const workerSupported = true

// runWorker starts cmd and waits for it; when ctx ends it asks the child to
// stop (SIGTERM) and waits for it to finish its batches.
func runWorker(ctx context.Context, cmd *exec.Cmd) error {
	started := make(chan error, 1)
	exited := make(chan error, 1)
	go func() {
		// A child inherits the nice value of the thread that forks it, and
		// Pdeathsig signals it when that thread ends. This goroutine holds
		// its thread, at low priority, for as long as the child runs, and
		// ends still locked so that the thread is not reused: the kernel
		// kills the child as soon as this process dies, however it dies.
		runtime.LockOSThread()
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), workerNice)
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return err
	}
	select {
	case err := <-exited:
		return err
	case <-ctx.Done():
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		return err
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return <-exited
	}
}
