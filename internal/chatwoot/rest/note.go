package rest

import "strings"

// HasNote reports whether msgs hold one of our notes (IsOwnNote) with
// content, the note as PrivateNote sends it, prefix included: the trace of
// a post whose answer was lost.
func HasNote(msgs []Message, content string) bool {
	want := normaliseNote(content)
	for i := range msgs {
		if IsOwnNote(&msgs[i]) && normaliseNote(msgs[i].Content) == want {
			return true
		}
	}
	return false
}

// normaliseNote is a note's content as compared: Chatwoot may store it
// without its surrounding whitespace, and with CRLF line ends as LF.
func normaliseNote(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}
