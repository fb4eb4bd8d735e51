// The supervisor panel: each routing group's queue and agents at a glance (GET /api/supervisor/stats, docs/api.md).
// It is polled every 5 seconds, only while the panel is open and the desk's tab is visible, and soon after the desk
// hears of a change the figures count (a conversation's routing state, an agent's presence).

import { h } from '/static/shared/dom.js';
import { get } from '/static/shared/api.js';
import { storage } from '/static/shared/storage.js';

const POLL_MS = 5000;
const SOON_MS = 300; // after a change: long enough to take a burst of changes in one request
const OPEN_KEY = 'parley.desk.supervisor.open';
const AGENT_STATUSES = [['available', 'available'], ['away', 'away'], ['offline', 'offline'], ['not_responding', 'not responding']];

export class SupervisorPanel {
  #body;
  #timer = null;
  #dueAt = 0;
  #polling = false;
  #changedWhilePolling = false;
  #stopped = false;

  constructor() {
    this.#body = h('div', { class: 'supervisor__body' }, h('p', { class: 'supervisor__message', text: 'Loading…' }));
    this.element = h('details', { class: 'supervisor', testid: 'supervisor-panel', open: storage.get(OPEN_KEY) !== false },
      h('summary', { class: 'supervisor__title' }, 'Supervision'),
      this.#body);
    this.element.addEventListener('toggle', () => {
      storage.set(OPEN_KEY, this.element.open);
      this.#schedule(0);
    });
    document.addEventListener('visibilitychange', this.#onVisibility);
  }

  start() {
    this.#schedule(0);
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    document.removeEventListener('visibilitychange', this.#onVisibility);
  }

  // changed brings the next poll forward: something the figures count has just changed.
  changed() {
    if (this.#polling) this.#changedWhilePolling = true;
    else if (this.#timer !== null && this.#dueAt - Date.now() > SOON_MS) this.#schedule(SOON_MS);
  }

  #onVisibility = () => this.#schedule(0);

  #visible() {
    return this.element.open && document.visibilityState === 'visible' && !this.#stopped;
  }

  #schedule(delay) {
    clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#visible()) return;
    this.#dueAt = Date.now() + delay;
    this.#timer = setTimeout(() => this.#poll(), delay);
  }

  async #poll() {
    this.#timer = null;
    this.#polling = true;
    this.#changedWhilePolling = false;
    try {
      const { groups } = await get('/api/supervisor/stats');
      this.#render(groups || []);
    } catch (err) {
      if (err.status === 401) return;
      if (err.status === 403 || err.status === 404) {
        this.element.hidden = true; // not a supervisor after all, or a server without the stats
        this.stop();
        return;
      }
      this.#body.replaceChildren(h('p', { class: 'supervisor__message', text: `The figures could not be loaded: ${err.message}` }));
    } finally {
      this.#polling = false;
    }
    this.#schedule(this.#changedWhilePolling ? SOON_MS : POLL_MS);
  }

  #render(groups) {
    if (!groups.length) {
      this.#body.replaceChildren(h('p', { class: 'supervisor__message', text: 'You supervise no group yet.' }));
      return;
    }
    this.#body.replaceChildren(...groups.map((g) => {
      const channels = g.channels || [];
      return h('section', { class: 'sup-group', dataset: { groupId: g.group_id } },
        h('h3', { class: 'sup-group__name', text: g.name }),
        h('table', { class: 'sup-table' },
          h('thead', null, h('tr', null,
            h('td', null),
            channels.map((c) => h('th', { scope: 'col', text: CHANNEL_NAMES[c.channel] || c.channel })))),
          h('tbody', null, ROWS.map(([key, label, value]) => h('tr', { class: 'sup-stat', dataset: { stat: key } },
            h('th', { scope: 'row', text: label }),
            channels.map((c) => h('td', { dataset: { channel: c.channel }, text: value(c) })))))),
        h('p', { class: 'sup-rating', dataset: { stat: 'rating' }, text: `Visitors' rating (24 h): ${ratingText(g.ratings)}` }));
    }));
  }
}

/** "4.5 / 5 from 12 ratings", or "none yet". */
function ratingText(r) {
  if (!r || !r.count || r.average === null || r.average === undefined) return 'none yet';
  return `${Number(r.average).toFixed(1)} / 5 from ${r.count} ${r.count === 1 ? 'rating' : 'ratings'}`;
}

const CHANNEL_NAMES = { chat: 'Chat', video: 'Video' };

// The figures of each channel, a row each: [data-stat key, label, the text from a CHANNEL_STATS (docs/api.md)].
const ROWS = [
  ['waiting', 'Waiting now', (c) => String(c.waiting ?? 0)],
  ['longest_wait', 'Longest wait', (c) => duration(c.longest_wait_seconds)],
  ...AGENT_STATUSES.map(([key, label]) => [`agents_${key}`, `Agents ${label}`, (c) => String((c.agents || {})[key] ?? 0)]),
  ['avg_accept', 'Avg time to accept', (c) => duration(c.avg_accept_seconds)],
  ['avg_handling', 'Avg handling time', (c) => duration(c.avg_handling_seconds)],
  ['p90_wait', 'p90 wait (15 min)', (c) => duration(c.p90_wait_seconds)],
];

/** "—" for null (nothing measured yet), else "< 1 s", "45 s", "2 min 5 s", "1 h 20 min". */
function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return '—';
  if (seconds > 0 && seconds < 0.5) return '< 1 s';
  const s = Math.round(Number(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const m = Math.round(s / 60);
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`;
}
