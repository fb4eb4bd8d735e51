// ConversationList: the desk's left column. It starts from GET /api/desk/conversations and stays live from the
// socket's `conversation` and `event` frames. It has three sections, each with the newest activity first: waiting
// conversations (open, no agent yet, with their routing state), the agent's open ones, and closed ones.
//
// "Unread" means: open, and changed since the agent last looked at it. The last seq the agent has seen of each
// conversation is kept in localStorage (parley.desk.read.ACCOUNT_ID).

import { h, formatTime } from '/static/shared/dom.js';
import { get } from '/static/shared/api.js';
import { storage } from '/static/shared/storage.js';
import { ConversationSearch } from './conversation_search.js';

const RELOAD_DELAY_MS = 300;

// What a waiting conversation's routing state (docs/protocol.md, QUEUE states) means to an agent.
const ROUTING_TEXT = {
  queued: 'In queue',
  offered: 'Ringing',
  refused: 'Turned away',
  expired: 'Waited too long',
  abandoned: 'Left the queue',
  bot: 'With the bot',
};

const SECTIONS = [['waiting', 'Waiting'], ['open', 'My conversations'], ['closed', 'Closed']];

/** Open and with no agent: any agent of the group may take it. */
export function isWaiting(s) {
  return s.status !== 'closed' && !s.agent_id && !s.agent_name;
}

// Why a conversation was turned away (docs/protocol.md, QUEUE reasons).
const REFUSED_TEXT = {
  queue_full: 'Turned away: queue full',
  no_agent: 'Turned away: nobody online',
  closed: 'Turned away: closed',
  channel_closed: 'Turned away: no chat',
};

/** The routing state of a waiting conversation, in words. */
export function routingText(s) {
  if (s.routing === 'refused' && REFUSED_TEXT[s.routing_reason]) return REFUSED_TEXT[s.routing_reason];
  return ROUTING_TEXT[s.routing] || 'Waiting';
}

/** "Left a message": the visitor gave an e-mail address to be answered later. */
export function leftMessageBadge(s) {
  return s.contact_email ? h('span', { class: 'tag tag--message', testid: 'left-message-badge', text: 'Left a message' }) : null;
}

export class ConversationList {
  #items = new Map(); // id → {summary, li, button}
  #selected = null;
  #accountId;
  #readKey;
  #read;
  #onSelect;
  #onChange;
  #sections = new Map(); // 'waiting' | 'open' | 'closed' → {section, heading, list}
  #message;
  #reloadTimer = null;

  /** onSelect(id) when the agent picks a conversation; onChange() after every change (for the unread count). */
  constructor({ accountId, onSelect, onChange = () => {} }) {
    this.#accountId = accountId;
    this.#readKey = `parley.desk.read.${accountId}`;
    this.#read = storage.get(this.#readKey) || {};
    this.#onSelect = onSelect;
    this.#onChange = onChange;
    for (const [key, title] of SECTIONS) {
      const heading = h('h3', { class: 'conversations__section-title', id: `conversations-${key}`, text: title });
      const list = h('ul', { class: 'conversations__list' });
      const section = h('section', { class: `conversations__section conversations__section--${key}`, testid: `${key}-conversations`,
        'aria-labelledby': `conversations-${key}`, hidden: true }, heading, list);
      this.#sections.set(key, { section, heading, title, list });
    }
    this.#message = h('p', { class: 'conversations__message', text: 'Loading…' });
    const sections = h('div', { class: 'conversations__sections' }, this.#message, [...this.#sections.values()].map((x) => x.section));
    const search = new ConversationSearch({ hide: sections, onSelect: (id) => this.#onSelect(id) });
    this.element = h('aside', { class: 'conversations', 'aria-labelledby': 'conversations-title' },
      h('h2', { class: 'conversations__title', id: 'conversations-title', text: 'Conversations' }),
      search.element,
      search.results,
      sections);
  }

  async load() {
    try {
      const { conversations } = await get('/api/desk/conversations');
      const ids = new Set(conversations.map((s) => s.id));
      for (const id of [...this.#items.keys()]) {
        if (!ids.has(id) && id !== this.#selected) this.#remove(id);
      }
      for (const summary of conversations) this.#merge(summary);
      this.#render();
      this.#trimRead(ids);
    } catch (err) {
      if (err.status !== 401) this.#setMessage(`The conversations could not be loaded: ${err.message}`);
    }
  }

  get(id) {
    const item = this.#items.get(id);
    return item ? item.summary : null;
  }

  /** A summary from a `conversation` frame or from the events API. */
  upsert(summary) {
    // Taken by another agent: no longer this agent's business (unless it is on screen).
    if (summary.agent_id && summary.agent_id !== this.#accountId && summary.id !== this.#selected) this.#remove(summary.id);
    else this.#merge(summary);
    this.#render();
  }

  /** A live conversation event: updates the preview, the time, the status and the unread dot. */
  applyEvent(ev) {
    const item = this.#items.get(ev.conversation_id);
    if (!item) {
      this.#scheduleReload(); // a conversation the list doesn't know yet
      return;
    }
    const s = item.summary;
    if (ev.seq <= (s.last_seq || 0)) return;
    const wasRead = this.#readSeq(s.id) >= (s.last_seq || 0);
    s.last_seq = ev.seq;
    s.updated_at = ev.created_at || Date.now();
    if (ev.type === 'message') s.last_body = ev.body;
    if (ev.type === 'assigned') Object.assign(s, { agent_name: ev.author_name, routing: 'assigned' });
    if (ev.type === 'transferred') Object.assign(s, { agent_id: null, agent_name: '', routing: 'queued' });
    if (ev.type === 'ended') s.status = 'closed';
    // Only the visitor's words make a conversation unread: replies and notices don't.
    if (s.id === this.#selected || (ev.author !== 'visitor' && wasRead)) this.markRead(s.id, ev.seq, false);
    this.#render();
  }

  select(id) {
    this.#selected = id;
    const s = this.get(id);
    if (s) this.markRead(id, s.last_seq || 0, false);
    this.#render();
  }

  markRead(id, seq, render = true) {
    if (seq <= this.#readSeq(id)) return;
    this.#read[id] = seq;
    storage.set(this.#readKey, this.#read);
    if (render) this.#render();
  }

  /** How many open conversations are unread. */
  unreadCount() {
    let n = 0;
    for (const { summary } of this.#items.values()) if (this.#isUnread(summary)) n++;
    return n;
  }

  #readSeq(id) {
    return this.#read[id] || 0;
  }

  #isUnread(s) {
    return s.status !== 'closed' && s.id !== this.#selected && (s.last_seq || 0) > this.#readSeq(s.id);
  }

  #merge(summary) {
    const item = this.#items.get(summary.id);
    if (!item) {
      const button = h('button', { type: 'button', class: 'conv', testid: 'conversation-item', dataset: { conversationId: summary.id } });
      button.addEventListener('click', () => this.#onSelect(summary.id));
      this.#items.set(summary.id, { summary: { ...summary }, li: h('li', null, button), button });
      return;
    }
    const known = item.summary;
    const next = { ...known, ...summary };
    // A summary may be older than what the list already knows (the list's HTTP answer, read before a conversation
    // was assigned, arriving after the assignment's frame): what events change stays as known, so that a
    // conversation just assigned to this agent doesn't look waiting again.
    if ((known.last_seq || 0) > (summary.last_seq || 0)) {
      for (const key of ['last_seq', 'last_body', 'updated_at', 'status', 'agent_id', 'agent_name', 'routing']) next[key] = known[key];
    }
    item.summary = next;
  }

  #remove(id) {
    this.#items.get(id)?.li.remove();
    this.#items.delete(id);
  }

  #render() {
    const items = [...this.#items.values()].sort(byActivity);
    const bySection = new Map(SECTIONS.map(([key]) => [key, []]));
    for (const item of items) {
      this.#renderItem(item);
      bySection.get(sectionOf(item.summary)).push(item.li);
    }
    for (const [key, order] of bySection) {
      const { section, heading, title, list } = this.#sections.get(key);
      section.hidden = order.length === 0;
      heading.textContent = key === 'closed' ? title : `${title} (${order.length})`;
      const current = [...list.children];
      // Only move nodes when the order changed, so that keyboard focus stays put.
      if (order.length !== current.length || order.some((li, i) => li !== current[i])) list.replaceChildren(...order);
    }
    this.#setMessage(items.length ? '' : 'No conversations yet. New ones show up here as soon as a visitor writes.');
    this.#onChange();
  }

  #renderItem({ summary: s, button }) {
    const section = sectionOf(s);
    const unread = this.#isUnread(s);
    const tag = {
      closed: ['closed', 'Closed'],
      waiting: ['waiting', routingText(s)],
      open: ['open', s.agent_id === this.#accountId || !s.agent_name ? 'Open' : `Open · ${s.agent_name}`],
    }[section];
    button.dataset.status = section === 'closed' ? 'closed' : 'open';
    button.dataset.section = section;
    if (s.routing) button.dataset.routing = s.routing;
    else delete button.dataset.routing;
    button.dataset.unread = String(unread);
    if (s.id === this.#selected) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
    button.replaceChildren(
      h('span', { class: 'conv__row' },
        h('span', { class: 'conv__visitor', text: s.visitor_label || 'Visitor' }),
        h('time', { class: 'conv__time', text: formatTime(s.updated_at) })),
      h('span', { class: 'conv__row' },
        h('span', { class: 'conv__site', text: s.site_name || '' }),
        h('span', { class: 'conv__tags' }, leftMessageBadge(s), h('span', { class: `tag tag--${tag[0]}`, text: tag[1] }))),
      h('span', { class: 'conv__row' },
        h('span', { class: 'conv__preview', text: s.last_body || 'No message yet' }),
        unread ? h('span', { class: 'conv__unread', title: 'Unread', 'aria-label': 'Unread' }) : null),
      tagLabels(s),
    );
  }

  #setMessage(text) {
    this.#message.textContent = text;
    this.#message.hidden = !text;
  }

  #scheduleReload() {
    clearTimeout(this.#reloadTimer);
    this.#reloadTimer = setTimeout(() => this.load(), RELOAD_DELAY_MS);
  }

  // Forget read marks of conversations that left the list, so the map doesn't grow forever.
  #trimRead(ids) {
    const kept = Object.fromEntries(Object.entries(this.#read).filter(([id]) => ids.has(id)));
    if (Object.keys(kept).length === Object.keys(this.#read).length) return;
    this.#read = kept;
    storage.set(this.#readKey, kept);
  }
}

function sectionOf(s) {
  if (s.status === 'closed') return 'closed';
  return isWaiting(s) ? 'waiting' : 'open';
}

function byActivity(a, b) {
  return (b.summary.updated_at || 0) - (a.summary.updated_at || 0);
}

/** The agents' tags of summary s, as a line of small labels (null when it has none). */
export function tagLabels(s) {
  if (!Array.isArray(s.tags) || !s.tags.length) return null;
  return h('span', { class: 'conv__labels' }, s.tags.map((t) => h('span', { class: 'conv__label', testid: 'conversation-item-tag', text: t })));
}
