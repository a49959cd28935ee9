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
	"cmp"
	"errors"
	"fmt"
	"math"
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

	// maxSearchDays bounds Add where no closure stops it: 2^40 days is past
	// the longest business time a Duration holds (292 years) at one minute
	// a week.
	maxSearchDays = 1 << 40

	maxDuration = time.Duration(math.MaxInt64)
)

// Clock changes are looked up once per calendar between these instants, so
// that Between and Add count whole weeks by arithmetic and correct only the
// dates a change touches. Beyond them (times no event of ours carries) a
// date counts its hours as if the clocks never changed: off by the size of
// each change that falls in business hours, an hour or so a year.
var (
	changesFrom = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	changesTo   = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// dawn and dusk lie before and after every date a calendar can be asked
// about; they stand for no bound.
var (
	dawn = time.Unix(-1<<62, 0)
	dusk = time.Unix(1<<62, 0)
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
//
// Dates are numbered as days since 1970-01-01 (local dates). Between and Add
// never visit the dates between their ends one by one: the business time of
// a stretch of whole dates is its whole weeks by multiplication, plus its
// last few dates, minus its holidays, plus what clock changes alter in it,
// both found by binary search over running sums. Add finds its date by
// doubling and halving over such sums. Their cost grows with the logarithm
// of the distance and of the number of holidays, never with the distance.
type Calendar struct {
	loc  *time.Location
	week Week
	open bool // some weekday has business hours

	// day is each weekday's business time on a date without a clock change.
	day    [7]time.Duration
	weekly time.Duration
	// holidays are the sorted dates closed all day that would be open;
	// holidaySum[i] is the business time the first i of them take away.
	holidays   []int64
	holidaySum []time.Duration
	// changes are the dates whose business time a clock change alters,
	// sorted; changeSum[i] is the sum of the first i alterations.
	changes   []change
	changeSum []time.Duration
	// closures are the runs of maxIdleDays-1 or more dates without
	// business time, sorted; only holidays make them.
	closures []run
}

type change struct {
	date int64
	by   time.Duration // business time of the date minus day[weekday]
}

type run struct{ first, last int64 }

// NewCalendar returns the calendar of week in loc. Only the year, month and
// day of each holiday count, read in the holiday's own location.
func NewCalendar(loc *time.Location, week Week, holidays []time.Time) (*Calendar, error) {
	if loc == nil {
		return nil, errors.New("sla: nil location")
	}
	c := &Calendar{loc: loc}
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
			c.day[d] += time.Duration(iv.Close-iv.Open) * time.Minute
		}
		c.week[d] = ivs
		c.weekly += c.day[d]
		c.open = c.open || len(ivs) > 0
	}
	for _, h := range holidays {
		y, m, d := h.Date()
		if n := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay; c.day[weekday(n)] > 0 {
			c.holidays = append(c.holidays, n)
		}
	}
	slices.Sort(c.holidays)
	c.holidays = slices.Compact(c.holidays)
	c.holidaySum = make([]time.Duration, len(c.holidays)+1)
	for i, n := range c.holidays {
		c.holidaySum[i+1] = c.holidaySum[i] + c.day[weekday(n)]
	}
	c.findChanges()
	c.findClosures()
	return c, nil
}

// findChanges records how the clock changes between changesFrom and
// changesTo alter the business time of the dates they fall on: the local
// dates just before and at each change, the only ones on which clock()
// cannot count minutes from midnight. Each is measured on its own, so it
// counts exactly as when every date was visited.
func (c *Calendar) findChanges() {
	c.changeSum = []time.Duration{0}
	if !c.open {
		return
	}
	var near []int64
	for t := changesFrom.In(c.loc); ; {
		_, next := t.ZoneBounds()
		if next.IsZero() || !next.Before(changesTo) {
			break
		}
		from := next.Add(-1)
		if !next.After(t) {
			// Under a zone's recurring rule, ZoneBounds ends a leap year a
			// day early and then answers t itself for that day. Step over
			// the day and measure every date it touches.
			from, next = t, t.Add(oneDay)
		}
		for n := c.dayOf(from); n <= c.dayOf(next); n++ {
			near = append(near, n)
		}
		t = next
	}
	slices.Sort(near)
	for _, n := range slices.Compact(near) {
		if c.holiday(n) {
			continue
		}
		if by := c.span(n, dawn, dusk) - c.day[weekday(n)]; by != 0 {
			c.changes = append(c.changes, change{n, by})
			c.changeSum = append(c.changeSum, c.changeSum[len(c.changeSum)-1]+by)
		}
	}
}

// findClosures records the long runs of dates without business time. A run
// of a year holds a holiday (a clock change closes a date's hours at most a
// few times a year), so runs are found by walking out from each.
func (c *Calendar) findClosures() {
	if !c.open {
		return
	}
	end := int64(math.MinInt64)
	for _, h := range c.holidays {
		if h <= end {
			continue
		}
		r := run{h, h}
		for c.closed(r.first - 1) {
			r.first--
		}
		for c.closed(r.last + 1) {
			r.last++
		}
		end = r.last
		if r.last-r.first+1 >= maxIdleDays-1 {
			c.closures = append(c.closures, r)
		}
	}
}

// closed reports a date without business time: its weekday has no hours,
// it is a holiday, or a clock change skips all its hours.
func (c *Calendar) closed(n int64) bool {
	w := weekday(n)
	if c.day[w] == 0 || c.holiday(n) {
		return true
	}
	i, ok := c.change(n)
	return ok && c.changes[i].by == -c.day[w]
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
	first := c.dayOf(start)
	t, left := c.spend(first, start, d)
	if left == 0 {
		return t.In(start.Location()), true
	}
	// Find the m-th date after the first on which the business time left
	// runs out: by doubling m, then halving, over sums of whole dates.
	limit := int64(maxSearchDays)
	if f, ok := c.giveUp(first, left == d); ok {
		limit = f - first
	}
	sum := func(m int64) time.Duration { return c.dates(first+1, first+1+m) }
	lo, hi := int64(0), int64(1)
	var before time.Duration // sum(lo), below left
	for {
		s := sum(hi)
		if s >= left {
			break
		}
		if hi == limit {
			return time.Time{}, false
		}
		lo, hi, before = hi, min(2*hi, limit), s
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if s := sum(mid); s >= left {
			hi = mid
		} else {
			lo, before = mid, s
		}
	}
	return c.addFrom(first+hi, start, left-before)
}

// addFrom spends d date by date from date n on, as Add did over every date.
// Within changesFrom and changesTo it ends on date n; beyond them, where
// clock changes are not looked up, it may take a few more dates.
func (c *Calendar) addFrom(n int64, start time.Time, d time.Duration) (time.Time, bool) {
	for idle := 0; idle < maxIdleDays; n++ {
		idle++
		t, left := c.spend(n, start, d)
		if left == 0 {
			return t.In(start.Location()), true
		}
		if left < d {
			idle = 0
		}
		d = left
	}
	return time.Time{}, false
}

// spend spends d of the business time of date n from start on. It returns
// the instant d runs out, or what is left of d when the date has too little.
func (c *Calendar) spend(n int64, start time.Time, d time.Duration) (time.Time, time.Duration) {
	date := dateAt(n)
	ivs := c.intervals(date)
	if len(ivs) == 0 {
		return time.Time{}, d
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
		left := to.Sub(from)
		if d <= left {
			return from.Add(d), 0
		}
		d -= left
	}
	return time.Time{}, d
}

// giveUp returns the date on which a search for business time that begins
// on date from has seen maxIdleDays dates in a row without any, and gives
// up; ok is false when no closure lies ahead. closedFirst says the first
// date has no business time left after the start.
func (c *Calendar) giveUp(from int64, closedFirst bool) (int64, bool) {
	i, _ := slices.BinarySearchFunc(c.closures, from, func(r run, n int64) int { return cmp.Compare(r.last, n) })
	for ; i < len(c.closures); i++ {
		r := c.closures[i]
		first := max(r.first, from)
		if r.first == from+1 && closedFirst {
			first = from
		}
		if r.last-first+1 >= maxIdleDays {
			return first + maxIdleDays - 1, true
		}
	}
	return 0, false
}

// Between returns the business time from a to b, negative when b is before
// a. It saturates at the largest Duration (292 years).
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if b.Before(a) {
		return -c.Between(b, a)
	}
	first, last := c.dayOf(a), c.dayOf(b)
	switch {
	case last < first: // the clocks went back over midnight
		return 0
	case last == first:
		return c.span(first, a, b)
	}
	return addSat(c.span(first, a, b)+c.span(last, a, b), c.dates(first+1, last))
}

// span returns the business time of date n within [a, b].
func (c *Calendar) span(n int64, a, b time.Time) time.Duration {
	date := dateAt(n)
	ivs := c.intervals(date)
	if len(ivs) == 0 {
		return 0
	}
	k := c.clock(date)
	var sum time.Duration
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
	return sum
}

// dates returns the business time of the whole dates from lo to hi
// (exclusive), saturating at the largest Duration.
func (c *Calendar) dates(lo, hi int64) time.Duration {
	if hi <= lo {
		return 0
	}
	weeks := (hi - lo) / 7
	if c.weekly > 0 && weeks > int64((maxDuration-c.weekly)/c.weekly) {
		return maxDuration
	}
	sum := time.Duration(weeks) * c.weekly
	for n := lo + 7*weeks; n < hi; n++ {
		sum += c.day[weekday(n)]
	}
	i, _ := slices.BinarySearch(c.holidays, lo)
	j, _ := slices.BinarySearch(c.holidays, hi)
	sum -= c.holidaySum[j] - c.holidaySum[i]
	i, _ = c.change(lo)
	j, _ = c.change(hi)
	return addSat(sum, c.changeSum[j]-c.changeSum[i])
}

// dayOf returns t's local date as days since 1970-01-01.
func (c *Calendar) dayOf(t time.Time) int64 {
	_, off := t.In(c.loc).Zone()
	s := t.Unix() + int64(off)
	n := s / secondsPerDay
	if s%secondsPerDay < 0 {
		n--
	}
	return n
}

// dateOf returns t's local date as midnight UTC, a form that steps from date
// to date by exactly 24 h.
func (c *Calendar) dateOf(t time.Time) time.Time { return dateAt(c.dayOf(t)) }

// dateAt returns date n as midnight UTC.
func dateAt(n int64) time.Time { return time.Unix(n*secondsPerDay, 0).UTC() }

// weekday returns the weekday of date n; 1970-01-01 was a Thursday.
func weekday(n int64) time.Weekday { return time.Weekday((n%7 + 7 + int64(time.Thursday)) % 7) }

// intervals returns the business intervals of date.
func (c *Calendar) intervals(date time.Time) []Interval {
	if c.holiday(date.Unix() / secondsPerDay) {
		return nil
	}
	return c.week[date.Weekday()]
}

func (c *Calendar) holiday(n int64) bool {
	_, ok := slices.BinarySearch(c.holidays, n)
	return ok
}

// change finds date n among the changes, or where it would go.
func (c *Calendar) change(n int64) (int, bool) {
	return slices.BinarySearchFunc(c.changes, n, func(ch change, n int64) int { return cmp.Compare(ch.date, n) })
}

func addSat(a, b time.Duration) time.Duration {
	if b > 0 && a > maxDuration-b {
		return maxDuration
	}
	return a + b
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
