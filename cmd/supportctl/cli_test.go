package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue/sqlitequeue"
)

// invoke runs the dispatcher in-process as the binary would be run, in a
// data dir of its own with known secrets.
func invoke(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// cliEnv points every command at an empty data dir with an events queue,
// and at a port nothing listens on, so that no test reaches a real server
// or the repository's .data.
func cliEnv(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("SUPPORT_DATA_DIR", dir)
	t.Setenv("SUPPORT_REPORTS_ROOT", dir)
	t.Setenv("SUPPORT_CONFIG", "")
	t.Setenv("CHATWOOT_LIVE", "")
	t.Setenv("CHATWOOT_WEBHOOK_SECRET", "cli-secret")
	t.Setenv("SUPPORT_API_TOKEN", "cli-token")
	t.Setenv("SUPPORT_WEBHOOK_URL", "")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Setenv("SUPPORT_ADDR", l.Addr().String())
	require.NoError(t, l.Close()) // closed: a connection there is refused
	q, err := sqlitequeue.Open(t.Context(), filepath.Join(dir, "queue.db"), "events", sqlitequeue.Options{})
	require.NoError(t, err)
	require.NoError(t, q.Close())
	return dir
}

// commandPaths lists every command below the root by its arguments,
// hidden ones (worker) included.
func commandPaths() [][]string {
	var out [][]string
	walk(newRoot(), func(c *cobra.Command) {
		if !c.HasParent() {
			return
		}
		out = append(out, strings.Fields(strings.TrimPrefix(c.CommandPath(), "supportctl ")))
	})
	return out
}

// TestHelpOnEveryCommand: --help and -h, on the root and on every command
// and subcommand, print its usage on stdout, naming the command, and exit
// 0 without running it (classify would wait on stdin, serve would serve).
func TestHelpOnEveryCommand(t *testing.T) {
	cliEnv(t)
	paths := append([][]string{{}}, commandPaths()...)
	require.Greater(t, len(paths), 15)
	for _, path := range paths {
		for _, flag := range []string{"--help", "-h"} {
			name := strings.Join(append(slices.Clone(path), flag), " ")
			t.Run(name, func(t *testing.T) {
				code, out, errOut := invoke(t, "", append(slices.Clone(path), flag)...)
				assert.Equal(t, exitOK, code, errOut)
				assert.Empty(t, errOut)
				assert.Contains(t, out, "Usage:")
				assert.Contains(t, out, strings.Join(append([]string{"supportctl"}, path...), " "))
			})
		}
	}
	// help COMMAND says the same as COMMAND --help.
	_, viaFlag, _ := invoke(t, "", "dlq", "show", "--help")
	code, viaHelp, _ := invoke(t, "", "help", "dlq", "show")
	assert.Equal(t, exitOK, code)
	assert.Equal(t, viaFlag, viaHelp)
}

// TestUnknownFlagOnEveryCommand: every command refuses a flag it does not
// have with exit 2 and one line that names the command and the flag.
func TestUnknownFlagOnEveryCommand(t *testing.T) {
	cliEnv(t)
	for _, path := range commandPaths() {
		t.Run(strings.Join(path, " "), func(t *testing.T) {
			code, out, errOut := invoke(t, "", append(slices.Clone(path), "--no-such-flag")...)
			assert.Equal(t, exitUsage, code)
			assert.Empty(t, out)
			assertOneLine(t, errOut, strings.Join(append([]string{"supportctl"}, path...), " ")+":", "unknown flag: --no-such-flag")
		})
	}
}

// TestWrongArguments: a wrong argument of each command is refused with one
// line that names the problem and the value at fault: exit 2 when the
// invocation is wrong, 1 when the command ran and the value was not found.
// Every command must have a case here, so a new command brings its own.
func TestWrongArguments(t *testing.T) {
	cliEnv(t)
	tests := []struct {
		args  []string
		stdin string
		code  int
		want  []string // substrings of the one line on stderr
	}{
		{args: []string{"nosuch"}, code: exitUsage, want: []string{"supportctl:", `unknown command "nosuch"`}},
		{args: []string{"srve"}, code: exitUsage, want: []string{`unknown command "srve"`, `did you mean "serve"`}},
		{args: []string{"--no-such-flag"}, code: exitUsage, want: []string{"unknown flag: --no-such-flag"}},
		{args: []string{"help", "nosuch"}, code: exitUsage, want: []string{"supportctl help:", `"nosuch"`}},
		{args: []string{"serve", "now"}, code: exitUsage, want: []string{"supportctl serve:", `unexpected argument "now"`}},
		{args: []string{"worker", "now"}, code: exitUsage, want: []string{"supportctl worker:", `unexpected argument "now"`}},
		{args: []string{"send"}, code: exitUsage, want: []string{"supportctl send:", "missing FILE"}},
		{args: []string{"send", "--url"}, code: exitUsage, want: []string{"flag needs an argument", "--url"}},
		{args: []string{"send", "no-such-body.json"}, code: exitFail, want: []string{"supportctl send:", "no-such-body.json"}},
		{args: []string{"dlq"}, code: exitUsage, want: []string{"supportctl dlq:", "want a subcommand", "list", "show", "redrive"}},
		{args: []string{"dlq", "lst"}, code: exitUsage, want: []string{`unknown command "lst"`, `did you mean "list"`}},
		{args: []string{"dlq", "list", "all"}, code: exitUsage, want: []string{"supportctl dlq list:", `unexpected argument "all"`}},
		{args: []string{"dlq", "show"}, code: exitUsage, want: []string{"supportctl dlq show:", "missing ID"}},
		{args: []string{"dlq", "show", "a", "b"}, code: exitUsage, want: []string{`unexpected argument "b"`}},
		{args: []string{"dlq", "show", "123"}, code: exitFail, want: []string{"supportctl dlq show:", `no dead letter with id "123"`}},
		{args: []string{"dlq", "redrive"}, code: exitUsage, want: []string{"supportctl dlq redrive:", "want an ID or --all"}},
		{args: []string{"dlq", "redrive", "123", "--all"}, code: exitUsage, want: []string{"not both"}},
		{args: []string{"dlq", "redrive", "123"}, code: exitFail, want: []string{"supportctl dlq redrive:", `no dead letter with id "123"`}},
		{args: []string{"report", "--date", "2026-13-01"}, code: exitUsage, want: []string{"supportctl report:", `--date "2026-13-01"`, "YYYY-MM-DD"}},
		{args: []string{"report", "2026-05-12"}, code: exitUsage, want: []string{`unexpected argument "2026-05-12"`}},
		{args: []string{"report", "--date", "2099-01-01"}, code: exitUsage, want: []string{"supportctl report:", "report for 2099-01-01: the day has not begun"}},
		{args: []string{"drafts"}, code: exitUsage, want: []string{"supportctl drafts"}},
		{args: []string{"drafts", "list", "--outcome", "maybe"}, code: exitUsage, want: []string{"supportctl drafts list:", `--outcome "maybe"`}},
		{args: []string{"drafts", "list", "--date", "yesterday"}, code: exitUsage, want: []string{"supportctl drafts list:", `--date "yesterday"`}},
		{args: []string{"events", "--outcome", "lost"}, code: exitUsage, want: []string{"supportctl events:", "--outcome must be one of"}},
		{args: []string{"events", "show"}, code: exitUsage, want: []string{"supportctl events show:", "missing DELIVERY"}},
		{args: []string{"sla"}, code: exitUsage, want: []string{"supportctl sla:", "want a subcommand: due"}},
		{args: []string{"sla", "due"}, code: exitUsage, want: []string{"supportctl sla due:", "missing required flag --opened"}},
		{args: []string{"sla", "due", "--opened", "yesterday"}, code: exitUsage, want: []string{`--opened "yesterday"`, "RFC 3339"}},
		{args: []string{"sla", "due", "--opened", "2026-05-15T20:59:00Z", "--inbox", "twelve"}, code: exitUsage, want: []string{`invalid argument "twelve"`, "--inbox"}},
		{args: []string{"classify", "x.jsonl"}, code: exitUsage, want: []string{"supportctl classify:", `unexpected argument "x.jsonl"`}},
		{args: []string{"classify"}, stdin: "{\"id\":1}\n", code: exitFail, want: []string{"supportctl classify:", "1 of 1 lines not classified"}},
		{args: []string{"draft"}, code: exitUsage, want: []string{"supportctl draft:", "nothing to draft from", "--knowledge"}},
		{args: []string{"draft", "--knowledge", "no-such-kb.yaml"}, code: exitFail, want: []string{"supportctl draft:", "no-such-kb.yaml"}},
		{args: []string{"reconcile", "--since", "soon"}, code: exitUsage, want: []string{`invalid argument "soon"`, "--since"}},
		{args: []string{"reconcile", "--since", "-1h"}, code: exitUsage, want: []string{"--since -1h0m0s is not a positive duration"}},
		{args: []string{"demo", "again"}, code: exitUsage, want: []string{"supportctl demo:", `unexpected argument "again"`}},
		{args: []string{"demo", "--wait", "0s"}, code: exitUsage, want: []string{"--wait 0s"}},
		{args: []string{"demo"}, code: exitFail, want: []string{"supportctl demo:", "no server at http://127.0.0.1:", "make run"}},
		{args: []string{"completion"}, code: exitUsage, want: []string{"supportctl completion:", "bash", "zsh", "fish"}},
		{args: []string{"completion", "tcsh"}, code: exitUsage, want: []string{`unknown command "tcsh"`}},
		{args: []string{"completion", "bash", "extra"}, code: exitUsage, want: []string{`unexpected argument "extra"`}},
		{args: []string{"completion", "zsh", "extra"}, code: exitUsage, want: []string{`unexpected argument "extra"`}},
		{args: []string{"completion", "fish", "extra"}, code: exitUsage, want: []string{`unexpected argument "extra"`}},
		{args: []string{"completion", "powershell", "extra"}, code: exitUsage, want: []string{`unexpected argument "extra"`}},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := invoke(t, tc.stdin, tc.args...)
			assert.Equal(t, tc.code, code, errOut)
			if tc.args[0] == "classify" && code == exitFail {
				// classify names each refused line, then the count.
				assert.Contains(t, errOut, "line 1 (id 1)")
				errOut = errOut[strings.LastIndex(strings.TrimSuffix(errOut, "\n"), "\n")+1:]
			}
			assertOneLine(t, errOut, tc.want...)
		})
		for i := range tc.args {
			covered[strings.Join(tc.args[:i+1], " ")] = true
		}
	}
	for _, path := range commandPaths() {
		assert.True(t, covered[strings.Join(path, " ")], "no wrong-argument case for %q: add one", strings.Join(path, " "))
	}
}

// TestNoCommand: supportctl alone lists the commands, on stderr since it
// answers a wrong invocation, and exits 2.
func TestNoCommand(t *testing.T) {
	code, out, errOut := invoke(t, "")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out)
	for _, c := range []string{"serve", "send", "demo", "dlq", "completion"} {
		assert.Contains(t, errOut, "\n  "+c+" ")
	}
	assert.NotContains(t, errOut, "worker", "hidden")
}

// TestCompletionScripts: each shell's script is generated, for this
// binary, and the completions it asks the binary for work: the commands
// at the top, dlq's subcommands, and a flag's name.
func TestCompletionScripts(t *testing.T) {
	cliEnv(t)
	for shell, marker := range map[string]string{
		"bash": "# bash completion V2 for supportctl", "zsh": "#compdef supportctl",
		"fish": "# fish completion for supportctl", "powershell": "# powershell completion for supportctl",
	} {
		code, out, errOut := invoke(t, "", "completion", shell)
		assert.Equal(t, exitOK, code, errOut)
		assert.Contains(t, out, marker, shell)
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", ""}, []string{"serve", "send", "demo", "dlq", "sla", "completion"}},
		{[]string{"__complete", "dlq", ""}, []string{"list", "show", "redrive"}},
		{[]string{"__complete", "sla", "due", "--"}, []string{"--opened"}}, // the required flag first
		{[]string{"__complete", "sla", "due", "--opened", "2026-05-15T20:59:00Z", "--"}, []string{"--inbox"}},
		{[]string{"__complete", "dlq", "redrive", "--"}, []string{"--all"}},
	}
	for _, tc := range tests {
		code, out, errOut := invoke(t, "", tc.args...)
		assert.Equal(t, exitOK, code, errOut)
		for _, w := range tc.want {
			assert.Contains(t, out, w+"\t", "%v", tc.args)
		}
		assert.NotContains(t, out, "worker")
	}
}

// TestClassifyLines: good lines are classified in order; a line without a
// string text is refused on stderr by line number and id, and the run
// goes on and exits 1; blank lines are skipped.
func TestClassifyLines(t *testing.T) {
	cliEnv(t)
	in := strings.Join([]string{
		`{"id":1,"text":"I was charged twice!!"}`,
		`{"id":2}`,
		``,
		`not json`,
		`{"id":"x","text":null}`,
		`{"id":3,"text":5}`,
		`{"id":4,"text":""}`,
	}, "\n") + "\n"
	code, out, errOut := invoke(t, in, "classify")
	assert.Equal(t, exitFail, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	assert.Regexp(t, `^\{"id":1,"tags":\[[^]]*"billing"[^]]*\],"angry":(true|false),"anger_score":[0-9.e-]+\}$`, lines[0])
	assert.Regexp(t, `^\{"id":4,"tags":\[\],"angry":false,"anger_score":[0-9.e-]+\}$`, lines[1])
	assert.Equal(t, []string{
		`supportctl classify: line 2 (id 2): no "text"`,
		`supportctl classify: line 4: not a JSON object: invalid character 'o' in literal null (expecting 'u')`,
		`supportctl classify: line 5 (id "x"): no "text"`,
		`supportctl classify: line 6 (id 3): "text" is not a string`,
		`supportctl classify: 4 of 6 lines not classified (see the errors above)`,
	}, strings.Split(strings.TrimSpace(errOut), "\n"))
	assert.NotContains(t, errOut, "charged", "no message text in the errors")

	code, out, errOut = invoke(t, `{"id":1,"text":"where is my parcel?"}`+"\n", "classify")
	assert.Equal(t, exitOK, code, errOut)
	assert.Empty(t, errOut)
	assert.Contains(t, out, `"shipping"`)
}

func assertOneLine(t *testing.T, s string, want ...string) {
	t.Helper()
	assert.Equal(t, 1, strings.Count(s, "\n"), "one line: %q", s)
	assert.True(t, strings.HasSuffix(s, "\n"), "ends the line: %q", s)
	for _, w := range want {
		assert.Contains(t, s, w)
	}
}
