package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"supportpipe/internal/chatwoot/chatwoottest"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/support/escalation"
	"supportpipe/internal/support/sla"
)

func init() {
	register(func() *cobra.Command {
		c := &cobra.Command{
			Use:   "demo",
			Short: "send a realistic set of conversations to the running server and show where to look",
			Long: `demo shows the product alive against a running server (make run, or
supportctl serve): it sends Chatwoot webhooks, signed as send signs them, for
five new conversations timed relative to now, waits until the processor has
handled them, prints what became of each and where to look (tile, queue,
stats, health, one conversation).

  waiting     a customer who just wrote: within the first-response target
  answered    an agent answered within the target (SLA met)
  breached    the customer wrote longer ago than the target, counted in the
              configured business hours (the message is back-dated as far as
              the calendar needs, e.g. to Friday afternoon on a Monday morning)
  angry VIP   an angry message from a customer the escalation.vip rules
              recognise (custom attribute, label, email or domain)
  billing     a billing question, then the same body again under a new
              delivery id, as Chatwoot double-emits: counted as a duplicate

The bodies are the corpus's real Chatwoot payloads (testdata/chatwoot/corpus)
with new ids, customers, texts and times. Each run uses new conversation ids,
so it can run again; earlier runs' conversations stay (and their waiting
customers breach in time). It reads the environment serve reads
(SUPPORT_ADDR, SUPPORT_DATA_DIR, SUPPORT_CONFIG, CHATWOOT_WEBHOOK_SECRET,
SUPPORT_API_TOKEN): run it with the same.`,
			Example: "  make run                    # in one terminal\n  go run ./cmd/supportctl demo  # in another",
		}
		var o demoOptions
		c.Flags().StringVar(&o.url, "url", defaultWebhookURL(), "webhook URL of the running server")
		c.Flags().StringVar(&o.api, "api", "", "base URL of its read API (default: the webhook URL's scheme and host)")
		c.Flags().StringVar(&o.secret, "secret", "", "signing secret (default: first of CHATWOOT_WEBHOOK_SECRET, else the data dir's)")
		c.Flags().StringVar(&o.token, "token", "", "API token (default: first of SUPPORT_API_TOKEN, else the data dir's)")
		c.Flags().StringVar(&o.corpus, "corpus", "", "corpus of Chatwoot bodies (default: testdata/chatwoot/corpus of this checkout)")
		c.Flags().DurationVar(&o.wait, "wait", time.Minute, "how long to wait for the processor")
		for _, f := range []string{"url", "api", "secret", "token", "wait"} {
			_ = c.RegisterFlagCompletionFunc(f, cobra.NoFileCompletions)
		}
		_ = c.MarkFlagDirname("corpus")
		c.RunE = func(c *cobra.Command, _ []string) error { return demo(c.Context(), o, c.OutOrStdout()) }
		return c
	})
}

type demoOptions struct {
	url, api, secret, token, corpus string
	wait                            time.Duration
}

// The corpus bodies the demo reshapes: one conversation of the Fernhill
// account (27), web widget inbox 3.
const (
	demoCreated  = "04_account_conversation_created.json"
	demoIncoming = "05_account_message_created_incoming_widget.json"
	demoReply    = "10_account_message_created_agent_reply.json"
)

// scene is one conversation of the demo.
type scene struct {
	name  string
	conv  int64
	sends []demoSend
	// answered: the scene ends with an agent's reply, so it is handled
	// once the first response is stored.
	answered bool
}

type demoSend struct {
	event    string
	note     string
	body     []byte
	delivery string
}

// customer is who writes in a scene.
type customer struct {
	id          int64
	name, email string
	attrs       map[string]any
	labels      []string // the conversation's labels (a VIP label rule)
}

func demo(ctx context.Context, o demoOptions, stdout io.Writer) error {
	if o.wait <= 0 {
		return usageErrorf("--wait %v is not a positive duration", o.wait)
	}
	api := strings.TrimRight(o.api, "/")
	if api == "" {
		u, err := url.Parse(o.url)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return usageErrorf("--url %q is not an http(s) URL", o.url)
		}
		api = u.Scheme + "://" + u.Host
	}
	secret := o.secret
	if secret == "" {
		secret = localSecret()
	}
	if secret == "" {
		return usageErrorf("no secret: pass --secret, set CHATWOOT_WEBHOOK_SECRET, or start serve once so that %s holds one",
			filepath.Join(dataDir(), "chatwoot_webhook_secret"))
	}
	token, tokenHint := o.token, `"$SUPPORT_API_TOKEN"`
	if token == "" {
		token, tokenHint = localToken()
	}
	if token == "" {
		return usageErrorf("no API token: pass --token, set SUPPORT_API_TOKEN, or start serve once so that %s holds one",
			filepath.Join(dataDir(), "support_api_token"))
	}
	settings, err := config.ReadSettings(os.Getenv)
	if err != nil {
		return err
	}
	templates, err := demoTemplates(o.corpus)
	if err != nil {
		return err
	}
	cl := &apiClient{base: api, token: token, http: &http.Client{Timeout: 5 * time.Second}}
	if err := cl.reachable(ctx); err != nil {
		return err
	}
	before, err := cl.stats(ctx)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	base, err := cl.freeConversations(ctx, now)
	if err != nil {
		return err
	}
	plan, notes, err := demoPlan(templates, settings.File, base, now)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "sending to %s (account %d, conversations %d to %d):\n", o.url, demoAccount, base, base+int64(len(plan))-1)
	client := &http.Client{Timeout: 5 * time.Second}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, s := range plan {
		for _, snd := range s.sends {
			status, resp, err := post(ctx, client, o.url, []byte(secret), snd.delivery, snd.body)
			if err != nil {
				w.Flush()
				return fmt.Errorf("%s: %s: %w", s.name, snd.event, err)
			}
			fmt.Fprintf(w, "  %s\t%d\t%s\t%d %s\t%s\n", s.name, s.conv, snd.event, status, http.StatusText(status), snd.note)
			if status != http.StatusAccepted {
				w.Flush()
				return fmt.Errorf("%s: %s was answered %d: %s (is --secret the server's?)", s.name, snd.event, status, strings.TrimSpace(resp))
			}
		}
	}
	w.Flush()
	for _, n := range notes {
		fmt.Fprintln(stdout, "note: "+n)
	}

	fmt.Fprintf(stdout, "waiting for the processor (up to %v)...\n", o.wait)
	start := time.Now()
	views, dupes, err := cl.await(ctx, plan, before.Duplicates, o.wait)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "processed in %.1fs\n\n", time.Since(start).Seconds())

	w = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  SCENE\tCONVERSATION\tSLA\tTAGS\tESCALATED")
	for i, s := range plan {
		v := views[i]
		state := "-"
		if v.SLA != nil {
			state = v.SLA.State
			if v.FirstResponseSeconds != nil {
				state += fmt.Sprintf(" (answered in %s)", (time.Duration(*v.FirstResponseSeconds) * time.Second).String())
			} else if !v.SLA.Due.IsZero() {
				state += " (due " + v.SLA.Due.Local().Format("Mon 15:04") + ")"
			}
		}
		fmt.Fprintf(w, "  %s\t%d\t%s\t%s\t%s\n", s.name, s.conv, state, dash(v.Tags), dash(v.EscalationReasons))
	}
	w.Flush()
	fmt.Fprintf(stdout, "  duplicate delivery: counted, not processed again (duplicates today: %d)\n", dupes)
	if v := views[2]; v.SLA != nil && v.SLA.State != string(sla.Breached) {
		fmt.Fprintf(stdout, "note: the breached scene reads %q: the server's business hours or SLA differ from SUPPORT_CONFIG here\n", v.SLA.State)
	}
	if !settings.Live {
		fmt.Fprintln(stdout, "Chatwoot is offline (CHATWOOT_LIVE is not true): labels, priorities and notes are recorded, not sent.")
	}
	fmt.Fprintf(stdout, "\nwhere to look:\n")
	fmt.Fprintf(stdout, "  tile           %s/support/tile#token=%s\n", api, token)
	auth := fmt.Sprintf(`-H "Authorization: Bearer %s"`, tokenHint)
	fmt.Fprintf(stdout, "  queue          curl -s %s %s/support/queue\n", auth, api)
	fmt.Fprintf(stdout, "  stats          curl -s %s %s/support/stats\n", auth, api)
	fmt.Fprintf(stdout, "  health         curl -s %s/support/health\n", api)
	fmt.Fprintf(stdout, "  conversation   curl -s %s %s/support/conversations/%d/%d\n", auth, api, demoAccount, plan[3].conv)
	fmt.Fprintln(stdout, "  the breached conversation is escalated by the SLA sweep, within a minute.")
	return nil
}

func dash(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

// localToken is the API token as serve has it, and how a shell command can
// name it without printing it again.
func localToken() (token, hint string) {
	if v := strings.TrimSpace(os.Getenv("SUPPORT_API_TOKEN")); v != "" {
		t, _, _ := strings.Cut(v, ",")
		return strings.TrimSpace(t), `"$SUPPORT_API_TOKEN"`
	}
	path := filepath.Join(dataDir(), "support_api_token")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", ""
	}
	t, _, _ := strings.Cut(strings.TrimSpace(string(b)), ",")
	return strings.TrimSpace(t), "$(cat " + path + ")"
}

// demoTemplates loads the corpus bodies the demo reshapes.
func demoTemplates(dir string) (map[string][]byte, error) {
	if dir == "" {
		// The checkout the command runs in, else the one it was built
		// from (go run, or a binary built here).
		dir = filepath.Join("testdata", "chatwoot", "corpus")
		if _, err := os.Stat(filepath.Join(dir, chatwoottest.ManifestFile)); err != nil {
			dir = chatwoottest.Dir()
		}
	}
	out := map[string][]byte{}
	for _, f := range []string{demoCreated, demoIncoming, demoReply} {
		b, err := chatwoottest.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return nil, fmt.Errorf("corpus: %w (run it from the repository, or pass --corpus testdata/chatwoot/corpus)", err)
		}
		out[f] = b
	}
	return out, nil
}

// demoAccount is the corpus's account.
const demoAccount = 27

// demoPlan builds the scenes' webhooks for conversations base, base+1, ...,
// timed relative to now under the configuration's business hours and SLA.
// Notes say what could not be done as asked.
func demoPlan(t map[string][]byte, cfg *config.Config, base int64, now time.Time) ([]scene, []string, error) {
	var notes []string
	target := cfg.SLA.FirstResponse
	cal := cfg.Calendar(demoInbox)
	vip, how := vipCustomer(cfg.Escalation.VIP)
	if how == "" {
		notes = append(notes, "no escalation.vip rule is configured (SUPPORT_CONFIG): the VIP scene escalates for its anger only")
	}

	// Breached: the customer wrote so long ago that the target ran out in
	// business time, whatever the day and hour now.
	breachAt, ok := latestBreached(cal, target, now)
	if !ok {
		notes = append(notes, fmt.Sprintf("the business hours had less than %v open in the last %d days: "+
			"the breached scene cannot be back-dated, so it is sent as if written now and breaches later", target, breachSearchDays))
		breachAt = now.Add(-time.Minute)
	}
	answeredAt := now.Add(-10 * time.Minute)
	replyAt := answeredAt.Add(min(target/3, 4*time.Minute))

	scenes := []struct {
		name string
		at   time.Time
		who  customer
		text string
	}{
		{"waiting", now.Add(-min(target/10, time.Minute)), customer{id: 4101, name: "Priya Natarajan", email: "priya.natarajan@example.com"},
			"Hi! My parcel for order FH-20561 hasn't moved since Monday, could you check the tracking for me?"},
		{"answered", answeredAt, customer{id: 3107, name: "Zoë Castellanos", email: "zoe.castellanos@example.com"}, ""},
		{"breached", breachAt, customer{id: 4102, name: "Tom Becker", email: "tom.becker@example.org"},
			"Hello, I can't log in to my account: the password reset email never arrives."},
		{"angry VIP", now.Add(-40 * time.Second), vip,
			"This is the THIRD time I'm writing!!! Your service is a joke. Refund me NOW or I'm filing a chargeback and leaving a review everywhere."},
		{"billing", now.Add(-20 * time.Second), customer{id: 4104, name: "Ana Sousa", email: "ana.sousa@example.net"},
			"Hi, I was charged twice for order FH-20533 this month. Could you refund the duplicate charge? Thanks"},
	}
	var plan []scene
	for i, sc := range scenes {
		conv := base + int64(i)
		r := reshape{conv: conv, msg: conv * 100, who: sc.who, text: sc.text}
		r.at = shiftTo(anchor(t[demoIncoming]), sc.at)
		created, err := r.apply(t[demoCreated])
		if err != nil {
			return nil, nil, err
		}
		incoming, err := r.apply(t[demoIncoming])
		if err != nil {
			return nil, nil, err
		}
		s := scene{name: sc.name, conv: conv, sends: []demoSend{
			{event: "conversation_created", body: created, delivery: uuid.NewString()},
			{event: "message_created", note: "customer: " + sc.who.name, body: incoming, delivery: uuid.NewString()},
		}}
		switch sc.name {
		case "answered":
			reply := reshape{conv: conv, msg: conv*100 + 1, who: sc.who,
				at: between(anchor(t[demoIncoming]), sc.at, anchor(t[demoReply]), replyAt)}
			b, err := reply.apply(t[demoReply])
			if err != nil {
				return nil, nil, err
			}
			s.sends = append(s.sends, demoSend{event: "message_created", note: fmt.Sprintf("agent reply %v later", replyAt.Sub(answeredAt)),
				body: b, delivery: uuid.NewString()})
			s.answered = true
		case "breached":
			s.sends[1].note += ", back-dated to " + breachAt.Local().Format("Mon Jan 2 15:04 MST")
		case "angry VIP":
			if how != "" {
				s.sends[1].note += " (VIP by " + how + ")"
			}
		case "billing":
			// Chatwoot re-emits an event under a new delivery id: the same
			// bytes, which the content key recognises.
			s.sends = append(s.sends, demoSend{event: "message_created", note: "the same body again, new delivery id (a duplicate)",
				body: incoming, delivery: uuid.NewString()})
		}
		plan = append(plan, s)
	}
	return plan, notes, nil
}

// demoInbox is the corpus's web widget inbox, whose business hours apply.
const demoInbox = 3

// vipCustomer is an angry customer the configured VIP rules recognise,
// and by which rule ("" when none is configured).
func vipCustomer(v escalation.VIP) (customer, string) {
	c := customer{id: 4103, name: "Marcus Whitfield", email: "marcus.whitfield@example.com"}
	switch {
	case v.CustomAttribute != "":
		c.attrs = map[string]any{v.CustomAttribute: true}
		return c, "contact attribute " + v.CustomAttribute
	case len(v.Labels) > 0:
		c.labels = []string{v.Labels[0]}
		return c, "label " + v.Labels[0]
	case len(v.Emails) > 0:
		c.email = v.Emails[0]
		return c, "email"
	case len(v.Domains) > 0:
		c.email = "marcus.whitfield@" + strings.TrimPrefix(strings.TrimSpace(v.Domains[0]), "@")
		return c, "domain " + v.Domains[0]
	}
	return c, ""
}

// breachSearchDays bounds how far back a breach is looked for.
const breachSearchDays = 30

// breachMargin keeps the back-dated breach clear of the due time, so that
// it is breached when the server reads it, a few seconds later.
const breachMargin = 2 * time.Minute

// latestBreached returns the latest time a customer could have written for
// the first-response target to have run out, in business time, a margin
// before now; false when business was open too little in the last
// breachSearchDays.
func latestBreached(cal *sla.Calendar, target time.Duration, now time.Time) (time.Time, bool) {
	breached := func(t time.Time) bool {
		due, err := sla.DueAt(cal, t, target)
		return err == nil && !due.After(now.Add(-breachMargin))
	}
	lo, hi := now.Add(-breachSearchDays*24*time.Hour), now.Add(-target-breachMargin)
	if !breached(lo) {
		return time.Time{}, false
	}
	if breached(hi) {
		return hi.Truncate(time.Second), true
	}
	// The due time grows with the opening time: search the boundary.
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if breached(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo.Truncate(time.Second), true
}
