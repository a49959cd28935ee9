package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"supportpipe/internal/runtime/local"
)

// startBanner is what serve prints on the terminal as it starts: where
// everything is, the tile link with the real API token (the link works as
// printed; the token stays in the URL fragment, never sent to the server),
// and how to see the product work. It is not a log line: the logs never
// carry the token.
func startBanner(env local.Config) string {
	base := "http://" + browsable(env.Addr)
	token, _, _ := strings.Cut(env.APIToken, ",")
	mode := "offline: Chatwoot actions are recorded, not sent (CHATWOOT_LIVE=true sends them)"
	if env.Live {
		mode = "live: Chatwoot actions are sent to " + env.ChatwootURL
	}
	var b strings.Builder
	fmt.Fprintf(&b, "supportpipe on %s, data in %s, %s\n", base, env.DataDir, mode)
	fmt.Fprintf(&b, "  webhook  POST %s/webhooks/chatwoot\n", base)
	fmt.Fprintf(&b, "  tile     %s/support/tile#token=%s\n", base, token)
	fmt.Fprintf(&b, "  health   %s/support/health\n", base)
	fmt.Fprintf(&b, "  try it   %s   (in another terminal)\n", demoCommand(env))
	return b.String()
}

// browsable turns a listen address into one a browser can open: a wildcard
// or empty host is this machine.
func browsable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// demoCommand is how to run the demo against this server: the same binary
// (or go run, when serve runs under it), with the environment that differs
// from the defaults, since the demo finds the server and its secrets there.
func demoCommand(env local.Config) string {
	var prefix []string
	for _, k := range []string{"SUPPORT_ADDR", "SUPPORT_DATA_DIR", "SUPPORT_CONFIG"} {
		if v := os.Getenv(k); v != "" {
			prefix = append(prefix, k+"="+v)
		}
	}
	bin := "go run ./cmd/supportctl"
	if exe, err := os.Executable(); err == nil && !underGoRun(exe) {
		bin = exe
		if rel, err := filepath.Rel(mustGetwd(), exe); err == nil && !strings.HasPrefix(rel, "..") {
			bin = "./" + rel
		}
	}
	return strings.Join(append(prefix, bin, "demo"), " ")
}

// underGoRun reports whether exe is a binary go run built in its cache.
func underGoRun(exe string) bool {
	return strings.Contains(exe, string(filepath.Separator)+"go-build") || strings.Contains(filepath.ToSlash(exe), "/go-build")
}

func mustGetwd() string {
	wd, _ := os.Getwd()
	return wd
}
