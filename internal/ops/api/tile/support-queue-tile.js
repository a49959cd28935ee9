// <support-queue-tile>: the support queue at a glance (pending conversations,
// average and oldest wait, first-response SLA). A plain custom element with
// no build step, so any dashboard can embed it with one <script> tag.
//
// Attributes (each also a property, so frameworks may set either):
//   endpoint  URL of the queue JSON (default: /support/queue next to this script)
//   token     bearer token; else taken from the page URL fragment #token=…
//   refresh   seconds between refreshes (default 30; 0 turns it off)
//
// The element reflects what it shows in its state attribute
// (loading|error|data), so a page can style or test it from outside.
const template = document.createElement("template");
template.innerHTML = `
<style>
  :host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1f2933; max-width: 28rem; }
  :host([hidden]) { display: none; }
  .card { border: 1px solid #cbd2d9; border-radius: 8px; padding: 1rem; background: #fff; }
  .card:focus { outline: none; }
  .card:focus-visible, button:focus-visible { outline: 2px solid #2563eb; outline-offset: 2px; }
  h2 { font-size: 1rem; margin: 0 0 .75rem; }
  p { margin: 0; }
  dl { display: grid; grid-template-columns: 1fr auto; gap: .35rem 1rem; margin: 0; }
  dt { color: #52606d; }
  dd { margin: 0; font-weight: 600; text-align: right; font-variant-numeric: tabular-nums; }
  .bad { color: #b42318; } .warn { color: #b54708; } .good { color: #067647; }
  .status { color: #52606d; }
  .error { color: #b42318; }
  button { font: inherit; margin-top: .5rem; padding: .3rem .8rem; border-radius: 6px; border: 1px solid #616e7c; background: #f5f7fa; color: inherit; cursor: pointer; }
  button:hover { background: #e4e7eb; }
  .updated { color: #52606d; font-size: 12px; margin-top: .6rem; }
  [hidden] { display: none !important; }
</style>
<section part="card" class="card" aria-labelledby="title" aria-busy="true" tabindex="-1">
  <h2 id="title">Support queue</h2>
  <p part="status" class="status" role="status" data-field="status">Loading the support queue…</p>
  <p part="error" class="error" role="alert" data-field="error-message"></p>
  <button type="button" data-action="retry" data-state="error" hidden>Retry</button>
  <div part="data" data-state="data" hidden>
    <dl>
      <dt>Waiting for a first reply</dt><dd data-field="pending"></dd>
      <dt>Average wait</dt><dd data-field="avg_wait_seconds"></dd>
      <dt>Longest wait</dt><dd data-field="oldest_wait_seconds"></dd>
      <dt>First-response SLA met today</dt><dd data-field="compliance_pct"></dd>
      <dt>Breached (waiting)</dt><dd data-field="breached"></dd>
      <dt>At risk</dt><dd data-field="at_risk"></dd>
      <dt>First-response target</dt><dd data-field="target_seconds"></dd>
    </dl>
    <p class="updated">Updated <time data-field="generated_at"></time></p>
  </div>
</section>`;

// Resolve the default endpoint next to this module, wherever the page is.
const scriptURL = import.meta.url;

// A request that hangs would otherwise keep the tile on stale numbers for
// good, since background refreshes wait for the request in flight.
const requestTimeoutMs = 15000;

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

  #connected = false;
  #timer = null;
  #inflight = null;
  #onHashChange = () => { if (!this.hasAttribute("token")) this.load(); };

  constructor() {
    super();
    this.attachShadow({ mode: "open" }).appendChild(template.content.cloneNode(true));
    this.#part("[data-action=retry]").addEventListener("click", () => this.load());
  }

  connectedCallback() {
    this.#connected = true;
    // A fixed #token=… in the address bar takes effect without a reload.
    window.addEventListener("hashchange", this.#onHashChange);
    this.load();
    this.#schedule();
  }

  disconnectedCallback() {
    this.#connected = false;
    window.removeEventListener("hashchange", this.#onHashChange);
    clearInterval(this.#timer);
    this.#inflight?.abort();
  }

  attributeChangedCallback(name, oldValue, newValue) {
    // An element upgraded in the document reports its initial attributes
    // before connectedCallback; that first load covers them.
    if (!this.#connected || oldValue === newValue) return;
    if (name === "refresh") this.#schedule(); else this.load();
  }

  // Setters reflect to attributes. Frameworks that assign properties (React
  // 19 does, once the element is defined) would throw on a getter alone.
  get endpoint() { return this.getAttribute("endpoint") || new URL("queue", scriptURL).href; }
  set endpoint(v) { this.setAttribute("endpoint", v); }
  get token() {
    const attr = this.getAttribute("token");
    if (attr) return attr;
    // The fragment never reaches a server, so the token stays in the browser.
    return new URLSearchParams(location.hash.slice(1)).get("token") || "";
  }
  set token(v) { this.setAttribute("token", v); }
  get refresh() {
    const secs = Number(this.getAttribute("refresh") ?? 30);
    if (!Number.isFinite(secs)) return 30;
    // At least a second apart, so a typo cannot hammer the API.
    return secs > 0 ? Math.max(secs, 1) : 0;
  }
  set refresh(v) { this.setAttribute("refresh", v); }

  #part(selector) { return this.shadowRoot.querySelector(selector); }

  #schedule() {
    clearInterval(this.#timer);
    if (this.refresh > 0) this.#timer = setInterval(() => this.load(true), this.refresh * 1000);
  }

  #show(state, message = "") {
    const card = this.#part("section");
    const focused = this.shadowRoot.activeElement;
    for (const el of this.shadowRoot.querySelectorAll("[data-state]")) el.hidden = el.dataset.state !== state;
    // The live regions stay in the tree and only their text changes: screen
    // readers announce changed text reliably, newly shown regions not always.
    setText(this.#part("[data-field=status]"), state === "loading" ? "Loading the support queue…" : "");
    setText(this.#part("[data-field=error-message]"), state === "error" ? message : "");
    card.setAttribute("aria-busy", String(state === "loading"));
    this.setAttribute("state", state);
    // Keep keyboard focus inside the tile when Retry hides itself, and hand
    // it back to Retry when the error returns.
    const retry = this.#part("[data-action=retry]");
    if (focused === retry && retry.hidden) card.focus();
    else if (focused === card && !retry.hidden) retry.focus();
  }

  // load fetches the queue. A background load (the refresh timer) leaves a
  // request in flight alone and keeps the current view until it has an
  // answer; any other load replaces the request in flight and shows loading.
  async load(background = false) {
    if (background && this.#inflight) return;
    this.#inflight?.abort();
    const ctrl = new AbortController();
    this.#inflight = ctrl;
    const timeout = setTimeout(() => ctrl.abort(new DOMException("timed out", "TimeoutError")), requestTimeoutMs);
    if (!background) this.#show("loading");
    try {
      const headers = { Accept: "application/json" };
      const token = this.token;
      if (token) headers.Authorization = `Bearer ${token}`;
      // credentials "omit": the bearer token is the only credential, so a
      // cross-origin API needs no Access-Control-Allow-Credentials.
      const res = await fetch(this.endpoint, { headers, signal: ctrl.signal, cache: "no-store", credentials: "omit" });
      if (!res.ok) {
        throw new Error(res.status === 401 || res.status === 403
          ? "Not authorised: check the tile's token."
          : `The server answered ${res.status}.`);
      }
      const q = await res.json();
      if (typeof q?.pending !== "number") throw new Error("The answer is not queue data.");
      this.#render(q);
      this.#show("data");
    } catch (err) {
      if (ctrl.signal.aborted && err.name === "AbortError") return; // superseded or disconnected
      let detail = err.message;
      if (err.name === "TimeoutError") detail = "The server did not answer in time.";
      // fetch rejects with a TypeError for network and CORS failures alike;
      // the browser keeps the difference to itself.
      else if (err.name === "TypeError") detail = "The server could not be reached.";
      else if (err.name === "SyntaxError") detail = "The answer is not JSON.";
      this.#show("error", `The support queue could not be loaded. ${detail}`);
    } finally {
      clearTimeout(timeout);
      if (this.#inflight === ctrl) this.#inflight = null;
    }
  }

  #render(q) {
    const sla = q.sla || {};
    const set = (field, value, text, cls = "") => {
      const el = this.#part(`[data-field=${field}]`);
      el.dataset.value = value ?? "";
      el.textContent = text;
      el.className = cls;
    };
    set("pending", q.pending, String(q.pending), q.pending > 0 ? "warn" : "good");
    set("avg_wait_seconds", q.avg_wait_seconds, formatDuration(q.avg_wait_seconds));
    set("oldest_wait_seconds", q.oldest_wait_seconds, formatDuration(q.oldest_wait_seconds));
    const pct = sla.compliance_pct;
    if (pct === null || pct === undefined) set("compliance_pct", null, "no data yet");
    else set("compliance_pct", pct, `${pct.toFixed(1)}%`, pct >= 95 ? "good" : pct >= 80 ? "warn" : "bad");
    set("breached", sla.breached, String(sla.breached), sla.breached > 0 ? "bad" : "good");
    set("at_risk", sla.at_risk, String(sla.at_risk), sla.at_risk > 0 ? "warn" : "good");
    set("target_seconds", sla.target_seconds, formatDuration(sla.target_seconds));
    set("generated_at", q.generated_at, new Date(q.generated_at).toLocaleTimeString());
    this.#part("[data-field=generated_at]").dateTime = q.generated_at;
  }
}

// setText writes only a change, so a live region does not repeat itself
// when a refresh fails the same way again.
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

if (!customElements.get("support-queue-tile")) customElements.define("support-queue-tile", SupportQueueTile);
