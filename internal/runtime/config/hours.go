package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"supportpipe/internal/support/sla"
)

// BusinessHours is the business_hours section: a default calendar and
// per-inbox overrides.
type BusinessHours struct {
	// Default serves inboxes without their own entry; nil means 24×7 UTC.
	Default *Hours `yaml:"default"`
	// Inboxes is keyed by Chatwoot inbox id.
	Inboxes map[string]Hours `yaml:"inboxes"`

	def     *sla.Calendar
	inboxes map[int64]*sla.Calendar
}

// Hours is one calendar as the file writes it.
type Hours struct {
	// Timezone is an IANA name; empty means UTC, Chatwoot's inbox default.
	Timezone string `yaml:"timezone"`
	Weekly   Weekly `yaml:"weekly"`
	// Holidays are local dates, YYYY-MM-DD, closed all day.
	Holidays []string `yaml:"holidays"`
}

// Weekly lists each day's "HH:MM-HH:MM" intervals. A day left out or given
// as [] is closed; "00:00-24:00" is open all day. Chatwoot's own open-all-day
// is 00:00-23:59, which here leaves the last minute closed.
type Weekly struct {
	Mon []string `yaml:"mon"`
	Tue []string `yaml:"tue"`
	Wed []string `yaml:"wed"`
	Thu []string `yaml:"thu"`
	Fri []string `yaml:"fri"`
	Sat []string `yaml:"sat"`
	Sun []string `yaml:"sun"`
}

// allWeek is the default when the file has no business_hours.default.
var allWeek = Hours{Timezone: "UTC", Weekly: Weekly{
	Mon: []string{"00:00-24:00"}, Tue: []string{"00:00-24:00"}, Wed: []string{"00:00-24:00"},
	Thu: []string{"00:00-24:00"}, Fri: []string{"00:00-24:00"}, Sat: []string{"00:00-24:00"},
	Sun: []string{"00:00-24:00"},
}}

func (b *BusinessHours) check(key string) error {
	def := b.Default
	if def == nil {
		def = &allWeek
	}
	var err error
	if b.def, err = def.calendar(key + ".default"); err != nil {
		return err
	}
	b.inboxes = make(map[int64]*sla.Calendar, len(b.Inboxes))
	// Sorted, so that a file with several mistakes always reports the same.
	for _, id := range slices.Sorted(maps.Keys(b.Inboxes)) {
		k := key + ".inboxes." + id
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("%s: inbox id %q is not a positive integer", k, id)
		}
		if _, dup := b.inboxes[n]; dup {
			return fmt.Errorf("%s: inbox %d is listed twice", k, n)
		}
		h := b.Inboxes[id]
		if b.inboxes[n], err = h.calendar(k); err != nil {
			return err
		}
	}
	return nil
}

// calendar checks h and builds its calendar; key is h's key path.
func (h *Hours) calendar(key string) (*sla.Calendar, error) {
	if h.Timezone == "Local" {
		// LoadLocation would take the host's zone, which differs between a
		// laptop and Lambda.
		return nil, fmt.Errorf("%s.timezone: %q is not an IANA time zone name", key, h.Timezone)
	}
	loc, err := time.LoadLocation(h.Timezone)
	if err != nil {
		return nil, fmt.Errorf("%s.timezone: unknown time zone %q", key, h.Timezone)
	}
	var week sla.Week
	open := false
	for _, d := range h.Weekly.days() {
		for i, s := range d.intervals {
			iv, err := sla.ParseInterval(s)
			if err != nil {
				return nil, fmt.Errorf("%s.weekly.%s[%d]: %w", key, d.key, i, err)
			}
			for j, prev := range week[d.day] {
				if iv.Overlaps(prev) {
					return nil, fmt.Errorf("%s.weekly.%s[%d]: %q overlaps %q", key, d.key, i, s, d.intervals[j])
				}
			}
			week[d.day] = append(week[d.day], iv)
			open = true
		}
	}
	if !open {
		return nil, fmt.Errorf("%s.weekly: no day has business hours, so no target would ever come due", key)
	}
	holidays := make([]time.Time, len(h.Holidays))
	for i, s := range h.Holidays {
		if holidays[i], err = time.Parse(time.DateOnly, s); err != nil {
			return nil, fmt.Errorf("%s.holidays[%d]: %q is not a YYYY-MM-DD date", key, i, s)
		}
	}
	cal, err := sla.NewCalendar(loc, week, holidays)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return cal, nil
}

type day struct {
	key       string
	day       time.Weekday
	intervals []string
}

func (w *Weekly) days() []day {
	return []day{
		{"mon", time.Monday, w.Mon}, {"tue", time.Tuesday, w.Tue}, {"wed", time.Wednesday, w.Wed},
		{"thu", time.Thursday, w.Thu}, {"fri", time.Friday, w.Fri}, {"sat", time.Saturday, w.Sat},
		{"sun", time.Sunday, w.Sun},
	}
}
