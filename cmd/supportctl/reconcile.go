package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"
)

// reconcileCmd compares Chatwoot's conversations updated within --since with
// what we stored and queues what never arrived (marked back-filled).
func reconcileCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	since := fs.Duration("since", 24*time.Hour, "window to compare (Go duration, e.g. 6h)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := openQuiet(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if !s.Env.Live {
		return errors.New("reconcile: needs CHATWOOT_LIVE=true, CHATWOOT_BASE_URL, CHATWOOT_API_TOKEN and CHATWOOT_ACCOUNT_ID")
	}
	if s.Reconciler == nil {
		return errors.New("reconcile: CHATWOOT_ACCOUNT_ID is not set")
	}
	res, err := s.Reconciler.Run(ctx, *since)
	fmt.Printf("conversations checked: %d\nmessages back-filled: %d\nstatus changes back-filled: %d\nerrors: %d\n",
		res.Conversations, res.Messages, res.Statuses, res.Errors)
	return err
}
