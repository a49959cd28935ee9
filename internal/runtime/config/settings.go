package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Settings is every runtime setting of the pipeline, read once, by one
// parser, from the environment and the configuration file. The Lambda
// functions and the local server read the same variables into the same
// values; where a value is fixed in code it is a constant below, for both.
// docs/architecture.md lists them all. Secrets are not settings: each
// runtime reads those it needs from where it keeps them (Secrets Manager,
// or the environment and the data dir).
type Settings struct {
	// File is the configuration file (SUPPORT_CONFIG, or SUPPORT_CONFIG_YAML
	// inline on Lambda), or its defaults.
	File *Config
	// Live is CHATWOOT_LIVE=true: Chatwoot is called, not recorded.
	Live bool
	// ChatwootURL is CHATWOOT_BASE_URL, without a trailing slash.
	ChatwootURL string
	// Account is CHATWOOT_ACCOUNT_ID: the account of an event that names
	// none (0: none), and the one reconciliation and the team check ask.
	Account int64
	// ChatwootRatePerMinute is CHATWOOT_RATE_PER_MINUTE: the calls a
	// minute the whole deployment may make to Chatwoot's API (its per-IP
	// allowance); a runtime running several instances divides it.
	ChatwootRatePerMinute float64
	// LogLevel is SUPPORT_LOG_LEVEL (debug, info, warn, error).
	LogLevel slog.Level

	// The local server's own: SUPPORT_ADDR, SUPPORT_DATA_DIR and
	// SUPPORT_REPORTS_ROOT (where reports/support/ goes).
	Addr, DataDir, ReportsRoot string
}

// Fixed settings, the same on both runtimes.
const (
	// EnqueueTimeout bounds the edge's queue call, SDK retries included,
	// so that with a spool write after it a webhook is answered well
	// inside Chatwoot's 5 s.
	EnqueueTimeout = 1200 * time.Millisecond
	// ReplayCacheSize is how many recent signatures the edge remembers to
	// answer a replay 409 (per process or instance; 4 MB at most).
	ReplayCacheSize = 100_000
	// SpoolDrainMax is how many spooled events one drain sends at most.
	SpoolDrainMax = 1000
	// ReconcileEvery and ReconcileWindow: reconciliation runs every 15
	// minutes over the last hour, so a webhook that never arrived is
	// back-filled within a quarter of an hour and a missed run or two
	// still overlap.
	ReconcileEvery  = 15 * time.Minute
	ReconcileWindow = time.Hour
	// SLASweepLimit bounds the waiting conversations one sweep looks at.
	SLASweepLimit = 10_000
	// DefaultChatwootRatePerMinute leaves a fifth of Chatwoot's default
	// per-IP allowance (3,000 requests a minute) to its own users.
	DefaultChatwootRatePerMinute = 2400
)

// ReadSettings reads the settings from getenv (os.Getenv). An error names
// the variable at fault.
func ReadSettings(getenv func(string) string) (Settings, error) {
	s := Settings{
		Live:                  getenv("CHATWOOT_LIVE") == "true",
		ChatwootURL:           strings.TrimRight(strings.TrimSpace(getenv("CHATWOOT_BASE_URL")), "/"),
		ChatwootRatePerMinute: DefaultChatwootRatePerMinute,
		LogLevel:              slog.LevelInfo,
		Addr:                  or(getenv("SUPPORT_ADDR"), "127.0.0.1:8080"),
		DataDir:               or(getenv("SUPPORT_DATA_DIR"), ".data"),
		ReportsRoot:           or(getenv("SUPPORT_REPORTS_ROOT"), "."),
	}
	var errs []error
	if v := strings.TrimSpace(getenv("CHATWOOT_ACCOUNT_ID")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, errors.New("CHATWOOT_ACCOUNT_ID must be a positive integer"))
		}
		s.Account = n
	}
	if v := strings.TrimSpace(getenv("CHATWOOT_RATE_PER_MINUTE")); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || !(n > 0) {
			errs = append(errs, errors.New("CHATWOOT_RATE_PER_MINUTE must be a positive number"))
		}
		s.ChatwootRatePerMinute = n
	}
	if v := strings.TrimSpace(getenv("SUPPORT_LOG_LEVEL")); v != "" {
		if err := s.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("SUPPORT_LOG_LEVEL: %q is not debug, info, warn or error", v))
		}
	}
	var err error
	switch path, inline := getenv("SUPPORT_CONFIG"), getenv("SUPPORT_CONFIG_YAML"); {
	case path != "":
		s.File, err = Load(path)
	case inline != "":
		// Lambda functions get the file's content inline (the stack reads
		// the file named by -c supportConfig=… at synth time and checks it).
		if s.File, err = Parse([]byte(inline)); err != nil {
			err = fmt.Errorf("SUPPORT_CONFIG_YAML: %w", err)
		}
	default:
		s.File, err = Parse(nil)
	}
	if err != nil {
		errs = append(errs, err)
	}
	return s, errors.Join(errs...)
}

func or(v, def string) string {
	if v = strings.TrimSpace(v); v != "" {
		return v
	}
	return def
}
