package chatwoot_test

import (
	"fmt"
	"strings"
	"time"
)

// Incoming email as Chatwoot stores it. MailPresenter#serialized_data
// (app/presenters/mail_presenter.rb) keeps the HTML part whole
// (html_content.full), the HTML converted to text with blockquotes dropped
// (html_content.reply: HtmlParser.parse_reply, app/presenters/
// html_parser.rb, i.e. Html2Text) and that text trimmed of the quoted thread
// (html_content.quoted: EmailReplyTrimmer.trim); the text part whole twice
// (text_content.full and .reply are the same decoded part) and trimmed
// (.quoted). The mailbox (app/mailboxes/mailbox_helper.rb, mailbox_sanitizer.rb)
// stores that as content_attributes.email, and the text reply, cut at
// 150,000 characters, as the message's content; processed_message_content
// is the trimmed text. So a message_created body holds an email's HTML
// twice but its text about a dozen times: the five text strings under
// content_attributes and the content, at the top level and again in
// conversation.messages[], which adds processed_message_content.
//
// The generator builds each email from a small document model and renders
// it three ways: the HTML part as Outlook or Gmail writes it, the text part
// as the same client writes it, and the text Html2Text makes of the HTML.
// The text renderings follow those tools' rules in outline, not byte for byte;
// the JSON around them is exact.

type mailClient int

const (
	outlook mailClient = iota
	gmail
)

// block is one part of an email body.
type block struct {
	para  []run      // a paragraph
	table [][]string // a table, header row first
	// quote is the header of an earlier message in the thread (Outlook's
	// "From: … Sent: …", Gmail's forwarded-message block): what
	// EmailReplyTrimmer cuts at.
	quote [][2]string
}

type run struct{ text, href string }

func txt(s string) run { return run{text: s} }

type email struct {
	client      mailClient
	from        string
	to, cc, bcc []string
	subject     string
	date        time.Time // with the sender's zone
	messageID   string
	inReplyTo   any
	references  []string
	boundary    string
	body        []block
}

// serializedData is MailPresenter#serialized_data.
func (e *email) serializedData() hash {
	htmlPart, textPart := e.html(), e.text()
	reply := e.html2text()
	return h(
		"bcc", listOrNil(e.bcc), "cc", listOrNil(e.cc),
		"content_type", `multipart/alternative; boundary="`+e.boundary+`"`,
		"date", dateTime(e.date), "from", []string{e.from}, "headers", nil,
		"html_content", h("full", htmlPart, "reply", reply, "quoted", trimReply(reply)),
		"in_reply_to", e.inReplyTo, "message_id", e.messageID, "multipart", true,
		"number_of_attachments", 0, "references", e.references, "subject", e.subject,
		"text_content", h("full", textPart, "reply", textPart, "quoted", trimReply(textPart)),
		"to", e.to, "auto_reply", false,
	)
}

// contentAttributes is what MailboxSanitizer#sanitized_content_attributes stores.
func (e *email) contentAttributes() hash {
	return h("email", e.serializedData(), "cc_email", listOrNil(e.cc), "bcc_email", listOrNil(e.bcc))
}

// content is MailboxHelper#mail_content, cut as the mailbox cuts it.
func (e *email) content() string { return truncate(e.text(), 150_000) }

func listOrNil(l []string) any {
	if len(l) == 0 {
		return nil
	}
	return l
}

// trimReply is EmailReplyTrimmer.trim for these bodies: the text before the
// first header of an earlier message, without trailing blank lines.
func trimReply(s string) string {
	cut := len(s)
	for _, marker := range []string{"\nFrom: ", "\n---------- Forwarded message ---------"} {
		if i := strings.Index(s, marker); i >= 0 && i < cut {
			cut = i
		}
	}
	return strings.TrimRight(s[:cut], " \n")
}

const outlookHead = `<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta name="Generator" content="Microsoft Word 15 (filtered medium)">
<style><!--
/* Font Definitions */
@font-face
	{font-family:"Cambria Math";
	panose-1:2 4 5 3 5 4 6 3 2 4;}
@font-face
	{font-family:Calibri;
	panose-1:2 15 5 2 2 2 4 3 2 4;}
/* Style Definitions */
p.MsoNormal, li.MsoNormal, div.MsoNormal
	{margin:0cm;
	font-size:11.0pt;
	font-family:"Calibri",sans-serif;
	mso-ligatures:standardcontextual;
	mso-fareast-language:EN-US;}
a:link, span.MsoHyperlink
	{mso-style-priority:99;
	color:#0563C1;
	text-decoration:underline;}
span.EmailStyle21
	{mso-style-type:personal-reply;
	font-family:"Calibri",sans-serif;
	color:windowtext;}
.MsoChpDefault
	{mso-style-type:export-only;
	font-size:10.0pt;
	mso-ligatures:none;}
@page WordSection1
	{size:612.0pt 792.0pt;
	margin:72.0pt 72.0pt 72.0pt 72.0pt;}
div.WordSection1
	{page:WordSection1;}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--><!--[if gte mso 9]><xml>
<o:shapelayout v:ext="edit">
<o:idmap v:ext="edit" data="1" />
</o:shapelayout></xml><![endif]-->
</head>
<body lang="EN-US" link="#0563C1" vlink="#954F72" style="word-wrap:break-word">
<div class="WordSection1">
`

// html is the text/html part.
func (e *email) html() string {
	var b strings.Builder
	if e.client == outlook {
		b.WriteString(outlookHead)
	} else {
		b.WriteString(`<div dir="ltr">`)
	}
	quoted := false
	for _, bl := range e.body {
		switch {
		case bl.quote != nil:
			e.htmlQuote(&b, bl.quote)
			quoted = true
		case bl.table != nil:
			e.htmlTable(&b, bl.table)
		default:
			e.htmlPara(&b, bl.para)
		}
	}
	if e.client == outlook {
		b.WriteString("</div>\n</body>\n</html>\n")
	} else {
		if quoted {
			b.WriteString("</div>")
		}
		b.WriteString("</div>\n")
	}
	return b.String()
}

func (e *email) htmlRuns(b *strings.Builder, runs []run) {
	for _, r := range runs {
		if r.href == "" {
			b.WriteString(escapeHTML(r.text))
			continue
		}
		fmt.Fprintf(b, `<a href="%s">%s</a>`, escapeHTML(r.href), escapeHTML(r.text))
	}
}

func (e *email) htmlPara(b *strings.Builder, runs []run) {
	if e.client == gmail {
		b.WriteString("<div>")
		if len(runs) == 0 {
			b.WriteString("<br>")
		}
		e.htmlRuns(b, runs)
		b.WriteString("</div>")
		return
	}
	b.WriteString("<p class=\"MsoNormal\">")
	if len(runs) == 0 {
		b.WriteString("<o:p>&nbsp;</o:p></p>\n")
		return
	}
	b.WriteString(`<span style="mso-fareast-language:EN-US">`)
	e.htmlRuns(b, runs)
	b.WriteString("<o:p></o:p></span></p>\n")
}

func (e *email) htmlTable(b *strings.Builder, rows [][]string) {
	if e.client == gmail {
		b.WriteString(`<table cellspacing="0" cellpadding="0" dir="ltr" border="1" style="table-layout:fixed;font-size:10pt;font-family:Arial;width:0px;border-collapse:collapse;border:none"><colgroup>`)
		for range rows[0] {
			b.WriteString(`<col width="100">`)
		}
		b.WriteString("</colgroup><tbody>")
		for i, row := range rows {
			b.WriteString(`<tr style="height:21px">`)
			for _, cell := range row {
				style := `overflow:hidden;padding:2px 3px;vertical-align:bottom;border:1px solid rgb(204,204,204)`
				if i == 0 {
					style += ";font-weight:bold;background-color:rgb(243,243,243)"
				}
				fmt.Fprintf(b, `<td style="%s">%s</td>`, style, escapeHTML(cell))
			}
			b.WriteString("</tr>")
		}
		b.WriteString("</tbody></table>")
		return
	}
	b.WriteString(`<table class="MsoNormalTable" border="0" cellspacing="0" cellpadding="0" width="100%" style="width:100.0%;border-collapse:collapse;mso-yfti-tbllook:1184">` + "\n")
	for i, row := range rows {
		b.WriteString(`<tr style="mso-yfti-irow:` + fmt.Sprint(i) + `">` + "\n")
		for _, cell := range row {
			bg := ""
			if i == 0 {
				bg = "background:#D9E2F3;"
			}
			fmt.Fprintf(b, `<td valign="top" style="border:solid #BFBFBF 1.0pt;%spadding:2.25pt 4.5pt 2.25pt 4.5pt">`+
				`<p class="MsoNormal"><span style="font-size:9.0pt;mso-fareast-language:EN-US">%s<o:p></o:p></span></p></td>`+"\n",
				bg, escapeHTML(cell))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
}

func (e *email) htmlQuote(b *strings.Builder, header [][2]string) {
	if e.client == gmail {
		b.WriteString(`<br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>`)
		for _, f := range header {
			fmt.Fprintf(b, "%s: %s<br>", f[0], escapeHTML(f[1]))
		}
		b.WriteString("</div><br><br>")
		return
	}
	b.WriteString(`<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">` + "\n<p class=\"MsoNormal\">")
	for i, f := range header {
		if i > 0 {
			b.WriteString("<br>\n")
		}
		fmt.Fprintf(b, "<b>%s:</b> %s", f[0], escapeHTML(f[1]))
	}
	b.WriteString("<o:p></o:p></p>\n</div>\n")
}

// text is the text/plain part.
func (e *email) text() string {
	var b strings.Builder
	for _, bl := range e.body {
		switch {
		case bl.quote != nil:
			if e.client == gmail {
				b.WriteString("\n---------- Forwarded message ---------\n")
			} else {
				b.WriteString("\n")
			}
			for _, f := range bl.quote {
				fmt.Fprintf(&b, "%s: %s\n", f[0], f[1])
			}
			b.WriteString("\n")
		case bl.table != nil:
			for _, row := range bl.table {
				b.WriteString(strings.Join(row, "\t"))
				b.WriteString("\n")
			}
			b.WriteString("\n")
		default:
			for _, r := range bl.para {
				b.WriteString(r.text)
				if r.href != "" && r.href != r.text {
					fmt.Fprintf(&b, " <%s>", r.href)
				}
			}
			b.WriteString("\n")
			if e.client == outlook {
				b.WriteString("\n")
			}
		}
	}
	return b.String()
}

// html2text is what Html2Text makes of the HTML part: paragraphs on their
// own lines, links as [text](href), a table's cells on one line each row.
func (e *email) html2text() string {
	var lines []string
	for _, bl := range e.body {
		switch {
		case bl.quote != nil:
			if e.client == gmail {
				lines = append(lines, "", "---------- Forwarded message ---------")
			} else {
				lines = append(lines, "")
			}
			for _, f := range bl.quote {
				lines = append(lines, f[0]+": "+f[1])
			}
			lines = append(lines, "")
		case bl.table != nil:
			for _, row := range bl.table {
				lines = append(lines, strings.Join(row, " "))
			}
		default:
			var s strings.Builder
			for _, r := range bl.para {
				if r.href != "" {
					fmt.Fprintf(&s, "[%s](%s)", r.text, r.href)
				} else {
					s.WriteString(r.text)
				}
			}
			lines = append(lines, s.String())
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// escapeHTML escapes what a mail client escapes in text and attribute
// values; quotes and apostrophes stay as they are in text.
var escapeHTML = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace
