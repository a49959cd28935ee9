// Package jsonstr holds what the hand-written JSON encoders on the ingest
// path share: they write strings without escaping when json.Marshal would
// too, and fall back to it otherwise.
package jsonstr

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
