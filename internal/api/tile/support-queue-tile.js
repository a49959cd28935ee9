// <support-queue-tile>: the support queue at a glance (pending conversations,
// average and oldest wait, first-response SLA). A plain custom element with
// no build step, so any dashboard can embed it with one <script> tag.
//
// Attributes:
//   endpoint  URL of the queue JSON (default: /support/queue next to this script)
//   token     bearer token; else taken from the page URL fragment #token=…
//   refresh   seconds between refreshes (default 30; 0 turns it off)
const template = document.createElement("template");
template.innerHTML = `
<style>
  :host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1f2933; max-width: 28rem; }
  .card { border: 1px solid #cbd2d9; border-radius: 8px; padding: 1rem; background: #fff; }
  h2 { font-size: 1rem; margin: 0 0 .75rem; }
  dl { display: grid; grid-template-columns: 1fr auto; gap: .35rem 1rem; margin: 0; }
  dt { color: #52606d; }
  dd { margin: 0; font-weight: 600; text-align: right; font-variant-numeric: tabular-nums; }
  .bad { color: #b42318; } .warn { color: #b54708; } .good { color: #067647; }
  .status { color: #52606d; }
  .error { color: #b42318; }
  button { font: inherit; margin-top: .5rem; padding: .3rem .8rem; border-radius: 6px; border: 1px solid #9aa5b1; background: #f5f7fa; cursor: pointer; }
  button:focus-visible { outline: 2px solid #2563eb; outline-offset: 2px; }
  .updated { color: #7b8794; font-size: 12px; margin-top: .6rem; }
  [hidden] { display: none !important; }
</style>
<section class="card" role="region" aria-labelledby="title">
  <h2 id="title">Support queue</h2>
  <div part="loading" class="status" data-state="loading" role="status" aria-live="polite">Loading the support queue…</div>
  <div part="error" class="error" data-state="error" role="alert" hidden>
    <span data-field="error-message">The support queue could not be loaded.</span><br>
    <button type="button" data-action="retry">Retry</button>
  </div>
  <div part="data" data-state="data" aria-live="polite" hidden>
    <dl>
      <dt>Waiting for a first reply</dt><dd data-field="pending"></dd>
      <dt>Average wait</dt><dd data-field="avg_wait_seconds"></dd>
      <dt>Longest wait</dt><dd data-field="oldest_wait_seconds"></dd>
      <dt>First-response SLA met today</dt><dd data-field="compliance_pct"></dd>
      <dt>Breached (waiting)</dt><dd data-field="breached"></dd>
      <dt>At risk</dt><dd data-field="at_risk"></dd>
      <dt>Target</dt><dd data-field="target_seconds"></dd>
    </dl>
    <div class="updated" data-field="generated_at"></div>
  </div>
</section>`;

// Resolve the default endpoint next to this module, wherever the page is.
const scriptURL = import.meta.url;

export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

class SupportQueueTile extends HTMLElement {
  static get observedAttributes() { return ["endpoint", "token", "refresh"]; }

  constructor() {
    super();
    this.attachShadow({ mode: "open" }).appendChild(template.content.cloneNode(true));
    this.shadowRoot.querySelector("[data-action=retry]").addEventListener("click", () => this.load());
    this.timer = null;
    this.inflight = null;
  }

  connectedCallback() { this.load(); this.schedule(); }
  disconnectedCallback() { clearInterval(this.timer); if (this.inflight) this.inflight.abort(); }
  attributeChangedCallback(name, oldValue, newValue) {
    if (!this.isConnected || oldValue === newValue) return;
    if (name === "refresh") this.schedule(); else this.load();
  }

  get endpoint() { return this.getAttribute("endpoint") || new URL("queue", scriptURL).href; }
  get token() {
    const attr = this.getAttribute("token");
    if (attr) return attr;
    // The fragment never reaches a server, so the token stays in the browser.
    return new URLSearchParams(location.hash.slice(1)).get("token") || "";
  }

  schedule() {
    clearInterval(this.timer);
    const secs = Number(this.getAttribute("refresh") ?? 30);
    if (secs > 0) this.timer = setInterval(() => this.load(true), secs * 1000);
  }

  show(state) {
    for (const el of this.shadowRoot.querySelectorAll("[data-state]")) el.hidden = el.dataset.state !== state;
    this.setAttribute("state", state);
    this.shadowRoot.querySelector("section").setAttribute("aria-busy", state === "loading" ? "true" : "false");
  }

  async load(background = false) {
    if (this.inflight) this.inflight.abort();
    const ctrl = new AbortController();
    this.inflight = ctrl;
    // A background refresh keeps the numbers on screen instead of flashing "loading".
    if (!background || this.getAttribute("state") !== "data") this.show("loading");
    try {
      const headers = { Accept: "application/json" };
      if (this.token) headers.Authorization = `Bearer ${this.token}`;
      const res = await fetch(this.endpoint, { headers, signal: ctrl.signal, cache: "no-store" });
      if (!res.ok) {
        throw new Error(res.status === 401 ? "Not authorised: check the tile's token." : `The server answered ${res.status}.`);
      }
      this.render(await res.json());
      this.show("data");
    } catch (err) {
      if (err.name === "AbortError") return;
      this.shadowRoot.querySelector("[data-field=error-message]").textContent =
        `The support queue could not be loaded. ${err.message || ""}`.trim();
      this.show("error");
    } finally {
      if (this.inflight === ctrl) this.inflight = null;
    }
  }

  render(q) {
    const sla = q.sla || {};
    const set = (field, value, text, cls) => {
      const el = this.shadowRoot.querySelector(`[data-field=${field}]`);
      el.dataset.value = value === null || value === undefined ? "" : String(value);
      el.textContent = text;
      el.className = cls || "";
    };
    set("pending", q.pending, String(q.pending), q.pending > 0 ? "warn" : "good");
    set("avg_wait_seconds", q.avg_wait_seconds, formatDuration(q.avg_wait_seconds));
    set("oldest_wait_seconds", q.oldest_wait_seconds, formatDuration(q.oldest_wait_seconds));
    const pct = sla.compliance_pct;
    set("compliance_pct", pct, pct === null || pct === undefined ? "no data yet" : `${pct.toFixed(1)} %`,
      pct === null || pct === undefined ? "" : pct >= 95 ? "good" : pct >= 80 ? "warn" : "bad");
    set("breached", sla.breached, String(sla.breached), sla.breached > 0 ? "bad" : "good");
    set("at_risk", sla.at_risk, String(sla.at_risk), sla.at_risk > 0 ? "warn" : "good");
    set("target_seconds", sla.target_seconds, formatDuration(sla.target_seconds));
    const when = new Date(q.generated_at);
    set("generated_at", q.generated_at, `Updated ${when.toLocaleTimeString()}`);
  }
}

if (!customElements.get("support-queue-tile")) customElements.define("support-queue-tile", SupportQueueTile);
