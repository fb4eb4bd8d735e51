// The visitor's session: a signed token from POST /api/widget/session, kept in localStorage per site so that the
// visitor stays the same person across pages and visits (docs/api.md, "Widget").

import { storage } from '/static/shared/storage.js';

const RENEW_MARGIN_MS = 60000;

export class VisitorSession {
  #site;
  #key;
  #record; // {token, visitor_id, expires_at (ms)}
  #inflight = null;

  constructor(site) {
    this.#site = site;
    this.#key = `parley.visitor.${site}`;
    this.#record = storage.get(this.#key);
  }

  get visitorId() {
    return this.#record ? this.#record.visitor_id : null;
  }

  /** A token good for at least another minute, asking the server for one when needed. */
  async ensure() {
    const rec = this.#record;
    if (rec && rec.token && !(rec.expires_at && rec.expires_at - Date.now() < RENEW_MARGIN_MS)) return rec;
    return this.refresh();
  }

  /**
   * Renews the token (a valid one keeps the same visitor). A token the server refuses (401 token_invalid,
   * token_expired) is dropped and a new visitor starts; drop: true starts a new visitor at once.
   */
  refresh({ drop = false } = {}) {
    if (drop) this.#forget();
    if (!this.#inflight) this.#inflight = this.#fetch().finally(() => (this.#inflight = null));
    return this.#inflight;
  }

  async #fetch() {
    for (;;) {
      const token = (this.#record && this.#record.token) || '';
      const res = await fetch('/api/widget/session', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify({ site: this.#site, token }),
      });
      if (res.status === 401 && token) {
        this.#forget();
        continue;
      }
      if (!res.ok) throw new Error(`parley: visitor session refused (HTTP ${res.status})`);
      const body = await res.json();
      this.#record = { token: body.token, visitor_id: body.visitor_id, expires_at: toMillis(body.expires_at) };
      storage.set(this.#key, this.#record);
      return this.#record;
    }
  }

  #forget() {
    this.#record = null;
    storage.remove(this.#key);
  }
}

// expires_at as epoch milliseconds, whether the server sends milliseconds, seconds or an RFC 3339 string.
function toMillis(value) {
  if (typeof value === 'string') return Date.parse(value) || 0;
  if (typeof value !== 'number') return 0;
  return value < 1e12 ? value * 1000 : value;
}
