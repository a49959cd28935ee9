package chatwoot_test

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/chatwoottest"
)

// The corpus: invented installations, people and conversations (names,
// .example domains, +1555 numbers), and the webhook bodies Chatwoot posts as
// their stories unfold. Each body is encoded when its event fires, from the
// records' state at that moment, as Chatwoot's job reads the database when
// it runs (docs/chatwoot.md §2.1).

// corpusBody is one body and what the test expects of it.
type corpusBody struct {
	chatwoottest.Entry
	raw  []byte
	head chatwoot.Head // what Check and Decode must read; Kind unknown for events we ignore
}

type corpusWriter struct{ bodies []corpusBody }

// gzipOver is the size above which a body is stored gzipped.
const gzipOver = 200_000

func (w *corpusWriter) add(name, webhook string, acct, conv int64, note string, head chatwoot.Head, payload hash) {
	raw := railsJSON(payload)
	file := fmt.Sprintf("%02d_%s_%s.json", len(w.bodies)+1, webhook, name)
	if len(raw) > gzipOver {
		file += ".gz"
	}
	w.bodies = append(w.bodies, corpusBody{
		Entry: chatwoottest.Entry{File: file, Event: head.Event, Webhook: webhook, AccountID: acct,
			ConversationID: conv, Bytes: len(raw), Note: note},
		raw: raw, head: head,
	})
}

func (w *corpusWriter) message(name, webhook, event string, m *message, note string) {
	acct := m.conv.inbox.account.id
	w.add(name, webhook, acct, m.conv.displayID, note,
		chatwoot.Head{Event: event, Kind: chatwoot.KindMessage, ID: m.id, AccountID: acct, ConversationID: m.conv.displayID},
		messageEvent(event, m))
}

func (w *corpusWriter) conversation(name, webhook, event string, c *conversation, changes []hash, note string) {
	acct := c.inbox.account.id
	// The account a conversation payload names: its own from 4.14.2, else
	// its nested message's, else none (the edge then uses the URL's).
	named := int64(0)
	if c.inbox.account.install.conversationAccount || c.lastChat != nil {
		named = acct
	}
	w.add(name, webhook, acct, c.displayID, note,
		chatwoot.Head{Event: event, Kind: chatwoot.KindConversation, ID: c.displayID, AccountID: named, ConversationID: c.displayID},
		conversationEvent(event, c, changes))
}

func (w *corpusWriter) contact(name, event string, c *contact, changes []hash, note string) {
	w.add(name, chatwoottest.AccountWebhook, c.account.id, 0, note,
		chatwoot.Head{Event: event, Kind: chatwoot.KindContact, ID: c.id, AccountID: c.account.id},
		contactEvent(event, c, changes))
}

func (w *corpusWriter) ignored(name, webhook string, acct, conv int64, note string, payload hash) {
	event := payload[payload.index("event")].val.(string)
	w.add(name, webhook, acct, conv, note, chatwoot.Head{Event: event, Kind: chatwoot.KindUnknown}, payload)
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

// rng is splitmix64: the tables of the large emails vary, the same on every
// Go version.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) intn(n int) int         { return int(r.next() % uint64(n)) }
func (r *rng) pick(s []string) string { return s[r.intn(len(s))] }

// blobURL is an Active Storage redirect URL: a signed blob id, its digest,
// the file name.
func blobURL(base string, blobID int, filename string) string {
	return fmt.Sprintf("%s/rails/active_storage/blobs/redirect/%s/%s", base, signedID(fmt.Sprintf("%d", blobID), "blob_id"), filename)
}

// thumbURL is the redirect URL of a 250×250 variant of the blob.
func thumbURL(base string, blobID int, filename string) string {
	return fmt.Sprintf("%s/rails/active_storage/representations/redirect/%s/%s/%s", base,
		signedID(fmt.Sprintf("%d", blobID), "blob_id"),
		signedID(`{"format":"jpg","resize_to_limit":[250,250]}`, "variation"), filename)
}

func signedID(data, purpose string) string {
	msg := base64.StdEncoding.EncodeToString([]byte(`{"_rails":{"data":` + data + `,"pur":"` + purpose + `"}}`))
	return fmt.Sprintf("%s--%x", msg, sha1.Sum([]byte(msg)))
}

// Lines of the large emails, set so the bodies come out at about
// 1.3 MB, 4 MB and 1.08 MB.
const (
	receivingReportLines = 672
	returnsExportRows    = 795
	deliveryReceiptLines = 922
)

func buildCorpus() []corpusBody {
	w := &corpusWriter{}
	current(w)
	older(w)
	return w.bodies
}

// current is a Chatwoot at 4.15 (conversation payloads carry their account)
// with the enterprise SLA feature on: every conversation payload carries
// applied_sla, sla_events and sla_policy_id.
func current(w *corpusWriter) {
	inst := &install{frontendURL: "https://chat.fernhill.example", conversationAccount: true}
	acct := &account{id: 27, name: "Fernhill Supply Co.", sla: true, install: inst}
	web := &inbox{id: 3, name: "Fernhill Website", channel: "Channel::WebWidget", account: acct}
	mail := &inbox{id: 5, name: "Fernhill Support Email", channel: "Channel::Email", account: acct}
	wa := &inbox{id: 8, name: "Fernhill WhatsApp", channel: "Channel::Whatsapp", account: acct}
	api := &inbox{id: 11, name: "Fernhill Partner API", channel: "Channel::Api", account: acct}
	dana := &user{id: 14, name: "Dana Whitlock", availableName: "Dana", email: "dana.whitlock@fernhill.example", availability: "online"}
	kofi := &user{id: 19, name: "Kofi Mensah", availableName: "Kofi", email: "kofi.mensah@fernhill.example", availability: "online"}
	ingrid := &user{id: 23, name: "Ingrid Solberg", availableName: "Ingrid", email: "ingrid.solberg@fernhill.example", availability: "busy"}
	bot := &agentBot{id: 3, name: "Fernhill Assistant"}
	support := &team{id: 2, name: "support"}
	logistics := &team{id: 6, name: "logistics"}
	standard := &slaPolicy{id: 2, name: "Standard", description: "First reply within 1 hour, resolution within 2 days",
		frt: rubyFloat(3600), nrt: rubyFloat(14400), rt: rubyFloat(172800)}

	webWidgetStory(w, acct, web, dana, bot, support, standard)
	emailReceivingReport(w, mail, kofi, logistics, standard)
	emailReturnsExport(w, mail, standard)
	emailDeliveryReceipts(w, mail, ingrid, support, standard)
	whatsappStory(w, wa, support, standard)
	inboxEvents(w, acct)
	apiInboxStory(w, api, kofi, support, standard)
}

func webWidgetStory(w *corpusWriter, acct *account, web *inbox, dana *user, bot *agentBot, support *team, standard *slaPolicy) {
	zoe := &contact{id: 3107, account: acct, name: "crimson-forest-731",
		additional: h("created_at_ip", "198.51.100.23"), custom: h()}
	ci := &contactInbox{id: 9120, contact: zoe, inbox: web, sourceID: "c7a1e5d2-8b3f-4e61-9a0d-5f2c8b7e1d44",
		createdAt: at("2026-11-17T14:01:52.318Z"), updatedAt: at("2026-11-17T14:01:52.318Z"),
		pubsubToken: "Xq7mR2vT9kLp4sWz8bNc3dHf"}
	w.contact("contact_created", "contact_created", zoe, nil,
		"widget visitor: a generated name, no email yet (Contact#webhook_data has no type)")

	w.ignored("webwidget_triggered", chatwoottest.AccountWebhook, acct.id, 0,
		"visitor opened the widget before any conversation: current_conversation null; "+
			"ContactInbox#webhook_data + event + event_info (never sent to API-inbox webhooks: the inbox is a web widget)",
		webwidgetTriggered(ci, h(
			"initiated_at", h("timestamp", "Tue Nov 17 2026 09:01:53 GMT-0500 (Eastern Standard Time)"),
			"referer", "https://shop.fernhill.example/orders/FH-20417?utm_source=email&utm_campaign=shipping",
			"widget_language", nil, "browser_language", "en",
			"browser", h("browser_name", "Chrome", "browser_version", "142.0.0.0", "device_name", "Macintosh",
				"platform_name", "macOS", "platform_version", "10.15.7"))))

	zoe.name, zoe.email = "Zoë Castellanos", "zoe.castellanos@example.com"
	w.contact("contact_updated", "contact_updated", zoe, []hash{
		change("name", "crimson-forest-731", "Zoë Castellanos"),
		change("email", nil, "zoe.castellanos@example.com"),
		change("updated_at", isoTime(at("2026-11-17T14:01:52.322Z")), isoTime(at("2026-11-17T14:02:30.911Z"))),
	}, "pre-chat form filled in: changed_attributes from ActiveRecord previous_changes")

	created := at("2026-11-17T14:02:31.804116Z")
	c := &conversation{displayID: 2201, uuid: "4d2a9c1e-6b7f-4e0a-8c35-1f9d2e7b6a40", inbox: web, contact: zoe, ci: ci,
		additional: h(
			"browser", h("device_name", "Macintosh", "browser_name", "Chrome", "platform_name", "macOS",
				"browser_version", "142.0.0.0", "platform_version", "10.15.7"),
			"referer", "https://shop.fernhill.example/orders/FH-20417?utm_source=email&utm_campaign=shipping",
			"initiated_at", h("timestamp", "Tue Nov 17 2026 09:02:31 GMT-0500 (Eastern Standard Time)"),
			"browser_language", "en"),
		canReply: true, status: "pending", custom: h(), unread: 1,
		waitingSince: created, contactLastSeen: at("2026-11-17T14:02:31Z"), lastActivityAt: at("2026-11-17T14:02:31.912Z"),
		createdAt: created, updatedAt: at("2026-11-17T14:02:31.997402Z"),
		appliedSLA: &appliedSLA{id: 5203, policy: standard, status: "active", createdAt: at("2026-11-17T14:02:32.114Z"), updatedAt: at("2026-11-17T14:02:32.114Z")},
	}
	ci.current = c
	first := &message{id: 880401, conv: c, messageType: incoming, contentType: "text", contentAttrs: h(), additional: h(),
		content: "Hi! Order #FH-20417 arrived today & the lid of the <blue> enamel pot is cracked 😕 — the handle wobbles too. Can you send a replacement?",
		status:  "sent", sender: zoe, createdAt: at("2026-11-17T14:02:31.912Z"), updatedAt: at("2026-11-17T14:02:31.912Z"),
		external: h(), sentiment: h()}
	first.processContent()
	c.lastChat = first
	w.conversation("conversation_created", chatwoottest.AccountWebhook, "conversation_created", c, nil,
		"web widget, pending (the inbox has an agent bot), SLA applied: account, applied_sla, sla_events, sla_policy_id after the timestamps")
	w.message("message_created_incoming_widget", chatwoottest.AccountWebhook, "message_created", first,
		"customer's first message: \\u003c \\u003e \\u0026 escapes, emoji raw; the message twice (top level, conversation.messages[])")

	reply := &message{id: 880402, conv: c, messageType: outgoing, contentType: "text", contentAttrs: h(), additional: h(),
		content: "Thanks, Zoë! I've shared order FH-20417 with our team — a person will reply here shortly. You can attach photos with the 📎 button.",
		status:  "sent", sender: bot, createdAt: at("2026-11-17T14:02:34.207Z"), updatedAt: at("2026-11-17T14:02:34.207Z"),
		external: h(), sentiment: h()}
	reply.processContent()
	c.lastChat, c.lastActivityAt, c.updatedAt = reply, reply.createdAt, at("2026-11-17T14:02:34.311877Z")
	w.message("message_created_bot", chatwoottest.AccountWebhook, "message_created", reply,
		"agent bot reply: sender {id,name,type:agent_bot}, nested sender push format with avatar_url; not a human first reply")

	prevUpdated := c.updatedAt
	c.status, c.assignee, c.team, c.updatedAt = "open", dana, support, at("2026-11-17T14:03:02.540913Z")
	c.agentLastSeen = at("2026-11-17T14:03:10Z")
	w.conversation("conversation_updated_handoff", chatwoottest.AccountWebhook, "conversation_updated", c, []hash{
		change("status", "pending", "open"),
		change("assignee_id", nil, dana.id),
		change("team_id", nil, support.id),
		change("updated_at", isoTime(prevUpdated), isoTime(c.updatedAt)),
	}, "bot handoff and auto-assignment: changed_attributes with enum strings, ids and ISO times")

	note := &message{id: 880405, conv: c, messageType: outgoing, contentType: "text", contentAttrs: h(), additional: h(),
		content: "Checking stock of FH-LID-BLU-24 before I promise a ship date.\\\nIf we're out, offer the green lid + 15% credit (orders > $80).",
		private: true, status: "sent", sender: dana, createdAt: at("2026-11-17T14:06:40.118Z"), updatedAt: at("2026-11-17T14:06:40.118Z"),
		external: h(), sentiment: h()}
	note.processContent()
	c.updatedAt = at("2026-11-17T14:06:40.230115Z")
	w.message("message_created_private_note", chatwoottest.AccountWebhook, "message_created", note,
		"private note (outgoing, private true): conversation.messages[] holds the last public message, not the note; "+
			"the editor's markdown hard break (backslash-newline) is normalised in webhook content")

	w.ignored("conversation_typing_on_agent", chatwoottest.AccountWebhook, acct.id, c.displayID,
		"agent typing: {event, user (User#webhook_data), conversation, is_private}",
		typingEvent("conversation_typing_on", dana, c, false))

	answer := &message{id: 880406, conv: c, messageType: outgoing, contentType: "text", contentAttrs: h(), additional: h(),
		content: "Hi Zoë, so sorry about that! A replacement lid & handle (FH-LID-BLU-24) ships today by UPS; tracking follows by email. No need to return the damaged one.",
		status:  "sent", sender: dana, createdAt: at("2026-11-17T14:08:52.660Z"), updatedAt: at("2026-11-17T14:08:52.660Z"),
		external: h(), sentiment: h()}
	answer.processContent()
	c.lastChat, c.lastActivityAt = answer, answer.createdAt
	c.firstReplyAt, c.waitingSince, c.unread = ptr(answer.createdAt), time.Time{}, 0
	c.agentLastSeen, c.updatedAt = at("2026-11-17T14:08:52Z"), at("2026-11-17T14:08:52.781904Z")
	w.message("message_created_agent_reply", chatwoottest.AccountWebhook, "message_created", answer,
		"human first reply (sender User {id,name,email,type}); first_reply_created_at ISO, waiting_since 0")

	w.ignored("conversation_typing_off_contact", chatwoottest.AccountWebhook, acct.id, c.displayID,
		"contact typing in the widget: user is the contact's webhook_data (no type)",
		typingEvent("conversation_typing_off", zoe, c, false))

	c.status, c.updatedAt = "resolved", at("2026-11-17T14:11:05.917402Z")
	c.contactLastSeen = at("2026-11-17T14:10:48Z")
	c.appliedSLA.status, c.appliedSLA.updatedAt = "hit", at("2026-11-17T14:11:06.020Z")
	w.conversation("conversation_status_changed_resolved", chatwoottest.AccountWebhook, "conversation_status_changed", c, nil,
		"resolved: changed_attributes null (status_change read after commit, chatwoot.md §4.2)")
	w.conversation("conversation_updated_resolved", chatwoottest.AccountWebhook, "conversation_updated", c, []hash{
		change("status", "open", "resolved"),
		change("updated_at", isoTime(at("2026-11-17T14:08:52.781904Z")), isoTime(c.updatedAt)),
	}, "the conversation_updated fired for the same resolution, with the transition")

	csat := &message{id: 880408, conv: c, messageType: template, contentType: "input_csat", contentAttrs: h(), additional: h(),
		content: "Please rate the conversation", status: "sent",
		createdAt: at("2026-11-17T14:11:06.402Z"), updatedAt: at("2026-11-17T14:12:47.093Z"), external: h(), sentiment: h()}
	csat.processContent()
	csat.contentAttrs = h("submitted_values", h("csat_survey_response", h("rating", 5, "feedback_message", "Quick & friendly — thanks Dana!")))
	c.lastChat, c.lastActivityAt, c.updatedAt = csat, csat.createdAt, at("2026-11-17T14:11:06.511238Z")
	w.message("message_updated_csat_response", chatwoottest.AccountWebhook, "message_updated", csat,
		"CSAT answered in the widget: template/input_csat with content_attributes.submitted_values; no status, no changed_attributes at the top level")
}

func emailReceivingReport(w *corpusWriter, mail *inbox, kofi *user, logistics *team, standard *slaPolicy) {
	acct := mail.account
	teodor := &contact{id: 3342, account: acct, name: "Teodor Lindqvist", email: "teodor.lindqvist@nordvik-hotels.example",
		additional: h("source_id", "email:DB9PR02MB7321F0A1C2E4B6D8E0F1A3B5@DB9PR02MB7321.eurprd02.prod.mail.example"),
		custom:     h("company", "Nordvik Hotels AB")}
	ci := &contactInbox{id: 9288, contact: teodor, inbox: mail, sourceID: "email:DB9PR02MB7321F0A1C2E4B6D8E0F1A3B5@DB9PR02MB7321.eurprd02.prod.mail.example",
		createdAt: at("2026-11-13T10:03:41.266Z"), updatedAt: at("2026-11-13T10:03:41.266Z"), pubsubToken: "Tn4xB8qR1vK6mZ3wP9sLc2Hd"}
	c := &conversation{displayID: 2202, uuid: "9b8e7f6a-1c2d-4e3f-8a9b-0c1d2e3f4a5b", inbox: mail, contact: teodor, ci: ci,
		additional: h("source", "email", "in_reply_to", nil, "auto_reply", false, "mail_subject", "Damaged pallet on PO 58213",
			"initiated_at", h("timestamp", "2026-11-13T10:03:41.301Z")),
		canReply: true, status: "open", labels: []string{"b2b", "damaged-shipment"}, priority: "high",
		custom: h("po_number", "58213", "claim_id", "FH-CLM-0917"), assignee: kofi, team: logistics, unread: 1,
		firstReplyAt: ptr(at("2026-11-16T15:12:44.201Z")), waitingSince: at("2026-11-17T09:41:07.880Z"),
		agentLastSeen: at("2026-11-16T15:12:44Z"), lastActivityAt: at("2026-11-17T09:41:07.880Z"),
		createdAt: at("2026-11-13T10:03:41.298814Z"), updatedAt: at("2026-11-17T09:41:08.106392Z"),
		appliedSLA: &appliedSLA{id: 5177, policy: standard, status: "active", createdAt: at("2026-11-13T10:03:41.540Z"), updatedAt: at("2026-11-16T15:12:44.390Z")},
	}
	r := rng(58213)
	summary := [][]string{{"Category", "Lines", "Units received", "Units damaged"}}
	var items []block
	perCategory := map[string][3]int{}
	for i := 1; i <= receivingReportLines; i++ {
		family := r.pick(skuFamilies)
		ordered := 12 * (1 + r.intn(10))
		damaged, cond := 0, "OK"
		if r.intn(4) == 0 {
			damaged, cond = 1+r.intn(ordered/3), r.pick(damageNotes)
		}
		received := ordered - r.intn(2)*damaged
		items = append(items, block{para: []run{txt(fmt.Sprintf("Line %d — FH-%s-%03d, %s %s: ordered %d, received %d, damaged %d. %s.",
			i, family, r.intn(1000), r.pick(materials), r.pick(products), ordered, received, damaged, cond))}})
		n := perCategory[family]
		perCategory[family] = [3]int{n[0] + 1, n[1] + received, n[2] + damaged}
	}
	for _, f := range skuFamilies {
		n := perCategory[f]
		summary = append(summary, []string{"FH-" + f, fmt.Sprint(n[0]), fmt.Sprint(n[1]), fmt.Sprint(n[2])})
	}
	e := &email{client: outlook, from: "teodor.lindqvist@nordvik-hotels.example",
		to: []string{"support@fernhill.example"}, cc: []string{"receiving@nordvik-hotels.example"},
		subject: "RE: Damaged pallet on PO 58213", date: at("2026-11-17T10:41:02+01:00"),
		messageID: "DB9PR02MB73218C4E0B3A2F9D8E6C1A0B@DB9PR02MB7321.eurprd02.prod.mail.example",
		inReplyTo: "conversation/9b8e7f6a-1c2d-4e3f-8a9b-0c1d2e3f4a5b/messages/880577@fernhill.example",
		references: []string{"DB9PR02MB7321F0A1C2E4B6D8E0F1A3B5@DB9PR02MB7321.eurprd02.prod.mail.example",
			"conversation/9b8e7f6a-1c2d-4e3f-8a9b-0c1d2e3f4a5b/messages/880577@fernhill.example"},
		boundary: "_000_DB9PR02MB73218C4E0B3A2F9D8E6C1A0BDB9PR02MB7321eurp_",
		body: slices.Concat([]block{
			{para: []run{txt("Hi Kofi,")}},
			{para: nil},
			{para: []run{txt("Thanks for the quick reply. As requested, below is the full receiving report for PO 58213 (pallet 2 of 3, delivered Monday 16 Nov to our Göteborg warehouse). Damaged lines were photographed; the photos are in our portal: "),
				{text: "RR-2026-11-1184", href: "https://portal.nordvik-hotels.example/receiving/RR-2026-11-1184?view=full&lang=en"}}},
			{para: []run{txt("Could you confirm by Friday whether you'll replace or credit the damaged items? Housekeeping needs the mugs & trays before we open on 1 December.")}},
			{para: nil},
			{table: summary},
			{para: nil},
			{para: []run{txt("Line by line:")}},
		}, items, []block{
			{para: nil},
			{para: []run{txt("Med vänliga hälsningar / Kind regards,")}},
			{para: []run{txt("Teodor Lindqvist")}},
			{para: []run{txt("Purchasing Coordinator | Nordvik Hotels AB")}},
			{para: []run{txt("+1 555 010 4477 | "), {text: "teodor.lindqvist@nordvik-hotels.example", href: "mailto:teodor.lindqvist@nordvik-hotels.example"}}},
			{para: nil},
			{quote: [][2]string{{"From", "Kofi Mensah <support@fernhill.example>"}, {"Sent", "Monday, November 16, 2026 4:12 PM"},
				{"To", "Teodor Lindqvist <teodor.lindqvist@nordvik-hotels.example>"}, {"Subject", "RE: Damaged pallet on PO 58213"}}},
			{para: []run{txt("Hi Teodor,")}},
			{para: []run{txt("I'm sorry the pallet arrived damaged. Could you send us the full receiving report, line by line with the condition notes, so we can process the claim in one go?")}},
			{para: []run{txt("Best,")}},
			{para: []run{txt("Kofi — Fernhill Supply Co. Customer Support")}},
			{quote: [][2]string{{"From", "Teodor Lindqvist <teodor.lindqvist@nordvik-hotels.example>"}, {"Sent", "Friday, November 13, 2026 11:03 AM"},
				{"To", "support@fernhill.example"}, {"Subject", "Damaged pallet on PO 58213"}}},
			{para: []run{txt("Hello,")}},
			{para: []run{txt("Pallet 2 of 3 for PO 58213 arrived with a crushed corner and several cartons are damaged. How do we file a claim?")}},
			{para: []run{txt("Teodor")}},
		}),
	}
	m := emailMessage(880612, c, e, at("2026-11-17T09:41:07.880Z"))
	c.lastChat = m
	w.message("message_created_email_1_3mb", chatwoottest.AccountWebhook, "message_created", m,
		fmt.Sprintf("incoming Outlook email, %d KiB HTML, %d KiB text (a receiving report, line by line, and the quoted thread): "+
			"html_content.full, the HTML as text twice (reply, quoted), text_content full, reply, quoted, content and processed_message_content, "+
			"all at the top level and again in conversation.messages[]", len(e.html())>>10, len(e.text())>>10))
}

func emailReturnsExport(w *corpusWriter, mail *inbox, standard *slaPolicy) {
	acct := mail.account
	marisol := &contact{id: 3361, account: acct, name: "Marisol Ferreira", email: "marisol.ferreira@atlas-outfitters.example",
		additional: h("source_id", "email:CAF3k9Qx2mZ7vR1pL8sT4wN6bJ0yH5cD@mail.atlas-outfitters.example"), custom: h()}
	ci := &contactInbox{id: 9301, contact: marisol, inbox: mail, sourceID: "email:CAF3k9Qx2mZ7vR1pL8sT4wN6bJ0yH5cD@mail.atlas-outfitters.example",
		createdAt: at("2026-11-17T13:20:18.044Z"), updatedAt: at("2026-11-17T13:20:18.044Z"), pubsubToken: "Vb5nM1cX8zQ4wE7rT2yU9iOp"}
	created := at("2026-11-17T13:20:18.071552Z")
	c := &conversation{displayID: 2203, uuid: "e1f2a3b4-c5d6-4e7f-8a9b-c0d1e2f3a4b5", inbox: mail, contact: marisol, ci: ci,
		additional: h("source", "email", "in_reply_to", nil, "auto_reply", false, "mail_subject", "Fwd: Q4 consolidated returns export (all stores)",
			"initiated_at", h("timestamp", "2026-11-17T13:20:18.069Z")),
		canReply: true, status: "open", custom: h(), unread: 1, waitingSince: created,
		lastActivityAt: at("2026-11-17T13:20:18.402Z"), createdAt: created, updatedAt: at("2026-11-17T13:20:18.509177Z"),
		appliedSLA: &appliedSLA{id: 5219, policy: standard, status: "active", createdAt: at("2026-11-17T13:20:18.700Z"), updatedAt: at("2026-11-17T13:20:18.700Z")},
	}
	r := rng(77120)
	rows := [][]string{{"Return ID", "Store", "Order", "SKU", "Item", "Qty", "Reason", "Refund (USD)", "Processed by", "Date", "Customer comment"}}
	for i := 0; i < returnsExportRows; i++ {
		day := 1 + r.intn(46)
		date := time.Date(2026, 10, day, 0, 0, 0, 0, time.UTC)
		rows = append(rows, []string{fmt.Sprintf("RT-%06d", 410000+i*3+r.intn(3)), r.pick(stores),
			fmt.Sprintf("AO-%07d", 3000000+r.intn(900000)), fmt.Sprintf("FH-%s-%03d", r.pick(skuFamilies), r.intn(1000)),
			r.pick(materials) + " " + r.pick(products), fmt.Sprint(1 + r.intn(3)), r.pick(returnReasons),
			fmt.Sprintf("%d.%02d", 4+r.intn(180), r.intn(100)), r.pick(clerks), date.Format("2006-01-02"),
			r.pick(returnComments) + " " + r.pick(returnComments)})
	}
	e := &email{client: gmail, from: "marisol.ferreira@atlas-outfitters.example",
		to: []string{"support@fernhill.example"}, subject: "Fwd: Q4 consolidated returns export (all stores)",
		date: at("2026-11-17T08:20:11-05:00"), messageID: "CAF3k9Qx2mZ7vR1pL8sT4wN6bJ0yH5cD@mail.atlas-outfitters.example",
		inReplyTo: nil, references: []string{}, boundary: "000000000000a8c4e10644f1b2c3",
		body: []block{
			{para: []run{txt("Hi Fernhill team,")}},
			{para: nil},
			{para: []run{txt(`Forwarding our Q4 returns export as discussed with Dana — the full file for all 14 stores, straight from our returns system. Rows with reason "Defective" or "Arrived damaged" are the ones we'd like credited against invoice INV-77120.`)}},
			{para: []run{txt("If a CSV is easier: "), {text: "returns export", href: "https://atlas-outfitters.example/returns/export?quarter=2026-Q4&format=csv&stores=all"}}},
			{para: nil},
			{para: []run{txt("Thanks,")}},
			{para: []run{txt("Marisol")}},
			{quote: [][2]string{{"From", "Atlas Returns Desk <returns@atlas-outfitters.example>"}, {"Date", "Mon, Nov 16, 2026 at 6:02 PM"},
				{"Subject", "Q4 consolidated returns export (all stores)"}, {"To", "<ops@atlas-outfitters.example>"}}},
			{para: []run{txt("Automated export — 14 stores, 1 Oct 2026 – 15 Nov 2026. Amounts in USD & before tax.")}},
			{table: rows},
		},
	}
	m := emailMessage(880733, c, e, at("2026-11-17T13:20:18.402Z"))
	c.lastChat = m
	w.message("message_created_email_4mb", chatwoottest.AccountWebhook, "message_created", m,
		fmt.Sprintf("incoming Gmail forward, %d KiB HTML, %d KiB text (a returns export table): content cut at 150,000 characters with \"...\"; "+
			"the trimmed text (processed_message_content) is only the forwarding note", len(e.html())>>10, len(e.text())>>10))
}

func emailDeliveryReceipts(w *corpusWriter, mail *inbox, ingrid *user, support *team, standard *slaPolicy) {
	acct := mail.account
	sigrun := &contact{id: 3377, account: acct, name: "Sigrún Ásgeirsdóttir", email: "sigrun@brekka-guesthouses.example",
		additional: h("source_id", "email:AS8PR10MB6123D0C1B2A39485F6E7D8C9@AS8PR10MB6123.eurprd10.prod.mail.example"),
		custom:     h("company", "Brekka Guesthouses")}
	ci := &contactInbox{id: 9310, contact: sigrun, inbox: mail, sourceID: "email:AS8PR10MB6123D0C1B2A39485F6E7D8C9@AS8PR10MB6123.eurprd10.prod.mail.example",
		createdAt: at("2026-11-02T09:15:27.610Z"), updatedAt: at("2026-11-02T09:15:27.610Z"), pubsubToken: "Kj2hG7fD4sA9pO1iU6yT3rEw"}
	c := &conversation{displayID: 2206, uuid: "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d", inbox: mail, contact: sigrun, ci: ci,
		additional: h("source", "email", "in_reply_to", nil, "auto_reply", false, "mail_subject", "Delivery receipts for November",
			"initiated_at", h("timestamp", "2026-11-02T09:15:27.655Z")),
		canReply: true, status: "open", labels: []string{"records"}, custom: h(), assignee: ingrid, team: support, unread: 0,
		firstReplyAt: ptr(at("2026-11-02T10:02:13.884Z")), agentLastSeen: at("2026-11-17T15:58:40Z"),
		lastActivityAt: at("2026-11-17T15:31:55.207Z"), createdAt: at("2026-11-02T09:15:27.652031Z"),
		appliedSLA: &appliedSLA{id: 4988, policy: standard, status: "active", createdAt: at("2026-11-02T09:15:27.903Z"), updatedAt: at("2026-11-02T10:02:14.011Z")},
	}
	r := rng(2206)
	var lines []block
	for i := 0; i < deliveryReceiptLines; i++ {
		day := time.Date(2026, 11, 2+r.intn(15), 0, 0, 0, 0, time.UTC)
		pallets := 1 + r.intn(4)
		lines = append(lines, block{para: []run{txt(fmt.Sprintf("DN-%05d · %s · %s · %d pallet%s / %d cartons · signed by %s · %s",
			44000+i*2+r.intn(2), day.Format("Mon 2 Jan"), r.pick(guesthouses), pallets, plural(pallets), 6+r.intn(60),
			r.pick(signers), r.pick(deliveryRemarks)))}})
	}
	e := &email{client: outlook, from: "sigrun@brekka-guesthouses.example",
		to: []string{"support@fernhill.example"}, subject: "RE: Delivery receipts for November",
		date: at("2026-11-17T15:31:49+00:00"), messageID: "AS8PR10MB61237A6B5C4D3E2F1A0B9C8D@AS8PR10MB6123.eurprd10.prod.mail.example",
		inReplyTo: "conversation/5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d/messages/879020@fernhill.example",
		references: []string{"AS8PR10MB6123D0C1B2A39485F6E7D8C9@AS8PR10MB6123.eurprd10.prod.mail.example",
			"conversation/5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d/messages/879020@fernhill.example"},
		boundary: "_000_AS8PR10MB61237A6B5C4D3E2F1A0B9C8DAS8PR10MB6123eurp_",
		body: slices.Concat([]block{
			{para: []run{txt("Hello Ingrid,")}},
			{para: nil},
			{para: []run{txt("Below are the signed delivery receipts for every November drop to our guesthouses, for your records — no action needed on your side. The scans are on our shared drive: "),
				{text: "Receipts 2026-11", href: "https://files.brekka-guesthouses.example/s/receipts-2026-11?dl=0&sort=date"}}},
			{para: nil},
		}, lines, []block{
			{para: nil},
			{para: []run{txt("Bestu kveðjur,")}},
			{para: []run{txt("Sigrún Ásgeirsdóttir | Brekka Guesthouses | +1 555 010 2290")}},
			{para: nil},
			{quote: [][2]string{{"From", "Ingrid Solberg <support@fernhill.example>"}, {"Sent", "Monday, November 2, 2026 10:02 AM"},
				{"To", "Sigrún Ásgeirsdóttir <sigrun@brekka-guesthouses.example>"}, {"Subject", "RE: Delivery receipts for November"}}},
			{para: []run{txt("Hi Sigrún, thanks — please send the signed receipts once the month is done and we'll file them.")}},
			{para: []run{txt("Ingrid")}},
		}),
	}
	m := emailMessage(880790, c, e, at("2026-11-17T15:31:55.207Z"))
	c.lastChat = m
	c.status, c.waitingSince, c.updatedAt = "resolved", time.Time{}, at("2026-11-17T15:59:02.338170Z")
	c.appliedSLA.status, c.appliedSLA.updatedAt = "hit", at("2026-11-17T15:59:02.447Z")
	w.conversation("conversation_status_changed_after_email", chatwoottest.AccountWebhook, "conversation_status_changed", c, nil,
		fmt.Sprintf("resolved without a reply after an Outlook email of %d KiB HTML, %d KiB text: "+
			"the email once, in conversation.messages[] push format; changed_attributes null", len(e.html())>>10, len(e.text())>>10))

	csat := &message{id: 880791, conv: c, messageType: template, contentType: "input_csat", contentAttrs: h(), additional: h(),
		content: "Please rate the conversation", status: "sent",
		createdAt: at("2026-11-17T15:59:02.910Z"), updatedAt: at("2026-11-17T15:59:02.910Z"), external: h(), sentiment: h()}
	csat.processContent()
	c.lastChat, c.lastActivityAt, c.updatedAt = csat, csat.createdAt, at("2026-11-17T15:59:03.021564Z")
	w.message("message_created_csat_email", chatwoottest.AccountWebhook, "message_created", csat,
		"CSAT survey (template, input_csat, no sender) in an email inbox: top-level content carries the survey link, the nested content does not")
}

// emailMessage is the message a mailbox creates for e (MailboxSanitizer#sanitized_message_attributes).
func emailMessage(id int64, c *conversation, e *email, created time.Time) *message {
	m := &message{id: id, conv: c, messageType: incoming, contentType: "incoming_email", contentAttrs: e.contentAttributes(),
		additional: h(), content: e.content(), status: "sent", sourceID: e.messageID, sender: c.contact,
		createdAt: created, updatedAt: created, external: h(), sentiment: h()}
	m.processContent()
	return m
}

func whatsappStory(w *corpusWriter, wa *inbox, support *team, standard *slaPolicy) {
	acct := wa.account
	ana := &contact{id: 3519, account: acct, name: "Ana Beatriz Couto", phone: "+15555550147", additional: h(), custom: h()}
	ci := &contactInbox{id: 9342, contact: ana, inbox: wa, sourceID: "15555550147",
		createdAt: at("2026-11-17T10:00:12.502Z"), updatedAt: at("2026-11-17T10:00:12.502Z"), pubsubToken: "Pw3oE8iR5uY2tQ7wS4aD9fGh"}
	created := at("2026-11-17T10:00:12.534871Z")
	c := &conversation{displayID: 2204, uuid: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f", inbox: wa, contact: ana, ci: ci,
		additional: h(), canReply: true, status: "open", custom: h(), team: support, unread: 1, waitingSince: created,
		contactLastSeen: time.Time{}, lastActivityAt: at("2026-11-17T10:00:12.611Z"), createdAt: created,
		updatedAt:  at("2026-11-17T10:00:13.002519Z"),
		appliedSLA: &appliedSLA{id: 5208, policy: standard, status: "active", createdAt: at("2026-11-17T10:00:13.150Z"), updatedAt: at("2026-11-17T10:00:13.150Z")},
	}
	base := acct.install.frontendURL
	photo := &message{id: 880801, conv: c, messageType: incoming, contentType: "text", contentAttrs: h(), additional: h(),
		content: "Here's the box & the receipt — the corner was crushed 📦", status: "sent",
		sourceID: "wamid.HBgLMTU1NTU1NTAxNDcVAgASGBQzQUY3QjJDOUUwQjQxOEQ2QTFGMwA=", sender: ana,
		createdAt: at("2026-11-17T10:00:12.611Z"), updatedAt: at("2026-11-17T10:00:14.288Z"), external: h(), sentiment: h(),
		attachments: []attachment{{id: 61207, fileType: "image", extension: nil, contentType: "image/jpeg",
			dataURL: blobURL(base, 128844, "IMG-20261117-WA0007.jpg"), thumbURL: thumbURL(base, 128844, "IMG-20261117-WA0007.jpg"),
			fileSize: 183402, width: 1280, height: 960}}}
	photo.processContent()
	c.lastChat = photo
	w.message("message_created_whatsapp_attachment", chatwoottest.AccountWebhook, "message_created", photo,
		"WhatsApp image with a caption: attachments[] at the top level and in the nested message (Attachment#push_event_data)")

	c.appliedSLA.status, c.appliedSLA.updatedAt = "active_with_misses", at("2026-11-17T11:05:00.418Z")
	c.slaEvents = []slaEvent{{id: 771, eventType: "frt", meta: h(), createdAt: at("2026-11-17T11:05:00.391Z"), updatedAt: at("2026-11-17T11:05:00.391Z")}}
	c.updatedAt = at("2026-11-17T11:05:00.520447Z")
	w.conversation("conversation_updated_sla_missed", chatwoottest.AccountWebhook, "conversation_updated", c, nil,
		"SLA first response missed: AppliedSla status change, dispatched without changes (changed_attributes null), sla_events [frt]")

	echo := &message{id: 880803, conv: c, messageType: outgoing, contentType: "text", contentAttrs: h("external_echo", true), additional: h(),
		content: "Obrigada, Ana! We'll refund the shipping (US$ 12.40) today & a new box ships Thursday.", status: "delivered",
		sourceID: "wamid.HBgLMTU1NTU1NTAxNDcVAgARGBI1RkM0QjhEMkE5RTNDMDdGMTYA", createdAt: at("2026-11-17T11:20:37.000Z"),
		updatedAt: at("2026-11-17T11:20:37.955Z"), external: h(), sentiment: h()}
	echo.processContent()
	c.lastChat, c.lastActivityAt = echo, echo.createdAt
	c.firstReplyAt, c.waitingSince, c.updatedAt = ptr(at("2026-11-17T11:20:37.000Z")), time.Time{}, at("2026-11-17T11:20:38.061733Z")
	w.message("message_created_whatsapp_external_echo", chatwoottest.AccountWebhook, "message_created", echo,
		"reply sent from the WhatsApp Business app: outgoing, sender null (no sender in the nested message either), "+
			"content_attributes.external_echo true, status delivered; counts as the human first reply")

	ana.custom = h("vip", true, "customer_since", "2019-04-02")
	w.contact("contact_updated_vip", "contact_updated", ana, []hash{
		change("custom_attributes", h(), ana.custom),
		change("updated_at", isoTime(at("2026-11-17T10:00:12.498Z")), isoTime(at("2026-11-17T11:22:10.731Z"))),
	}, "custom attribute set by an agent: changed_attributes holds the whole custom_attributes objects")
}

func inboxEvents(w *corpusWriter, acct *account) {
	created := at("2026-11-17T16:40:05.118Z")
	hours := func(inboxID, firstID int64, stamp time.Time) []hash {
		out := make([]hash, 7)
		for day := range 7 {
			closed := day == 0 || day == 6
			var open, closeH, openM, closeM any
			if !closed {
				open, openM, closeH, closeM = 9, 0, 17, 0
			}
			out[day] = h("id", firstID+int64(day), "inbox_id", inboxID, "account_id", acct.id, "day_of_week", day,
				"closed_all_day", closed, "open_hour", open, "open_minutes", openM, "close_hour", closeH, "close_minutes", closeM,
				"created_at", isoTime(stamp), "updated_at", isoTime(stamp), "open_all_day", false)
		}
		return out
	}
	widgetChannel := h("id", 9, "website_url", "https://trade.fernhill.example", "account_id", acct.id,
		"created_at", isoTime(created), "updated_at", isoTime(created), "website_token", "wdgtCorpus7Hk2NqP4sVx9Ld",
		"widget_color", "#1F6F5B", "welcome_title", "Trade accounts",
		"welcome_tagline", "Questions about a wholesale order? We reply within the hour.", "feature_flags", 7,
		"reply_time", "in_a_few_minutes", "hmac_token", "corpusHmacTokenNotReal01", "pre_chat_form_enabled", false,
		"pre_chat_form_options", h("pre_chat_message", "Share your queries or comments here.", "pre_chat_fields", []hash{
			h("field_type", "standard", "label", "Email Id", "name", "emailAddress", "type", "email", "required", true, "enabled", false),
			h("field_type", "standard", "label", "Full name", "name", "fullName", "type", "text", "required", false, "enabled", false),
			h("field_type", "standard", "label", "Phone number", "name", "phoneNumber", "type", "text", "required", false, "enabled", false),
		}),
		"hmac_mandatory", false, "continuity_via_email", true, "allowed_domains", "")
	w.ignored("inbox_created", chatwoottest.AccountWebhook, acct.id, 0,
		"Inbox::EventDataPresenter#push_data: settings, working_hours rows and the whole channel row "+
			"(channel columns derived from the schema; hmac_token is a credential: never log)",
		inboxPushData(inboxSettings{timezone: "UTC", greeting: nil, csat: true, created: created, updated: created,
			hours: hours(14, 211, created), channel: widgetChannel}).merge("event", "inbox_created"))

	apiCreated := at("2026-09-08T12:30:44.301Z")
	updated := at("2026-11-17T16:52:19.846Z")
	apiChannel := h("id", 4, "account_id", acct.id, "webhook_url", "https://partners.fernhill.example/hooks/chatwoot",
		"created_at", isoTime(apiCreated), "updated_at", isoTime(apiCreated), "identifier", "corpusIdentifierNotReal1",
		"hmac_token", "corpusHmacTokenNotReal02", "hmac_mandatory", false, "additional_attributes", h(),
		"secret", "corpusApiSecretDoNotUse1")
	w.ignored("inbox_updated", chatwoottest.AccountWebhook, acct.id, 0,
		"API inbox given business hours: changed_attributes; the channel row includes the secret that signs this inbox's webhooks",
		inboxPushData(inboxSettings{timezone: "America/New_York", workingHours: true, csat: false, created: apiCreated, updated: updated,
			hours: hours(11, 141, apiCreated), channel: apiChannel}).merge("event", "inbox_updated", "changed_attributes", []hash{
			change("timezone", "UTC", "America/New_York"),
			change("working_hours_enabled", false, true),
			change("updated_at", isoTime(at("2026-10-01T08:12:09.530Z")), isoTime(updated)),
		}))
}

type inboxSettings struct {
	timezone         string
	workingHours     bool
	greeting         any
	csat             bool
	created, updated time.Time
	hours            []hash
	channel          hash
}

// inboxPushData is Inbox::EventDataPresenter#push_data
// (app/presenters/inbox/event_data_presenter.rb): no id or name.
func inboxPushData(s inboxSettings) hash {
	return h("allow_messages_after_resolved", true, "lock_to_single_conversation", false,
		"auto_assignment_config", h(), "enable_auto_assignment", true,
		"enable_email_collect", true, "greeting_enabled", s.greeting != nil, "greeting_message", s.greeting,
		"csat_survey_enabled", s.csat, "business_name", nil, "sender_name_type", "friendly",
		"timezone", s.timezone, "out_of_office_message", nil, "working_hours_enabled", s.workingHours,
		"working_hours", s.hours, "created_at", isoTime(s.created), "updated_at", isoTime(s.updated),
		"channel", s.channel)
}

func apiInboxStory(w *corpusWriter, api *inbox, kofi *user, support *team, standard *slaPolicy) {
	acct := api.account
	yusuf := &contact{id: 3688, account: acct, name: "Yusuf Demir", email: "yusuf.demir@example.net", identifier: "partner-crm-88412",
		additional: h("store", "#118 Leeds"), custom: h("partner_tier", "gold")}
	ci := &contactInbox{id: 9407, contact: yusuf, inbox: api, sourceID: "b5d0e8c4-3f1a-4c7e-9a62-7e4d1b8f2a90",
		createdAt: at("2026-10-02T08:14:55.030Z"), updatedAt: at("2026-10-02T08:14:55.030Z"), pubsubToken: "Rq9wE2tY6uI1oP5aS8dF3gHj"}
	created := at("2026-11-17T12:15:40.227093Z")
	c := &conversation{displayID: 2205, uuid: "7f8e9d0c-1b2a-4f3e-8d4c-5b6a7f8e9d0c", inbox: api, contact: yusuf, ci: ci,
		additional: h(), canReply: true, status: "open", custom: h("partner_ticket", "PT-55190"), team: support, unread: 1,
		waitingSince: created, lastActivityAt: at("2026-11-17T12:15:40.318Z"), createdAt: created,
		updatedAt:  at("2026-11-17T12:15:40.402216Z"),
		appliedSLA: &appliedSLA{id: 5214, policy: standard, status: "active", createdAt: at("2026-11-17T12:15:40.655Z"), updatedAt: at("2026-11-17T12:15:40.655Z")},
	}
	c.unread, c.waitingSince, c.lastActivityAt = 0, time.Time{}, created
	w.conversation("conversation_created", chatwoottest.APIInboxWebhook, "conversation_created", c, nil,
		"opened through the API channel's public API before its first message was posted: messages [], "+
			"so the conversation's own account (4.14.2) is the only account in the payload; signed with the channel's secret")

	in := &message{id: 880901, conv: c, messageType: incoming, contentType: "text", contentAttrs: h(), additional: h(),
		content: "Store #118 (Leeds) reports 3 units of FH-SKL-26 with warped bases — batch L2611. Can we swap them at the next delivery?",
		status:  "sent", sourceID: "portal-msg-55190", sender: yusuf, createdAt: at("2026-11-17T12:15:40.318Z"),
		updatedAt: at("2026-11-17T12:15:40.318Z"), external: h(), sentiment: h()}
	in.processContent()
	c.lastChat, c.unread, c.waitingSince, c.lastActivityAt = in, 1, in.createdAt, in.createdAt
	w.message("message_created_incoming_api", chatwoottest.APIInboxWebhook, "message_created", in,
		"incoming message posted by the partner's system with its own source_id")

	kofiAssigned := at("2026-11-17T12:20:02.114309Z")
	c.assignee, c.agentLastSeen, c.updatedAt = kofi, at("2026-11-17T12:20:05Z"), kofiAssigned
	w.ignored("conversation_typing_on_agent", chatwoottest.APIInboxWebhook, acct.id, c.displayID,
		"agent typing, delivered to the API inbox's webhook too", typingEvent("conversation_typing_on", kofi, c, false))

	out := &message{id: 880903, conv: c, messageType: outgoing, contentType: "text", contentAttrs: h(), additional: h(),
		content: "Yes — we'll swap all 3 on Thursday's delivery (DN-44817). Please keep the warped ones aside; the driver will collect them.",
		status:  "sent", sender: kofi, createdAt: at("2026-11-17T12:21:14.507Z"), updatedAt: at("2026-11-17T12:21:14.507Z"),
		external: h(), sentiment: h()}
	out.processContent()
	c.lastChat, c.lastActivityAt, c.unread = out, out.createdAt, 0
	c.firstReplyAt, c.waitingSince, c.updatedAt = ptr(out.createdAt), time.Time{}, at("2026-11-17T12:21:14.630928Z")
	w.message("message_created_agent_reply_api", chatwoottest.APIInboxWebhook, "message_created", out,
		"agent reply the partner's system must deliver: a non-2xx answer marks it failed in Chatwoot")

	out.status, out.updatedAt = "read", at("2026-11-17T12:24:51.006Z")
	w.message("message_updated_status_read", chatwoottest.APIInboxWebhook, "message_updated", out,
		"status changed to read by the partner's system: the top level has no status, the nested message does (\"read\")")

	c.status, c.updatedAt = "resolved", at("2026-11-17T12:40:33.275561Z")
	c.appliedSLA.status, c.appliedSLA.updatedAt = "hit", at("2026-11-17T12:40:33.390Z")
	w.conversation("conversation_status_changed_resolved", chatwoottest.APIInboxWebhook, "conversation_status_changed", c, nil,
		"resolved, changed_attributes null")
}

// older is a community Chatwoot before 4.14.2: conversation payloads carry
// no account of their own (chatwoot#11753) and no SLA fields.
func older(w *corpusWriter) {
	inst := &install{frontendURL: "https://support.quayside.example"}
	acct := &account{id: 4, name: "Quayside Bikes", install: inst}
	web := &inbox{id: 2, name: "Quayside Chat", channel: "Channel::WebWidget", account: acct}
	api := &inbox{id: 6, name: "Quayside Dealer API", channel: "Channel::Api", account: acct}
	rafael := &user{id: 7, name: "Rafael Quintero", availableName: "Rafa", email: "rafael@quayside.example", availability: "online"}

	noor := &contact{id: 512, account: acct, name: "Noor Haddad", email: "noor.haddad@example.net",
		additional: h("created_at_ip", "203.0.113.77"), custom: h()}
	ci := &contactInbox{id: 1790, contact: noor, inbox: web, sourceID: "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
		createdAt: at("2026-11-16T18:40:02.771Z"), updatedAt: at("2026-11-16T18:40:02.771Z"), pubsubToken: "Lk8jH3gF6dS1aQ9wE4rT7yUi"}
	created := at("2026-11-16T18:41:20.118452Z")
	c := &conversation{displayID: 318, uuid: "3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b", inbox: web, contact: noor, ci: ci,
		additional: h("browser", h("device_name", "Unknown", "browser_name", "Firefox", "platform_name", "Windows",
			"browser_version", "145.0", "platform_version", "10.0"),
			"referer", "https://quayside.example/support/e-bikes/display-errors",
			"initiated_at", h("timestamp", "Mon Nov 16 2026 19:41:20 GMT+0100 (Central European Standard Time)"),
			"browser_language", "de"),
		canReply: true, status: "open", custom: h(), createdAt: created, lastActivityAt: created,
		contactLastSeen: at("2026-11-16T18:41:19Z"), updatedAt: at("2026-11-16T18:41:20.201337Z")}
	w.conversation("conversation_created_no_account", chatwoottest.AccountWebhook, "conversation_created", c, nil,
		"Chatwoot before 4.14.2, built before its first message committed (chatwoot#13608): messages [], no account anywhere, "+
			"so only the webhook URL says whose it is")

	first := &message{id: 40117, conv: c, messageType: incoming, contentType: "text", contentAttrs: h(), additional: h(),
		content: "Hallo! My e-bike's display shows E-21 after the firmware update <v3.2> & won't assist — is it safe to ride?",
		status:  "sent", sender: noor, createdAt: at("2026-11-16T18:41:20.402Z"), updatedAt: at("2026-11-16T18:41:20.402Z"),
		external: h(), sentiment: h()}
	first.processContent()
	c.lastChat, c.unread, c.waitingSince, c.lastActivityAt = first, 1, first.createdAt, first.createdAt
	c.updatedAt = at("2026-11-16T18:41:20.530981Z")
	w.message("message_created_incoming_no_conversation_account", chatwoottest.AccountWebhook, "message_created", first,
		"before 4.14.2: the message's conversation has no account key (the message's own account is there)")

	answer := &message{id: 40119, conv: c, messageType: outgoing, contentType: "text", contentAttrs: h(), additional: h(),
		content: "Hi Noor — E-21 is a sensor check after the update; it's safe, but assist stays off until you recalibrate: hold + and – for 5 s with the bike standing still.",
		status:  "sent", sender: rafael, createdAt: at("2026-11-16T18:52:07.913Z"), updatedAt: at("2026-11-16T18:52:07.913Z"),
		external: h(), sentiment: h()}
	answer.processContent()
	c.lastChat, c.assignee, c.lastActivityAt, c.unread = answer, rafael, answer.createdAt, 0
	c.firstReplyAt, c.waitingSince, c.agentLastSeen = ptr(answer.createdAt), time.Time{}, at("2026-11-16T18:52:08Z")
	c.status, c.updatedAt = "resolved", at("2026-11-16T19:30:41.662104Z")
	w.conversation("conversation_status_changed_no_account", chatwoottest.AccountWebhook, "conversation_status_changed", c, nil,
		"before 4.14.2: the account only as conversation.messages[0].account_id")

	dealer := &contact{id: 530, account: acct, name: "Velo Nord Service Desk", email: "service@velonord.example",
		identifier: "dealer-0427", additional: h(), custom: h("dealer_tier", "silver")}
	dci := &contactInbox{id: 1802, contact: dealer, inbox: api, sourceID: "dealer-0427",
		createdAt: at("2026-08-20T07:00:31.904Z"), updatedAt: at("2026-08-20T07:00:31.904Z"), pubsubToken: "Zx1cV4bN7mQ2wE5rT8yU3iOp"}
	dc := &conversation{displayID: 322, uuid: "8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d", inbox: api, contact: dealer, ci: dci,
		additional: h(), canReply: true, status: "open", custom: h(), unread: 1, createdAt: at("2026-11-17T07:12:48.330281Z"),
		waitingSince: at("2026-11-17T07:12:48.402Z"), lastActivityAt: at("2026-11-17T07:12:48.402Z")}
	claim := &message{id: 40188, conv: dc, messageType: incoming, contentType: "text", contentAttrs: h(), additional: h(),
		content: "Warranty claim W-3391: battery pack (serial QB-48V-20931) drops from 60% to 0% under load. Customer's bike is in our workshop.",
		status:  "sent", sourceID: "vn-ticket-3391", sender: dealer, createdAt: at("2026-11-17T07:12:48.402Z"),
		updatedAt: at("2026-11-17T07:12:48.402Z"), external: h(), sentiment: h()}
	claim.processContent()
	dc.lastChat, dc.labels, dc.updatedAt = claim, []string{"battery", "warranty"}, at("2026-11-17T07:14:02.918446Z")
	w.conversation("conversation_updated_labels_no_account", chatwoottest.APIInboxWebhook, "conversation_updated", dc, []hash{
		change("label_list", []string{}, []string{"battery", "warranty"}),
		change("cached_label_list", nil, "battery, warranty"),
		change("updated_at", isoTime(at("2026-11-17T07:12:48.511Z")), isoTime(dc.updatedAt)),
	}, "before 4.14.2, API inbox: labels added; changed_attributes carries label_list and the incidental cached_label_list")
}

var (
	skuFamilies = []string{"MUG", "SKL", "BTL", "BRD", "TWL", "PLT", "PAN", "TRY", "TMB", "BLK", "LID", "JAR"}
	materials   = []string{"Enamel", "Cast-iron", "Stainless", "Bamboo", "Linen", "Stoneware", "Copper", "Oak", "Recycled-glass", "Merino", "Crème stoneware"}
	products    = []string{"camp mug 350 ml", "skillet 26 cm", "water bottle 750 ml", "cutting board 40×28 cm", "tea towel (set of 2)",
		"dinner plate Ø 27 cm", "saucepan 2 L", "serving tray", "tumbler 300 ml", "throw blanket 130×170", "storage jar 1 L", "lid, blue"}
	damageNotes = []string{"Outer carton crushed — contents OK", "Lid cracked", "Handle loose", "Wet packaging & mould spots on cartons",
		"Missing from pallet", `Label mismatch: PO says <blue>, received "green"`, "Scratched glaze", "Dented rim", "Glass shattered — see photo",
		"Shrink-wrap torn, 2 cartons open", "Wrong size (26 cm ordered, 24 cm received)"}
	stores = []string{"Atlas Boston Seaport", "Atlas Cambridge", "Atlas Providence", "Atlas Portland ME", "Atlas Burlington",
		"Atlas Hartford", "Atlas New Haven", "Atlas Albany", "Atlas Worcester", "Atlas Salem", "Atlas Manchester NH", "Atlas Newport",
		"Atlas Springfield", "Atlas online"}
	returnReasons = []string{"Defective", "Arrived damaged", "Changed mind", "Wrong item sent", "Duplicate order", "Too small",
		"Not as described", "Late delivery > 10 days", "Gift return (no receipt)"}
	clerks         = []string{"J. Okoro", "M. Brandt", "L. Nguyen", "S. Varga", "T. Haraldsen", "R. Ahmadi", "C. Dubois", "auto-approve"}
	guesthouses    = []string{"Brekka Lakeside", "Brekka Old Town", "Brekka Harbour", "Brekka Hillside", "Brekka Fjord View", "Brekka Airport Inn"}
	signers        = []string{"Ásdís K.", "Jökull P.", "Hrafnhildur S.", "Þórður M.", "Eydís G.", "Kári B.", "Ragnheiður Ó."}
	returnComments = []string{"Box was open when it arrived.", "Colour nothing like the photo on the website.",
		"Bought two by mistake & returned one.", "Handle came off after a week of normal use.", "Chipped on the rim straight out of the box.",
		"Smaller than expected — fine for one person only.", "Customer says the enamel flaked <after dishwasher>.", "No reason given.",
		"Replacement already shipped; refund the difference.", "Arrived 12 days late, gift was for a birthday."}
	deliveryRemarks = []string{"Complete", "Complete", "Complete", "1 carton short — delivered next day", "Signed at back door",
		"Driver late (> 2 h) & no call ahead", "Pallet swapped <EUR> for <CHEP>", "Complete; cartons stacked in storeroom B"}
)

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// describeCorpus is the body list as the test log shows it.
func describeCorpus(bodies []corpusBody) string {
	var b strings.Builder
	for _, c := range bodies {
		fmt.Fprintf(&b, "%-70s %-28s %-9s %9d\n", c.File, c.Event, c.Webhook, c.Bytes)
	}
	return b.String()
}
