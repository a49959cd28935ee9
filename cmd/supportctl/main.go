// Command supportctl runs the local pipeline and operates it: serve, send,
// dlq, report, sla, classify, draft, reconcile, demo. `supportctl --help` lists
// the commands; the README has the whole command set.
//
// Each command is one file that registers a constructor in its init
// (register); run builds a fresh command tree for every call, so that a test
// can run the dispatcher in-process many times without flag values leaking
// from one run into the next.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes: 0 done (help included), 1 the command ran and failed, 2 the
// invocation was wrong (unknown command or flag, missing or invalid
// argument), as with the flag package and most Unix tools.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// registry holds the commands' constructors, in registration order.
var registry []func() *cobra.Command

// register adds a top-level command. It is called from the init of the
// command's own file, so adding a command touches no other file.
func register(build func() *cobra.Command) { registry = append(registry, build) }

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run parses args, runs the command they name and returns the exit code.
// Help goes to stdout with code 0; every error is one line on stderr that
// names the command and the problem.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if len(args) == 0 {
		// No command: the list of commands is what the user needs, on
		// stderr since it answers a wrong invocation.
		root.SetOut(stderr)
		_ = root.Help()
		return exitUsage
	}
	// An error that comes back before the command's own code started is
	// about the invocation: cobra found no command, a flag it could not
	// parse, or an argument check failed.
	started := false
	walk(root, func(c *cobra.Command) {
		if c.RunE == nil {
			return
		}
		inner := c.RunE
		c.RunE = func(c *cobra.Command, args []string) error {
			started = true
			return inner(c, args)
		}
	})
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if cmd == nil {
		cmd = root
	}
	var ue usageError
	if !started || errors.As(err, &ue) {
		fmt.Fprintf(stderr, "%s: %s (see '%s --help')\n", cmd.CommandPath(), oneLine(err.Error(), 400), cmd.CommandPath())
		return exitUsage
	}
	fmt.Fprintf(stderr, "%s: %s\n", cmd.CommandPath(), oneLine(err.Error(), 2000))
	return exitFail
}

// newRoot builds the command tree: the registered commands, help and
// completion.
func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "supportctl",
		Short: "the local Chatwoot support pipeline and its operator tools",
		Long: `supportctl runs the support pipeline locally (serve) and operates it:
send signed webhooks, try it with a demo, review the dead-letter queue, write
reports, compute SLA due times, classify text, draft replies, reconcile with
Chatwoot.

Local commands read SUPPORT_DATA_DIR (default .data) and SUPPORT_CONFIG, as
serve does. Exit codes: 0 done, 1 the command failed, 2 wrong usage.`,
		Args:          unknownCommand,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Runnable only so that an unknown command reaches unknownCommand
		// instead of cobra's own message.
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	// Flag errors are usage errors; cobra reports them without the command.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.CompletionOptions.DisableDefaultCmd = true // completion.go defines its own
	for _, build := range registry {
		root.AddCommand(build())
	}
	root.SetHelpCommand(helpCommand())
	root.InitDefaultHelpCmd() // now, so that walks (and the help test) see it
	// A command that declares no positional arguments takes none: cobra
	// would otherwise accept and ignore them.
	walk(root, func(c *cobra.Command) {
		if c.Args == nil {
			c.Args = noArgs
		}
	})
	return root
}

// helpCommand is `supportctl help [command...]`; unlike cobra's, an unknown
// topic is a usage error.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command...]",
		Short: "help about any command",
		Long:  "help prints the usage of a command: supportctl help dlq redrive.",
		Args:  cobra.ArbitraryArgs,
		ValidArgsFunction: func(c *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target, _, err := c.Root().Find(args)
			if err != nil {
				target = c.Root()
			}
			var out []cobra.Completion
			for _, sub := range target.Commands() {
				if sub.IsAvailableCommand() {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return usageErrorf("no command %q", strings.Join(args, " "))
			}
			target.InitDefaultHelpFlag() // so that the usage lists it, as with --help
			return target.Help()
		},
	}
}

// usageError is an error in the invocation: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// unknownCommand is the positional check of the root and of commands that
// only group subcommands: any argument is a command that does not exist.
func unknownCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's default, which only its own lookup sets
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return usageError{errors.New(msg)}
}

// group makes a command that only holds subcommands: without one it is a
// usage error naming them.
func group(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Long: long, Args: unknownCommand}
	for _, s := range subs {
		c.AddCommand(s)
	}
	c.RunE = func(c *cobra.Command, _ []string) error {
		var names []string
		for _, s := range c.Commands() {
			names = append(names, s.Name())
		}
		return usageErrorf("want a subcommand: %s", strings.Join(names, ", "))
	}
	return c
}

// args checks the positional arguments of a command that takes between min
// and max (max < 0: any number), with what they are for the message; it
// also checks the flags marked required (requireFlag), so that both kinds
// of mistake read alike.
func args(min, max int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, a []string) error {
		var missing []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if slices.Contains(f.Annotations[cobra.BashCompOneRequiredFlag], "true") && !f.Changed {
				missing = append(missing, "--"+f.Name)
			}
		})
		if len(missing) > 0 {
			return usageErrorf("missing required flag %s", strings.Join(missing, ", "))
		}
		switch {
		case len(a) < min:
			return usageErrorf("missing %s", what)
		case max >= 0 && len(a) > max:
			return usageErrorf("unexpected argument %q", a[max])
		}
		return nil
	}
}

// noArgs is args(0, 0, "").
var noArgs = args(0, 0, "")

// requireFlag marks a flag required: help and completion show it, and args
// refuses a call without it.
func requireFlag(c *cobra.Command, name string) {
	if err := c.MarkFlagRequired(name); err != nil {
		panic(err) // a typo in a flag name, found by the help test
	}
}

// walk calls fn on c and every command below it.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// oneLine keeps an error to one line of at most n characters.
func oneLine(s string, n int) string {
	r := []rune(s)
	for i, c := range r {
		if c == '\n' || c == '\t' || c == '\r' {
			r[i] = ' '
		}
	}
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return string(r)
}
