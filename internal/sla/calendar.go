// Package sla does business-hours arithmetic and evaluates response targets
// against it.
//
// # Business hours
//
// A Calendar holds, for each weekday, intervals of local wall-clock time, plus
// holidays (local dates closed all day). Intervals are half-open: a day of
// "09:00-17:00" is open at 09:00:00 and at 16:59:59 but closed at 17:00:00.
// Chatwoot's WorkingHour#open_at? treats the closing minute as inclusive, so
// a message at 17:00 would count as in hours there and is out of hours here.
// Measuring durations, the half-open form is what makes a 09:00-17:00 day
// exactly 8 h and lets "…-24:00" on one day and "00:00-…" on the next join
// without overlap, so business hours can run past midnight.
//
// # Clock changes
//
// Hours are wall-clock times, so a period runs from the first instant the
// local clock reads its opening time to the first instant it reads its
// closing time. A 09:00-17:00 day is 8 h on a day the clocks change at night;
// a period that contains the change lasts the real elapsed time (00:00-24:00
// is 23 h on a spring-forward day and 25 h on a fall-back day). An opening or
// closing time skipped by a spring-forward jump takes the instant of the jump;
// one that occurs twice at fall-back takes its first occurrence. The time
// package leaves both cases unspecified and differs between zones, which is
// why the calendar resolves them itself.
package sla

import (
	"errors"
	"fmt"
	"slices"
	"time"
	_ "time/tzdata" // Lambda images may lack a zoneinfo database.
)

const (
	minutesPerDay = 24 * 60
	secondsPerDay = 24 * 60 * 60
	oneDay        = 24 * time.Hour

	// maxIdleDays bounds the search for business time, so that a calendar
	// closed for good (every open day a holiday) ends it instead of looping.
	maxIdleDays = 366
)

// Interval is a daily business period, [Open, Close) in minutes after local
// midnight; Close is at most 24:00.
type Interval struct {
	Open, Close int
}

// ParseInterval parses "HH:MM-HH:MM". "24:00" is allowed as a closing time,
// so "00:00-24:00" is a whole day.
func ParseInterval(s string) (Interval, error) {
	if len(s) != len("00:00-00:00") || s[5] != '-' {
		return Interval{}, fmt.Errorf("%q: want HH:MM-HH:MM", s)
	}
	open, ok1 := parseClock(s[:5])
	close, ok2 := parseClock(s[6:])
	switch {
	case !ok1 || open == minutesPerDay:
		return Interval{}, fmt.Errorf("%q: opening %s is not a time of day", s, s[:5])
	case !ok2:
		return Interval{}, fmt.Errorf("%q: closing %s is not a time of day", s, s[6:])
	case close <= open:
		return Interval{}, fmt.Errorf("%q: closes before it opens", s)
	}
	return Interval{open, close}, nil
}

// parseClock parses "HH:MM" from 00:00 to 24:00 into minutes.
func parseClock(s string) (int, bool) {
	if s[2] != ':' {
		return 0, false
	}
	h, ok1 := twoDigits(s[:2])
	m, ok2 := twoDigits(s[3:])
	if !ok1 || !ok2 || m > 59 || h*60+m > minutesPerDay {
		return 0, false
	}
	return h*60 + m, true
}

func twoDigits(s string) (int, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// Overlaps reports whether iv and o share any time. Intervals that only touch
// ("09:00-12:00" and "12:00-17:00") do not overlap.
func (iv Interval) Overlaps(o Interval) bool {
	return iv.Open < o.Close && o.Open < iv.Close
}

// String formats iv as ParseInterval reads it.
func (iv Interval) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", iv.Open/60, iv.Open%60, iv.Close/60, iv.Close%60)
}

// Week holds the business intervals of each weekday, indexed by time.Weekday.
type Week [7][]Interval

// Calendar is a location's business hours. It is immutable and safe for
// concurrent use.
type Calendar struct {
	loc      *time.Location
	week     Week
	holidays map[int64]bool // days since 1970-01-01 of local dates
	open     bool           // some weekday has business hours
}

// NewCalendar returns the calendar of week in loc. Only the year, month and
// day of each holiday count, read in the holiday's own location.
func NewCalendar(loc *time.Location, week Week, holidays []time.Time) (*Calendar, error) {
	if loc == nil {
		return nil, errors.New("sla: nil location")
	}
	c := &Calendar{loc: loc, holidays: make(map[int64]bool, len(holidays))}
	for d, ivs := range week {
		ivs = slices.Clone(ivs)
		slices.SortFunc(ivs, func(a, b Interval) int { return a.Open - b.Open })
		for i, iv := range ivs {
			if iv.Open < 0 || iv.Close > minutesPerDay || iv.Close <= iv.Open {
				return nil, fmt.Errorf("sla: %v interval %v is not within one day", time.Weekday(d), iv)
			}
			if i > 0 && iv.Overlaps(ivs[i-1]) {
				return nil, fmt.Errorf("sla: %v intervals %v and %v overlap", time.Weekday(d), ivs[i-1], iv)
			}
		}
		c.week[d] = ivs
		c.open = c.open || len(ivs) > 0
	}
	for _, h := range holidays {
		y, m, d := h.Date()
		c.holidays[time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()/secondsPerDay] = true
	}
	return c, nil
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Open reports whether t is within business hours.
func (c *Calendar) Open(t time.Time) bool {
	date := c.dateOf(t)
	ivs := c.intervals(date)
	if len(ivs) == 0 {
		return false
	}
	k := c.clock(date)
	for _, iv := range ivs {
		if !t.Before(k.at(iv.Open)) && t.Before(k.at(iv.Close)) {
			return true
		}
	}
	return false
}

// Add returns the instant at which d of business time has elapsed since
// start; a start outside business hours counts from the next opening. A
// result that falls on a closing time is that closing instant, not the next
// opening. ok is false when the calendar has no business time for a year or
// more, so the instant cannot be found. d <= 0 returns start.
func (c *Calendar) Add(start time.Time, d time.Duration) (t time.Time, ok bool) {
	if d <= 0 {
		return start, true
	}
	if !c.open {
		return time.Time{}, false
	}
	for date, idle := c.dateOf(start), 0; idle < maxIdleDays; date = date.Add(oneDay) {
		idle++
		ivs := c.intervals(date)
		if len(ivs) == 0 {
			continue
		}
		k := c.clock(date)
		for _, iv := range ivs {
			from, to := k.at(iv.Open), k.at(iv.Close)
			if from.Before(start) {
				from = start
			}
			if !to.After(from) {
				continue
			}
			idle = 0
			left := to.Sub(from)
			if d <= left {
				return from.Add(d).In(start.Location()), true
			}
			d -= left
		}
	}
	return time.Time{}, false
}

// Between returns the business time from a to b, negative when b is before a.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if b.Before(a) {
		return -c.Between(b, a)
	}
	var sum time.Duration
	for date, last := c.dateOf(a), c.dateOf(b); !date.After(last); date = date.Add(oneDay) {
		ivs := c.intervals(date)
		if len(ivs) == 0 {
			continue
		}
		k := c.clock(date)
		for _, iv := range ivs {
			from, to := k.at(iv.Open), k.at(iv.Close)
			if from.Before(a) {
				from = a
			}
			if to.After(b) {
				to = b
			}
			if to.After(from) {
				sum += to.Sub(from)
			}
		}
	}
	return sum
}

// dateOf returns t's local date as midnight UTC, a form that steps from date
// to date by exactly 24 h.
func (c *Calendar) dateOf(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// intervals returns the business intervals of date.
func (c *Calendar) intervals(date time.Time) []Interval {
	if c.holidays[date.Unix()/secondsPerDay] {
		return nil
	}
	return c.week[date.Weekday()]
}

// clock maps the wall-clock minutes of one local date to instants.
type clock struct {
	c        *Calendar
	date     time.Time
	midnight time.Time
	// regular is set when the clocks do not change during the date, so
	// that minute m is simply midnight plus m; most dates take this path.
	regular bool
}

func (c *Calendar) clock(date time.Time) clock {
	k := clock{c: c, date: date, midnight: c.wall(date, 0)}
	_, off := k.midnight.Zone()
	_, end := k.midnight.ZoneBounds()
	k.regular = k.midnight.Unix()+int64(off) == date.Unix() &&
		(end.IsZero() || end.Sub(k.midnight) > oneDay)
	return k
}

func (k clock) at(min int) time.Time {
	if k.regular {
		return k.midnight.Add(time.Duration(min) * time.Minute)
	}
	return k.c.wall(k.date, min)
}

// wall returns the first instant at which the local clock reads at least min
// minutes after midnight on date: the jump itself for a time skipped by a
// spring-forward change, the first occurrence for one repeated at fall-back.
func (c *Calendar) wall(date time.Time, min int) time.Time {
	y, m, d := date.Date()
	t := time.Date(y, m, d, 0, min, 0, 0, c.loc)
	want := date.Unix() + int64(min)*60
	_, off := t.Zone()
	start, end := t.ZoneBounds()
	switch got := t.Unix() + int64(off); {
	case got > want: // skipped; t lies after the jump
		return start
	case got < want: // skipped; t lies before the jump
		return end
	case start.IsZero() || t.Sub(start) > oneDay:
		return t
	}
	// The clocks went back shortly before t and may have read the same
	// time earlier, under the previous offset.
	_, prev := start.Add(-time.Second).Zone()
	e := time.Unix(want-int64(prev), 0).In(c.loc)
	if _, off := e.Zone(); e.Before(t) && e.Unix()+int64(off) == want {
		return e
	}
	return t
}
