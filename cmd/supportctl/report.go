package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"supportpipe/internal/local"
	"supportpipe/internal/report"
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
	env, cfg, err := loadLocal()
	if err != nil {
		return err
	}
	s, err := local.Open(ctx, env, cfg, local.Classifiers{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
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
