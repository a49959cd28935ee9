package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"supportpipe/internal/ops/report"
)

func reportCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	day := fs.String("date", report.Yesterday(time.Now()), "UTC day to report on (YYYY-MM-DD)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := time.Parse(time.DateOnly, *day); err != nil {
		return errors.New("report: --date must be YYYY-MM-DD")
	}
	s, err := openQuiet(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	key, err := s.WriteReport(ctx, *day)
	if err != nil {
		return err
	}
	fmt.Println(key)
	return nil
}
