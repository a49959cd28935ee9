package retrieval

import (
	"regexp"
	"strconv"
	"strings"

	"supportpipe/internal/support/drafting"
)

// placeholder is a variable as Chatwoot writes them in canned responses,
// {{contact.name}}, and as Bitext's data does, {{Order Number}}.
var placeholder = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Fill replaces the variables of content that r knows: Chatwoot's
// contact.name, contact.first_name, contact.last_name, contact.email,
// agent.name, agent.first_name, agent.last_name, agent.email,
// conversation.id and account.id. Any other variable, and one whose value
// is unknown, stays as written: a draft is a private note that an agent
// reads and completes before anything reaches the customer, and a visible
// {{Order Number}} tells them what to fill in, where dropping it would
// leave a sentence silently wrong, and abstaining would withhold a reply
// that is right but for a detail. Values are inserted once: a name that
// looks like a variable is not expanded again.
func Fill(content string, r drafting.Request) string {
	if !strings.Contains(content, "{{") {
		return content
	}
	return placeholder.ReplaceAllStringFunc(content, func(m string) string {
		if v := value(placeholder.FindStringSubmatch(m)[1], r); v != "" {
			return v
		}
		return m
	})
}

func value(name string, r drafting.Request) string {
	person := func(p drafting.Person, field string) string {
		// Names split as Chatwoot splits them: the first word, and the last
		// of two or more.
		parts := strings.Fields(p.Name)
		switch {
		case field == "email":
			return strings.TrimSpace(p.Email)
		case len(parts) == 0:
			return ""
		case field == "name":
			return strings.Join(parts, " ")
		case field == "first_name":
			return parts[0]
		case field == "last_name" && len(parts) > 1:
			return parts[len(parts)-1]
		}
		return ""
	}
	id := func(n int64) string {
		if n <= 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	scope, field, _ := strings.Cut(strings.ToLower(name), ".")
	switch scope {
	case "contact":
		return person(r.Contact, field)
	case "agent":
		return person(r.Agent, field)
	case "conversation":
		if field == "id" {
			return id(r.ConversationID)
		}
	case "account":
		if field == "id" {
			return id(r.AccountID)
		}
	}
	return ""
}
