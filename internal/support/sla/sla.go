package sla

import (
	"errors"
	"math"
	"time"
)

// ErrNeverOpen reports a calendar with no business time for a year or more
// after the start, under which a target never comes due.
var ErrNeverOpen = errors.New("sla: no business hours within a year")

// State is where a conversation stands against a response target.
type State string

const (
	Pending  State = "pending"  // no response yet, more than the at-risk share left
	AtRisk   State = "at_risk"  // no response yet, at most the at-risk share left
	Met      State = "met"      // responded at or before the due time
	Breached State = "breached" // responded after the due time, or due time passed
)

// Status is the evaluation of one response target.
type Status struct {
	State State
	// DueAt is when the target runs out; zero if the calendar never opens.
	DueAt time.Time
	// Elapsed is the business time from opening to the response, or to now
	// while there is none; Remaining is the target minus Elapsed, negative
	// once overrun. Both stop while business is closed, so Remaining can be
	// 0 in a Breached state whose due time was a closing time.
	Elapsed, Remaining time.Duration
}

// DueAt returns when target of business time has elapsed since opened.
func DueAt(cal *Calendar, opened time.Time, target time.Duration) (time.Time, error) {
	t, ok := cal.Add(opened, target)
	if !ok {
		return time.Time{}, ErrNeverOpen
	}
	return t, nil
}

// Evaluate measures a response target, in business time under cal, for a
// conversation opened at openedAt and answered at respondedAt (zero if not
// yet), as of now. It is at risk when at most atRiskFraction of the target
// is left. Under a calendar that never opens nothing is ever due, so the
// state is Pending or Met.
func Evaluate(target time.Duration, atRiskFraction float64, cal *Calendar, openedAt, respondedAt, now time.Time) Status {
	responded := !respondedAt.IsZero()
	end := now
	if responded {
		end = respondedAt
	}
	s := Status{Elapsed: max(cal.Between(openedAt, end), 0)}
	s.Remaining = target - s.Elapsed
	due, err := DueAt(cal, openedAt, target)
	if err == nil {
		s.DueAt = due
	}
	// Rounded, so that 0.2 of 15 m is exactly 3 m despite binary fractions.
	risk := time.Duration(math.Round(atRiskFraction * float64(target)))
	switch {
	case responded && (err != nil || !respondedAt.After(due)):
		s.State = Met
	case responded || err == nil && now.After(due):
		s.State = Breached
	case s.Remaining <= risk:
		s.State = AtRisk
	default:
		s.State = Pending
	}
	return s
}
