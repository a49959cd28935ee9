package local

import (
	"context"
	"sync"
	"time"
)

// The worker process.
//
// On AWS the webhook and the processor are separate functions; locally they
// share the machine's cores. With Spawn set, Serve runs the processor loops
// and the background jobs in a child process (Work) started at the lowest
// CPU priority and killed with its parent, kill -9 included (worker_linux.go),
// so that an acknowledgement does not wait for processing: not for the CPU,
// not for this process's scheduler and garbage collector, not for a SQLite
// connection. Both processes open the same SQLite files (WAL mode). The
// parent owns the events queue's intake journal and moves what is sent into
// the database; the child receives it from there.

// workerNice is the child's nice value: the kernel runs it in what the
// webhook process leaves idle.
const workerNice = 19

// superviseWorker keeps a worker child running until ctx ends, then stops it
// gracefully (SIGTERM: batches in flight finish, then it exits).
func (s *Server) superviseWorker(ctx context.Context) {
	for ctx.Err() == nil {
		started := time.Now()
		err := runWorker(ctx, s.Spawn())
		if ctx.Err() != nil {
			return
		}
		s.Log.Error("processor worker exited; restarting", "error", errString(err))
		// A worker that dies at once is not restarted in a tight loop.
		wait := time.Second - time.Since(started)
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(wait, 0)):
		}
	}
}

// Work runs the processor loops and the background jobs until ctx ends: the
// child process of a Serve with Spawn. Messages a previous worker held when
// it died are made visible first.
func (s *Server) Work(ctx context.Context) error {
	if err := s.Recover(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.jobs(ctx) })
	s.consumers(ctx, &wg)
	wg.Wait()
	return nil
}

func errString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// spawnable says whether Spawn can be honoured here.
func (s *Server) spawnable() bool { return s.Spawn != nil && s.Workers > 0 && workerSupported }
