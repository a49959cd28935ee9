package sla

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected instants below are worked out by hand. Clock changes in 2026:
// New York springs forward on 2026-03-08 at 02:00 EST (07:00Z) and falls back
// on 2026-11-01 at 02:00 EDT (06:00Z); Berlin springs forward on 2026-03-29 at
// 02:00 CET (01:00Z) and falls back on 2026-10-25 at 03:00 CEST (01:00Z).
// 2026-06-01 is a Monday.

type days map[time.Weekday][]string

func every(ivs ...string) days {
	d := days{}
	for w := time.Sunday; w <= time.Saturday; w++ {
		d[w] = ivs
	}
	return d
}

func weekdays(ivs ...string) days {
	d := days{}
	for w := time.Monday; w <= time.Friday; w++ {
		d[w] = ivs
	}
	return d
}

// cal builds a calendar from valid test input; it panics so that calendars
// can be package variables shared by the tables.
func cal(zone string, week days, holidays ...string) *Calendar {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		panic(err)
	}
	var w Week
	for d, ivs := range week {
		for _, s := range ivs {
			iv, err := ParseInterval(s)
			if err != nil {
				panic(err)
			}
			w[d] = append(w[d], iv)
		}
	}
	var hs []time.Time
	for _, h := range holidays {
		t, err := time.Parse(time.DateOnly, h)
		if err != nil {
			panic(err)
		}
		hs = append(hs, t)
	}
	c, err := NewCalendar(loc, w, hs)
	if err != nil {
		panic(err)
	}
	return c
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// format renders got in the offset of want, so that a mismatch reads well.
func format(got time.Time, want string) string {
	return got.In(ts(want).Location()).Format(time.RFC3339)
}

var (
	// The default calendar of docs/design.md §4: New York, lunch on Wednesdays, Christmas off.
	ny = cal("America/New_York", days{
		time.Monday:    {"09:00-17:00"},
		time.Tuesday:   {"09:00-17:00"},
		time.Wednesday: {"09:00-12:00", "13:00-17:00"},
		time.Thursday:  {"09:00-17:00"},
		time.Friday:    {"09:00-17:00"},
	}, "2026-12-25")
	// Inbox 12 of docs/design.md §4: Berlin, Mondays only.
	berlin12 = cal("Europe/Berlin", days{time.Monday: {"08:00-16:00"}})
	utc247   = cal("UTC", every("00:00-24:00"))
	// Labor Day, Monday 2026-09-07, after a weekend.
	labor        = cal("America/New_York", weekdays("09:00-17:00"), "2026-09-07")
	nyDaily      = cal("America/New_York", every("09:00-17:00"))
	nyAllDay     = cal("America/New_York", every("00:00-24:00"))
	berlinAllDay = cal("Europe/Berlin", every("00:00-24:00"))
	// Intervals that contain a clock change, or start or end in one.
	nyNight     = cal("America/New_York", every("01:00-04:00"))
	nyGap       = cal("America/New_York", every("02:30-05:00"))
	berlinGap   = cal("Europe/Berlin", every("02:30-05:00"))
	nyEarly     = cal("America/New_York", every("00:00-01:30"))
	berlinEarly = cal("Europe/Berlin", every("00:00-02:30"))
	// A night shift across midnight.
	night = cal("UTC", days{time.Monday: {"22:00-24:00"}, time.Tuesday: {"00:00-06:00"}})
	never = cal("UTC", days{})
)

func TestAdd(t *testing.T) {
	tests := []struct {
		name  string
		cal   *Calendar
		start string
		d     time.Duration
		want  string
	}{
		{"inside hours", ny, "2026-06-01T10:00:00-04:00", 15 * time.Minute, "2026-06-01T10:15:00-04:00"},
		{"16:59 rolls to next day 09:14", ny, "2026-06-01T16:59:00-04:00", 15 * time.Minute, "2026-06-02T09:14:00-04:00"},
		{"due exactly at close", ny, "2026-06-01T16:45:00-04:00", 15 * time.Minute, "2026-06-01T17:00:00-04:00"},
		{"exactly at opening", ny, "2026-06-01T09:00:00-04:00", 15 * time.Minute, "2026-06-01T09:15:00-04:00"},
		{"exactly at close", ny, "2026-06-01T17:00:00-04:00", 15 * time.Minute, "2026-06-02T09:15:00-04:00"},
		{"before opening", ny, "2026-06-01T08:00:00-04:00", 15 * time.Minute, "2026-06-01T09:15:00-04:00"},
		{"overnight", ny, "2026-06-01T23:30:00-04:00", 15 * time.Minute, "2026-06-02T09:15:00-04:00"},
		{"small hours", ny, "2026-06-02T03:00:00-04:00", 15 * time.Minute, "2026-06-02T09:15:00-04:00"},
		{"friday evening to monday", ny, "2026-06-05T16:50:00-04:00", 15 * time.Minute, "2026-06-08T09:05:00-04:00"},
		{"friday after close", ny, "2026-06-05T18:00:00-04:00", 15 * time.Minute, "2026-06-08T09:15:00-04:00"},
		{"saturday", ny, "2026-06-06T12:00:00-04:00", 15 * time.Minute, "2026-06-08T09:15:00-04:00"},
		{"sunday night", ny, "2026-06-07T23:59:00-04:00", 15 * time.Minute, "2026-06-08T09:15:00-04:00"},
		{"across lunch", ny, "2026-06-03T11:50:00-04:00", 15 * time.Minute, "2026-06-03T13:05:00-04:00"},
		{"during lunch", ny, "2026-06-03T12:30:00-04:00", 15 * time.Minute, "2026-06-03T13:15:00-04:00"},
		{"due at lunch", ny, "2026-06-03T11:45:00-04:00", 15 * time.Minute, "2026-06-03T12:00:00-04:00"},
		{"wednesday close", ny, "2026-06-03T16:55:00-04:00", 15 * time.Minute, "2026-06-04T09:10:00-04:00"},
		{"christmas eve to monday", ny, "2026-12-24T16:50:00-05:00", 15 * time.Minute, "2026-12-28T09:05:00-05:00"},
		{"on the holiday", ny, "2026-12-25T10:00:00-05:00", 15 * time.Minute, "2026-12-28T09:15:00-05:00"},
		{"8h over two days", ny, "2026-06-01T10:00:00-04:00", 8 * time.Hour, "2026-06-02T10:00:00-04:00"},
		{"20h with a lunch break", ny, "2026-06-01T09:00:00-04:00", 20 * time.Hour, "2026-06-03T14:00:00-04:00"},
		{"spring-forward weekend", ny, "2026-03-06T16:55:00-05:00", 15 * time.Minute, "2026-03-09T09:10:00-04:00"},
		{"fall-back weekend", ny, "2026-10-30T16:55:00-04:00", 15 * time.Minute, "2026-11-02T09:10:00-05:00"},
		{"holiday monday after weekend", labor, "2026-09-04T16:58:00-04:00", 15 * time.Minute, "2026-09-08T09:13:00-04:00"},
		{"weekend before holiday monday", labor, "2026-09-05T10:00:00-04:00", 15 * time.Minute, "2026-09-08T09:15:00-04:00"},
		{"whole working week", labor, "2026-06-01T09:00:00-04:00", 40 * time.Hour, "2026-06-05T17:00:00-04:00"},
		{"inbox 12 rolls a week", berlin12, "2026-06-01T15:50:00+02:00", 15 * time.Minute, "2026-06-08T08:05:00+02:00"},
		{"inbox 12 on tuesday", berlin12, "2026-06-02T09:00:00+02:00", 15 * time.Minute, "2026-06-08T08:15:00+02:00"},
		{"inbox 12 over spring-forward", berlin12, "2026-03-27T12:00:00+01:00", 15 * time.Minute, "2026-03-30T08:15:00+02:00"},
		{"inbox 12 over fall-back", berlin12, "2026-10-19T15:55:00+02:00", 15 * time.Minute, "2026-10-26T08:10:00+01:00"},
		{"24x7", utc247, "2026-06-01T12:00:00Z", 15 * time.Minute, "2026-06-01T12:15:00Z"},
		{"24x7 over midnight", utc247, "2026-06-06T23:50:00Z", 15 * time.Minute, "2026-06-07T00:05:00Z"},
		{"24x7 over new year", utc247, "2026-12-31T23:55:00Z", 15 * time.Minute, "2027-01-01T00:10:00Z"},
		{"all day, 01:50 on spring-forward", nyAllDay, "2026-03-08T01:50:00-05:00", 15 * time.Minute, "2026-03-08T03:05:00-04:00"},
		{"all day, first 01:50 on fall-back", nyAllDay, "2026-11-01T01:50:00-04:00", 15 * time.Minute, "2026-11-01T01:05:00-05:00"},
		{"all day, 24h from spring-forward midnight", nyAllDay, "2026-03-08T00:00:00-05:00", 24 * time.Hour, "2026-03-09T01:00:00-04:00"},
		{"berlin all day, spring-forward", berlinAllDay, "2026-03-29T01:50:00+01:00", 15 * time.Minute, "2026-03-29T03:05:00+02:00"},
		{"berlin all day, fall-back", berlinAllDay, "2026-10-25T02:50:00+02:00", 15 * time.Minute, "2026-10-25T02:05:00+01:00"},
		{"01:00-04:00 on spring-forward is 2h", nyNight, "2026-03-08T01:00:00-05:00", 2 * time.Hour, "2026-03-08T04:00:00-04:00"},
		{"01:00-04:00 on spring-forward, then next day", nyNight, "2026-03-08T01:00:00-05:00", 150 * time.Minute, "2026-03-09T01:30:00-04:00"},
		{"01:00-04:00 on fall-back is 4h", nyNight, "2026-11-01T01:00:00-04:00", 210 * time.Minute, "2026-11-01T03:30:00-05:00"},
		{"opening skipped by the jump, new york", nyGap, "2026-03-08T00:00:00-05:00", 15 * time.Minute, "2026-03-08T03:15:00-04:00"},
		{"opening skipped by the jump, berlin", berlinGap, "2026-03-29T00:00:00+01:00", 15 * time.Minute, "2026-03-29T03:15:00+02:00"},
		{"repeated closing is the first, new york", nyEarly, "2026-11-01T01:20:00-04:00", 15 * time.Minute, "2026-11-02T00:05:00-05:00"},
		{"repeated closing is the first, berlin", berlinEarly, "2026-10-25T02:20:00+02:00", 15 * time.Minute, "2026-10-26T00:05:00+01:00"},
		{"night shift over midnight", night, "2026-06-01T23:50:00Z", 15 * time.Minute, "2026-06-02T00:05:00Z"},
		{"night shift whole", night, "2026-06-01T21:00:00Z", 3 * time.Hour, "2026-06-02T01:00:00Z"},
		{"night shift end to next week", night, "2026-06-02T05:55:00Z", 15 * time.Minute, "2026-06-08T22:10:00Z"},
		{"zero duration keeps start", ny, "2026-06-06T12:00:00-04:00", 0, "2026-06-06T12:00:00-04:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.cal.Add(ts(tc.start), tc.d)
			require.True(t, ok)
			assert.Equal(t, tc.want, format(got, tc.want))
		})
	}
}

func TestAddKeepsStartLocation(t *testing.T) {
	got, ok := ny.Add(ts("2026-06-01T20:59:00Z"), 15*time.Minute)
	require.True(t, ok)
	assert.Equal(t, "2026-06-02T13:14:00Z", got.Format(time.RFC3339))
}

func TestAddNeverOpen(t *testing.T) {
	// Mondays only, and every Monday for more than a year a holiday.
	var mondays []string
	for d := ts("2026-06-01T00:00:00Z"); !d.After(ts("2027-06-07T00:00:00Z")); d = d.AddDate(0, 0, 7) {
		mondays = append(mondays, d.Format(time.DateOnly))
	}
	closed := cal("UTC", days{time.Monday: {"09:00-17:00"}}, mondays...)

	for name, c := range map[string]*Calendar{"no hours": never, "holidays for a year": closed} {
		t.Run(name, func(t *testing.T) {
			got, ok := c.Add(ts("2026-06-01T00:00:00Z"), 15*time.Minute)
			assert.False(t, ok)
			assert.True(t, got.IsZero())
		})
	}
}

func TestBetween(t *testing.T) {
	tests := []struct {
		name string
		cal  *Calendar
		a, b string
		want time.Duration
	}{
		{"one day", ny, "2026-06-01T08:00:00-04:00", "2026-06-01T18:00:00-04:00", 8 * time.Hour},
		{"lunch day", ny, "2026-06-03T00:00:00-04:00", "2026-06-04T00:00:00-04:00", 7 * time.Hour},
		{"across lunch", ny, "2026-06-03T11:30:00-04:00", "2026-06-03T13:30:00-04:00", time.Hour},
		{"over a weekend", ny, "2026-06-05T16:00:00-04:00", "2026-06-08T10:00:00-04:00", 2 * time.Hour},
		{"over spring-forward weekend", ny, "2026-03-06T16:00:00-05:00", "2026-03-09T10:00:00-04:00", 2 * time.Hour},
		{"over christmas", ny, "2026-12-24T00:00:00-05:00", "2026-12-29T00:00:00-05:00", 16 * time.Hour},
		{"seconds over the night", ny, "2026-06-01T16:59:30-04:00", "2026-06-02T09:00:30-04:00", time.Minute},
		{"same instant", ny, "2026-06-01T10:00:00-04:00", "2026-06-01T10:00:00-04:00", 0},
		{"reversed", ny, "2026-06-01T10:00:00-04:00", "2026-06-01T09:00:00-04:00", -time.Hour},
		{"inbox 12 two weeks", berlin12, "2026-06-01T00:00:00+02:00", "2026-06-15T00:00:00+02:00", 16 * time.Hour},
		{"24x7 week", utc247, "2026-06-01T00:00:00Z", "2026-06-08T00:00:00Z", 168 * time.Hour},
		{"09:00-17:00 on spring-forward day", nyDaily, "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 8 * time.Hour},
		{"09:00-17:00 on fall-back day", nyDaily, "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 8 * time.Hour},
		{"all day on spring-forward", nyAllDay, "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 23 * time.Hour},
		{"all day on fall-back", nyAllDay, "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25 * time.Hour},
		{"berlin all day on spring-forward", berlinAllDay, "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23 * time.Hour},
		{"berlin all day on fall-back", berlinAllDay, "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25 * time.Hour},
		{"01:00-04:00 on spring-forward", nyNight, "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 2 * time.Hour},
		{"01:00-04:00 on fall-back", nyNight, "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 4 * time.Hour},
		{"02:30-05:00 on spring-forward", nyGap, "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 2 * time.Hour},
		{"00:00-01:30 on fall-back", nyEarly, "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 90 * time.Minute},
		{"00:00-02:30 on berlin fall-back", berlinEarly, "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 150 * time.Minute},
		{"night shift", night, "2026-06-01T00:00:00Z", "2026-06-03T00:00:00Z", 8 * time.Hour},
		{"never open", never, "2026-06-01T00:00:00Z", "2027-06-01T00:00:00Z", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.cal.Between(ts(tc.a), ts(tc.b)))
		})
	}
}

func TestOpen(t *testing.T) {
	tests := []struct {
		name string
		cal  *Calendar
		at   string
		want bool
	}{
		{"opening minute", ny, "2026-06-01T09:00:00-04:00", true},
		{"before opening", ny, "2026-06-01T08:59:59-04:00", false},
		{"last second", ny, "2026-06-01T16:59:59-04:00", true},
		{"closing minute", ny, "2026-06-01T17:00:00-04:00", false},
		{"lunch", ny, "2026-06-03T12:00:00-04:00", false},
		{"after lunch", ny, "2026-06-03T13:00:00-04:00", true},
		{"holiday", ny, "2026-12-25T10:00:00-05:00", false},
		{"saturday", ny, "2026-06-06T10:00:00-04:00", false},
		{"given in UTC", ny, "2026-06-01T13:00:00Z", true},
		{"24x7", utc247, "2026-06-06T03:00:00Z", true},
		{"all day after the jump", nyAllDay, "2026-03-08T03:00:00-04:00", true},
		{"first 01:15 before repeated close", nyEarly, "2026-11-01T01:15:00-04:00", true},
		{"second 01:15 after repeated close", nyEarly, "2026-11-01T01:15:00-05:00", false},
		{"first 02:15 before repeated close, berlin", berlinEarly, "2026-10-25T02:15:00+02:00", true},
		{"second 02:15 after repeated close, berlin", berlinEarly, "2026-10-25T02:15:00+01:00", false},
		{"opens at the jump", nyGap, "2026-03-08T03:00:00-04:00", true},
		{"just before the jump", nyGap, "2026-03-08T01:59:59-05:00", false},
		{"opens at the jump, berlin", berlinGap, "2026-03-29T03:00:00+02:00", true},
		{"just before the jump, berlin", berlinGap, "2026-03-29T01:59:59+01:00", false},
		{"night shift before midnight", night, "2026-06-01T23:59:59Z", true},
		{"night shift at midnight", night, "2026-06-02T00:00:00Z", true},
		{"night shift end", night, "2026-06-02T06:00:00Z", false},
		{"never open", never, "2026-06-01T12:00:00Z", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.cal.Open(ts(tc.at)))
		})
	}
}

func TestParseInterval(t *testing.T) {
	for s, want := range map[string]Interval{
		"09:00-17:00": {9 * 60, 17 * 60},
		"00:00-24:00": {0, 24 * 60},
		"13:30-13:31": {13*60 + 30, 13*60 + 31},
	} {
		got, err := ParseInterval(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, got, s)
		assert.Equal(t, s, got.String())
	}
	for s, msg := range map[string]string{
		"9-5":          "want HH:MM-HH:MM",
		"09:00-17:00 ": "want HH:MM-HH:MM",
		"09:00–17:00":  "want HH:MM-HH:MM", // en dash
		"09.00-17:00":  "opening 09.00 is not a time of day",
		"09:60-17:00":  "opening 09:60 is not a time of day",
		"24:00-24:00":  "opening 24:00 is not a time of day",
		"09:00-24:01":  "closing 24:01 is not a time of day",
		"09:00-1a:00":  "closing 1a:00 is not a time of day",
		"17:00-09:00":  "closes before it opens",
		"09:00-09:00":  "closes before it opens",
	} {
		_, err := ParseInterval(s)
		assert.ErrorContains(t, err, msg, s)
	}
}

func TestNewCalendarRejects(t *testing.T) {
	nine := Interval{9 * 60, 17 * 60}
	for name, tc := range map[string]struct {
		loc  *time.Location
		week Week
		msg  string
	}{
		"nil location": {nil, Week{}, "nil location"},
		"overlap":      {time.UTC, Week{time.Tuesday: {nine, {16 * 60, 18 * 60}}}, "Tuesday intervals 09:00-17:00 and 16:00-18:00 overlap"},
		"out of day":   {time.UTC, Week{time.Friday: {{23 * 60, 25 * 60}}}, "Friday interval 23:00-25:00 is not within one day"},
		"empty":        {time.UTC, Week{time.Monday: {{60, 60}}}, "Monday interval 01:00-01:00 is not within one day"},
	} {
		_, err := NewCalendar(tc.loc, tc.week, nil)
		assert.ErrorContains(t, err, tc.msg, name)
	}
}

func TestNewCalendarCopiesWeek(t *testing.T) {
	w := Week{time.Monday: {{13 * 60, 17 * 60}, {9 * 60, 12 * 60}}}
	c, err := NewCalendar(time.UTC, w, nil)
	require.NoError(t, err)
	w[time.Monday][0] = Interval{0, 24 * 60}
	assert.False(t, c.Open(ts("2026-06-01T12:30:00Z")))
	assert.True(t, c.Open(ts("2026-06-01T09:30:00Z")))
}
