// Package jsonstr holds what the JSON encoders share: the hand-written ones
// on the ingest path write strings without escaping when json.Marshal would
// too (Plain); every encoder of times keeps them within what JSON can hold
// (Time).
package jsonstr

import "time"

// The instants JSON can hold: RFC 3339 writes years in four digits.
var (
	firstTime = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	lastTime  = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// Time returns t in UTC, or the nearest instant JSON can hold. Event times
// are clamped to plausible ones before they are stored, but a state stored
// before that may hold 9999-12-31, and a long target under a sparse
// calendar can bring a due time past year 9999; and the zone matters, as a
// JSON time checks its year in it.
func Time(t time.Time) time.Time {
	switch t = t.UTC(); {
	case t.Before(firstTime):
		return firstTime
	case t.After(lastTime):
		return lastTime
	}
	return t
}

// Plain says whether json.Marshal writes s between quotes as it is.
func Plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
