//go:build linux

package local_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ports/private/privatetest"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/local"
)

// serveIn runs the local pipeline on data as supportctl serve does: the
// environment read by LoadConfig (the webhook secret and the API token
// generated), Open, Serve, and the processor and jobs in a worker child
// process (in this process with -short, which starts no child). stop ends
// it; the test's end does too.
func serveIn(t *testing.T, data string) (s *server, signing string, stop func()) {
	t.Helper()
	t.Setenv("SUPPORT_DATA_DIR", data)
	t.Setenv("CHATWOOT_WEBHOOK_SECRET", "")
	t.Setenv("SUPPORT_API_TOKEN", "")
	env, err := local.LoadConfig()
	require.NoError(t, err)
	env.ReportsRoot = t.TempDir()
	conf, err := config.Parse(configYAML)
	require.NoError(t, err)
	cls, err := local.NewClassifiers(conf)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ls, err := local.Open(ctx, withFile(env, conf), cls, slog.New(slog.NewJSONHandler(&logs, nil)))
	require.NoError(t, err)
	ls.JobEvery = time.Hour
	if !testing.Short() {
		ls.Spawn = func() *exec.Cmd {
			child := exec.Command(os.Args[0], "-test.run=^TestWorkerHelper$")
			child.Env = append(os.Environ(), "LOCAL_WORKER=1", "SUPPORT_REPORTS_ROOT="+env.ReportsRoot)
			child.Stdout, child.Stderr = os.Stderr, os.Stderr
			return child
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- ls.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			assert.NoError(t, <-done)
			assert.NoError(t, ls.Close())
		})
	}
	t.Cleanup(stop)
	return &server{url: "http://" + ln.Addr().String(), token: env.APIToken, s: ls}, env.WebhookSecrets[0], stop
}

// customerWrites sends a signed customer message on conversation conv and
// waits until it is processed, its draft request (drafts.db) included.
func customerWrites(t *testing.T, s *server, signing string, conv int64) {
	t.Helper()
	body := messageBody(conv, conv, time.Now().Add(-time.Minute), "I was charged twice, please help", "priya@example.net", `{}`, `[]`)
	require.Equal(t, 202, s.postSigned(t, body, "perms-"+strconv.FormatInt(conv, 10), signing))
	draft := "draft:" + strconv.FormatInt(conv, 10) + "=done"
	waitfor.Until(t, func() bool {
		var v struct{ Actions []struct{ ID, Status string } }
		if s.get(t, "/support/conversations/7/"+strconv.FormatInt(conv, 10), s.token, &v) != 200 {
			return false
		}
		for _, a := range v.Actions {
			if a.ID+"="+a.Status == draft {
				return true
			}
		}
		return false
	}, "message %d processed", conv)
}

// userDataDir is a data dir the user made before the first start: 0755
// under umask 022, the umask the test runs under.
func userDataDir(t *testing.T) string {
	t.Helper()
	privatetest.Umask(t)
	data := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.Mkdir(data, 0o755))
	return data
}

// TestDataDirIsPrivate: everything the pipeline creates in an existing data
// dir is the owner's only, while it runs (databases with their -wal and
// -shm, journals) and once it has stopped.
func TestDataDirIsPrivate(t *testing.T) {
	data := userDataDir(t)
	s, signing, stop := serveIn(t, data)
	customerWrites(t, s, signing, 1)
	seen := privatetest.AssertTree(t, data)
	for _, name := range []string{"chatwoot_webhook_secret", "support_api_token", "spool",
		"store.db", "store.db-wal", "store.db-shm", "queue.db", "queue.db.intake.events/lock",
		"drafts.db", "drafts.db.intake.drafts/lock"} {
		assert.Contains(t, seen, name, "created by the pipeline")
	}
	stop()
	privatetest.AssertTree(t, data)
}

// TestUpgradeTightensDataDir: an install earlier versions left readable by
// everyone is the owner's only as soon as the pipeline has opened it, before
// any request (drafts.db, opened on first use, included), and stays so.
func TestUpgradeTightensDataDir(t *testing.T) {
	data := userDataDir(t)
	s, signing, stop := serveIn(t, data)
	customerWrites(t, s, signing, 1)
	stop()
	privatetest.Loosen(t, data)
	fi, err := os.Stat(filepath.Join(data, "drafts.db"))
	require.NoError(t, err)
	require.Equal(t, "-rw-r--r--", fi.Mode().Perm().String())

	s, signing, _ = serveIn(t, data)
	privatetest.AssertTree(t, data)
	customerWrites(t, s, signing, 2)
	privatetest.AssertTree(t, data)
}
