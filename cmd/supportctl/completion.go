package main

import (
	"github.com/spf13/cobra"
)

func init() {
	register(func() *cobra.Command {
		script := func(shell, how string, gen func(c *cobra.Command) error) *cobra.Command {
			return &cobra.Command{
				Use:   shell,
				Short: "the completion script for " + shell,
				Long:  "Prints the " + shell + " completion script of supportctl.\n\n" + how,
				RunE:  func(c *cobra.Command, _ []string) error { return gen(c) },
			}
		}
		// The scripts ask the binary itself for completions (cobra's
		// hidden __complete command), so they complete flags, files and
		// dead-letter ids alike and never go stale.
		return group("completion", "print a shell completion script (bash, zsh, fish, powershell)",
			`completion prints a script that makes the shell complete supportctl's
commands, flags and arguments (dead-letter ids for dlq show and redrive). It
completes a supportctl found on the PATH: go build -o ~/bin/supportctl ./cmd/supportctl`,
			script("bash", "Load it in the current shell:\n  source <(supportctl completion bash)\n"+
				"or for every session (needs the bash-completion package):\n  supportctl completion bash > ~/.local/share/bash-completion/completions/supportctl",
				func(c *cobra.Command) error { return c.Root().GenBashCompletionV2(c.OutOrStdout(), true) }),
			script("zsh", "Load it in the current shell:\n  source <(supportctl completion zsh)\n"+
				"or for every session (a folder on your fpath, compinit enabled):\n  supportctl completion zsh > \"${fpath[1]}/_supportctl\"",
				func(c *cobra.Command) error { return c.Root().GenZshCompletion(c.OutOrStdout()) }),
			script("fish", "Load it in the current shell:\n  supportctl completion fish | source\n"+
				"or for every session:\n  supportctl completion fish > ~/.config/fish/completions/supportctl.fish",
				func(c *cobra.Command) error { return c.Root().GenFishCompletion(c.OutOrStdout(), true) }),
			script("powershell", "Load it in the current shell:\n  supportctl completion powershell | Out-String | Invoke-Expression",
				func(c *cobra.Command) error { return c.Root().GenPowerShellCompletionWithDesc(c.OutOrStdout()) }),
		)
	})
}
