// Package waitfor is how tests wait: for a condition, never for a duration.
//
// How long a child process, a goroutine, a timer or a fake service takes on a
// machine busy with other work is not what a test checks, so a test polls for
// the state it needs and takes however long that comes. Hang bounds each such
// wait only so that a condition that never comes fails the test with what
// never happened, instead of hanging it until go test's -timeout.
package waitfor

import (
	"fmt"
	"testing"
	"time"
)

// Hang bounds one wait. Far beyond what a loaded machine needs for anything
// the tests wait on (seconds), and well within make test's -timeout, so that
// the failure names the condition rather than dumping every goroutine.
const Hang = 5 * time.Minute

// Tick is how often a condition is polled.
const Tick = 20 * time.Millisecond

// Until polls cond, in the calling goroutine (cond may use require), until it
// holds. If Hang passes first it fails t with what, formatted with args: the
// thing that never happened. An argument that is a func() string is called
// only then, so that the message shows the latest state.
func Until(t testing.TB, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(Hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %v for: %s", Hang, fmt.Sprintf(what, latest(args)...))
		}
		time.Sleep(Tick)
	}
}

// Chan waits until c is closed or yields a value, which it returns. If Hang
// passes first it fails t as Until does.
func Chan[T any](t testing.TB, c <-chan T, what string, args ...any) T {
	t.Helper()
	timer := time.NewTimer(Hang)
	defer timer.Stop()
	select {
	case v := <-c:
		return v
	case <-timer.C:
		t.Fatalf("still waiting after %v for: %s", Hang, fmt.Sprintf(what, latest(args)...))
		var zero T
		return zero
	}
}

func latest(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if f, ok := a.(func() string); ok {
			a = f()
		}
		out[i] = a
	}
	return out
}
