package local_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/proctest"
	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/local"
)

// TestWorkerProcess runs the processor in a child process, as serve does:
// what the server acknowledges is processed there, and the child stops with
// the server.
func TestWorkerProcess(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("runs a child process (linux)")
	}
	s := start(t, func(s *local.Server) {
		s.Spawn = func() *exec.Cmd {
			child := exec.Command(os.Args[0], "-test.run=^TestWorkerHelper$")
			child.Env = append(os.Environ(), "LOCAL_WORKER=1", "SUPPORT_REPORTS_ROOT="+s.Env.ReportsRoot)
			child.Stdout, child.Stderr = os.Stderr, os.Stderr
			return child
		}
	})
	files, err := filepath.Glob("../../../testdata/chatwoot/*.json")
	require.NoError(t, err)
	for i, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.Equal(t, 202, s.post(t, b, "worker-"+strconv.Itoa(i)), f)
	}
	var st struct{ Processed int64 }
	waitfor.Until(t, func() bool {
		s.get(t, "/support/stats", s.token, &st)
		return st.Processed == 9 // the tenth is a typing event, ignored
	}, "the worker processes every event; stats: %s", func() string { return fmt.Sprintf("%+v", st) })
	require.Equal(t, 200, s.get(t, "/support/conversations/7/1423", s.token, nil))
	assert.Len(t, proctest.Children(os.Getpid()), 1, "one worker process")
}

// TestWorkerHelper is the child of TestWorkerProcess: Work on the data dir
// of the server that started it.
func TestWorkerHelper(t *testing.T) {
	if os.Getenv("LOCAL_WORKER") == "" {
		t.Skip("worker process of TestWorkerProcess")
	}
	cfg, err := local.LoadConfig()
	require.NoError(t, err)
	conf, err := config.Parse(configYAML)
	require.NoError(t, err)
	cls, err := local.NewClassifiers(conf)
	require.NoError(t, err)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	s, err := local.Open(ctx, withFile(cfg, conf), cls, slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Work(ctx))
}
