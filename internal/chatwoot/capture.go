package chatwoot

import (
	"slices"
)

// The ids a Head reads, by the path of struct fields (json names) that
// leads to them, as the Payload's types would hold them.
const (
	slotID = iota
	slotAccount
	slotConversation
	numSlots
)

type capture struct {
	path  []string
	slot  int
	first bool // the first positive value wins (one of many messages)
}

var captures = map[Kind][]capture{
	KindMessage: {
		{path: []string{"id"}, slot: slotID},
		{path: []string{"account", "id"}, slot: slotAccount},
		{path: []string{"conversation", "id"}, slot: slotConversation},
	},
	KindConversation: {
		{path: []string{"id"}, slot: slotID},
		// The conversation's own account (Chatwoot ≥ 4.14.2) wins over the
		// first nested message's, whichever comes first in the body.
		{path: []string{"account", "id"}, slot: slotAccount},
		{path: []string{"messages", "account_id"}, slot: slotAccount, first: true},
	},
	KindContact: {
		{path: []string{"id"}, slot: slotID},
		{path: []string{"account", "id"}, slot: slotAccount},
	},
}

// capture keeps n if the current path is one a Head reads.
func (c *checker) capture(n int64) {
	for _, k := range c.captures {
		if !slices.Equal(k.path, c.path[:c.depth]) {
			continue
		}
		if k.first {
			if c.ids[k.slot] <= 0 && n > 0 {
				c.ids[k.slot] = n
			}
		} else {
			c.ids[k.slot] = max(n, 0)
		}
	}
}
