// VisitorHistory: under the conversation's title, the visitor's earlier conversations on the same site
// (GET /api/desk/conversations/{id}/history): "2 earlier conversations", a list of them (when, with whom, the last
// message, the visitor's rating) and, on a click, the transcript, read-only.

import { h } from '/static/shared/dom.js';
import { get } from '/static/shared/api.js';

export class VisitorHistory {
  #onOpen;
  #conversation = null;
  #button;
  #list;
  #open = false;
  #outside = (e) => {
    if (!this.element.contains(e.target)) this.#setOpen(false);
  };

  /** onOpen(id): shows one of the earlier conversations. */
  constructor({ onOpen }) {
    this.#onOpen = onOpen;
    this.#button = h('button', { type: 'button', class: 'view__history-button', testid: 'visitor-history', 'aria-expanded': 'false',
      onclick: () => this.#setOpen(!this.#open) });
    this.#list = h('ul', { class: 'history-list', testid: 'history-list', hidden: true });
    this.element = h('div', { class: 'view__history', hidden: true }, this.#button, this.#list);
  }

  /** The conversation on screen: its visitor's history is read again. */
  async setConversation(id) {
    this.#setOpen(false);
    if (id !== this.#conversation) this.element.hidden = true;
    this.#conversation = id;
    if (!id) return;
    let conversations;
    try {
      ({ conversations } = await get(`/api/desk/conversations/${encodeURIComponent(id)}/history`));
    } catch {
      return; // the history is a help, not the conversation: without it the desk works as before
    }
    if (this.#conversation !== id) return;
    this.element.hidden = !conversations.length;
    this.#button.textContent = conversations.length === 1 ? '1 earlier conversation' : `${conversations.length} earlier conversations`;
    this.#list.replaceChildren(...conversations.map((c) => h('li', null,
      h('button', { type: 'button', class: 'history-list__item', testid: 'history-item', dataset: { conversationId: c.id },
        onclick: () => {
          this.#setOpen(false);
          this.#onOpen(c.id);
        } },
      h('span', { class: 'history-list__when', text: `${when(c.updated_at)}${c.agent_name ? ` · ${c.agent_name}` : ''}` }),
      c.rating ? h('span', { class: 'history-list__rating', 'aria-label': `rated ${c.rating.score} out of 5`, text: '★'.repeat(c.rating.score) }) : null,
      h('span', { class: 'history-list__body', text: c.last_body || '' })))));
  }

  #setOpen(open) {
    this.#open = open;
    this.#list.hidden = !open;
    this.#button.setAttribute('aria-expanded', String(open));
    if (open) document.addEventListener('pointerdown', this.#outside, true);
    else document.removeEventListener('pointerdown', this.#outside, true);
  }
}

function when(ms) {
  if (!Number.isFinite(ms)) return '';
  return new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}
