// Command supportctl runs the local pipeline and operates it: serve, send,
// dlq. See the README for the whole command set.
package main

import (
	"context"
	"fmt"
	"os"
)

var commands = map[string]func(ctx context.Context, args []string) error{
	"serve":     serve,
	"worker":    worker, // serve's child process; not for direct use
	"send":      send,
	"dlq":       dlq,
	"report":    reportCmd,
	"sla":       slaCmd,
	"classify":  classify,
	"draft":     draftCmd,
	"reconcile": reconcileCmd,
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: supportctl <command> [flags]

commands:
  serve                         run the local pipeline (HTTP, processor, jobs)
  send --url URL --secret S FILE...
                                sign files exactly as Chatwoot does and POST them
  dlq list | show ID | redrive [ID|--all]
                                inspect and redrive the dead-letter queue
  report --date YYYY-MM-DD      write that day's report (reports/support/<day>.md)
  sla due --opened RFC3339 [--inbox ID]
                                first-response due time under the business hours
  classify                      JSON lines {"id","text"} in, {"id","tags","angry","anger_score"} out
  draft [--knowledge FILE]      JSON lines {"id","text"} in, {"id","draft","source","score"} out,
                                with the configured drafting provider (null draft when it abstains)
  reconcile --since DURATION    back-fill from Chatwoot's API what never arrived by webhook
`)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		usage()
		os.Exit(2)
	}
	if err := cmd(context.Background(), os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "supportctl:", err)
		os.Exit(1)
	}
}
