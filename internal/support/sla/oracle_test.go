package sla

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oracleAdd and oracleBetween are Add and Between as they were when they
// visited every date in turn: slow, plainly right, the reference the
// arithmetic on whole weeks must agree with.
func (c *Calendar) oracleAdd(start time.Time, d time.Duration) (time.Time, bool) {
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

func (c *Calendar) oracleBetween(a, b time.Time) time.Duration {
	if b.Before(a) {
		return -c.oracleBetween(b, a)
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

// Zones with the clock changes that make dates irregular: an hour at 02:00
// or at midnight, half an hour (Lord Howe), two a year more (Casablanca's
// Ramadan), a skipped date (Apia, 2011-12-30), none (Kolkata, UTC).
var oracleZones = []string{
	"UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago",
	"America/Havana", "Asia/Gaza", "Africa/Casablanca", "Pacific/Apia", "America/St_Johns", "Asia/Kolkata",
}

// randomCalendar draws business hours that favour the small hours, where
// clock changes fall, and holidays that are sometimes scattered and
// sometimes close a whole year or more.
func randomCalendar(r *rand.Rand, from time.Time) *Calendar {
	loc, err := time.LoadLocation(oracleZones[r.IntN(len(oracleZones))])
	if err != nil {
		panic(err)
	}
	var week Week
	for d := range week {
		if r.IntN(3) == 0 {
			continue
		}
		at := 0
		for range 1 + r.IntN(3) {
			span := 1 + r.IntN(8*60)
			if r.IntN(2) == 0 {
				span = 1 + r.IntN(90)
			}
			open := at + r.IntN(5*60)
			if open+span > minutesPerDay || open >= minutesPerDay {
				break
			}
			week[d] = append(week[d], Interval{open, open + span})
			at = open + span
			if r.IntN(4) == 0 {
				at++ // leaves a gap, so intervals do not always touch
			}
		}
	}
	var holidays []time.Time
	switch r.IntN(4) {
	case 0: // none
	case 1, 2:
		for range r.IntN(40) {
			holidays = append(holidays, from.AddDate(0, 0, r.IntN(4*366)))
		}
	case 3: // every date for a year or so, from near the start
		first := from.AddDate(0, 0, r.IntN(60)-30)
		for i := range 360 + r.IntN(14) {
			holidays = append(holidays, first.AddDate(0, 0, i))
		}
	}
	c, err := NewCalendar(loc, week, holidays)
	if err != nil {
		panic(err)
	}
	return c
}

func randomInstant(r *rand.Rand, from time.Time, days int) time.Time {
	return from.Add(time.Duration(r.Int64N(int64(days) * int64(oneDay))))
}

func TestFastPathAgreesWithOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 12))
	from := time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 300 {
		c := randomCalendar(r, from.AddDate(r.IntN(20), 0, 0))
		t.Run(fmt.Sprintf("%d %s", i, c.loc), func(t *testing.T) {
			for range 20 {
				a := randomInstant(r, from, 22*366)
				b := a.Add(time.Duration(r.Int64N(int64(3 * 366 * oneDay))))
				if r.IntN(4) == 0 {
					b = a.Add(time.Duration(r.Int64N(int64(3 * oneDay))))
				}
				if r.IntN(5) == 0 {
					a, b = b, a
				}
				require.Equal(t, c.oracleBetween(a, b), c.Between(a, b), "between %v and %v", a, b)

				d := time.Duration(r.Int64N(int64(4 * time.Hour)))
				switch r.IntN(3) {
				case 0:
					d = time.Duration(r.Int64N(int64(400 * time.Hour)))
				case 1:
					d = time.Duration(1+r.IntN(60)) * time.Minute
				}
				want, wantOK := c.oracleAdd(a, d)
				got, ok := c.Add(a, d)
				require.Equal(t, wantOK, ok, "add %v to %v", d, a)
				require.True(t, want.Equal(got), "add %v to %v: want %v, got %v", d, a, want, got)
				require.Equal(t, want.Location(), got.Location())
			}
		})
	}
}

func TestBoundedWhateverTheInputs(t *testing.T) {
	year1 := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	year9999 := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	monday := ts("2026-06-01T00:00:00Z")
	oneMinute := cal("UTC", days{time.Monday: {"09:00-09:01"}})
	var daily []string
	for d := monday; d.Before(monday.AddDate(5, 0, 0)); d = d.AddDate(0, 0, 1) {
		daily = append(daily, d.Format(time.DateOnly))
	}
	shut := cal("America/New_York", every("09:00-17:00"), daily...)

	t.Run("between saturates over millennia", func(t *testing.T) {
		assert.Equal(t, maxDuration, utc247.Between(year1, year9999))
		assert.Equal(t, -maxDuration, utc247.Between(year9999, year1))
		assert.Equal(t, maxDuration, nyAllDay.Between(year1, year9999))
	})
	t.Run("between with one minute a week", func(t *testing.T) {
		// 2001-01-01 was a Monday; 400 Gregorian years are 20871 weeks.
		a := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		assert.Equal(t, 20871*time.Minute, oneMinute.Between(a, a.AddDate(400, 0, 0)))
		assert.Equal(t, 20871*time.Minute, oneMinute.Between(time.Date(5001, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(5401, 1, 1, 0, 0, 0, 0, time.UTC)))
	})
	t.Run("between over working days far from now", func(t *testing.T) {
		// Outside the years whose clock changes are looked up, a date
		// counts its hours as if the clocks never changed.
		a := time.Date(3001, 1, 1, 0, 0, 0, 0, time.UTC)
		assert.Equal(t, 20871*5*8*time.Hour, labor.Between(a, a.AddDate(400, 0, 0)))
	})
	t.Run("between a closed stretch", func(t *testing.T) {
		assert.Equal(t, time.Duration(0), shut.Between(ts("2026-06-01T13:00:00Z"), ts("2031-05-31T13:00:00Z")))
		assert.Equal(t, 8*time.Hour, shut.Between(ts("2026-06-01T13:00:00Z"), ts("2031-06-01T22:00:00Z")))
	})
	t.Run("add one minute a week for a century", func(t *testing.T) {
		got, ok := oneMinute.Add(monday, 5218*time.Minute)
		require.True(t, ok)
		assert.Equal(t, monday.AddDate(0, 0, 7*5217).Add(9*time.Hour+time.Minute), got)
	})
	t.Run("add the longest duration", func(t *testing.T) {
		// 153,722,867 minutes and a fraction: as many Mondays, and the
		// fraction into the one after.
		minutes := maxDuration / time.Minute
		got, ok := oneMinute.Add(monday, maxDuration)
		require.True(t, ok)
		assert.Equal(t, monday.AddDate(0, 0, 7*int(minutes)).Add(9*time.Hour+maxDuration%time.Minute), got)
		got, ok = utc247.Add(monday, maxDuration)
		require.True(t, ok)
		assert.Equal(t, monday.Add(maxDuration), got)
	})
	t.Run("add past year 9999", func(t *testing.T) {
		got, ok := ny.Add(ts("9999-12-31T16:55:00-05:00"), 15*time.Minute)
		require.True(t, ok)
		assert.Equal(t, "10000-01-03T09:10:00-05:00", got.In(ny.loc).Format(time.RFC3339))
	})
	t.Run("add gives up in a closure of years", func(t *testing.T) {
		_, ok := shut.Add(monday, 15*time.Minute)
		assert.False(t, ok)
	})
	t.Run("add from year 1", func(t *testing.T) {
		got, ok := shut.Add(year1, 15*time.Minute)
		require.True(t, ok)
		assert.Equal(t, "0001-01-01T09:15:00-04:56", got.In(shut.loc).Format("2006-01-02T15:04:05Z07:00"))
	})
}
