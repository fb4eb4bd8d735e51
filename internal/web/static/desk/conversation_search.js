// ConversationSearch: the search box above the desk's conversation list (GET /api/desk/search). From two characters
// typed, the list gives way to the conversations the agent may read whose messages, notes or left e-mail address
// contain them, newest first; emptying the box (or Escape) brings the list back.

import { h, formatTime } from '/static/shared/dom.js';
import { get } from '/static/shared/api.js';
import { tagLabels } from './conversations.js';

const DELAY_MS = 250;

export class ConversationSearch {
  #input;
  #results;
  #list;
  #message;
  #hide;
  #onSelect;
  #timer = null;
  #asked = ''; // the last search sent

  /** hide: the element the results take the place of (the list's sections). onSelect(id) opens a conversation. */
  constructor({ hide, onSelect }) {
    this.#hide = hide;
    this.#onSelect = onSelect;
    this.#input = h('input', { type: 'search', class: 'conversations__search-input', testid: 'conversation-search',
      placeholder: 'Search messages, notes, e-mail…', 'aria-label': 'Search the conversations',
      oninput: () => this.#schedule(),
      onkeydown: (e) => {
        if (e.key === 'Escape') {
          this.#input.value = '';
          this.#schedule();
        }
      } });
    this.#message = h('p', { class: 'conversations__message', hidden: true });
    this.#list = h('ul', { class: 'conversations__list' });
    this.#results = h('div', { class: 'conversations__sections', testid: 'search-results', hidden: true },
      h('section', { class: 'conversations__section', 'aria-label': 'Search results' }, this.#message, this.#list));
    this.element = h('div', { class: 'conversations__search', role: 'search' }, this.#input);
  }

  /** The results' panel, for the list to place where its sections are. */
  get results() {
    return this.#results;
  }

  #schedule() {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#search(), DELAY_MS);
  }

  async #search() {
    const q = this.#input.value.trim();
    const searching = [...q].length >= 2;
    this.#results.hidden = !searching;
    this.#hide.hidden = searching;
    if (!searching) {
      this.#asked = '';
      return;
    }
    if (q === this.#asked) return;
    this.#asked = q;
    this.#say('Searching…');
    let conversations;
    try {
      ({ conversations } = await get(`/api/desk/search?q=${encodeURIComponent(q.slice(0, 100))}`));
    } catch (err) {
      if (this.#asked === q) this.#say(err.status === 401 ? '' : `The search failed: ${err.message}`);
      return;
    }
    if (this.#asked !== q) return; // a newer search is on its way
    this.#say(conversations.length ? '' : `No conversation mentions “${q}”.`);
    this.#list.replaceChildren(...conversations.map((s) => h('li', null,
      h('button', { type: 'button', class: 'conv', testid: 'search-result', dataset: { conversationId: s.id },
        onclick: () => this.#onSelect(s.id) },
      h('span', { class: 'conv__row' },
        h('span', { class: 'conv__visitor', text: s.visitor_label || 'Visitor' }),
        h('time', { class: 'conv__time', text: formatTime(s.updated_at) })),
      h('span', { class: 'conv__row' },
        h('span', { class: 'conv__site', text: s.site_name || '' }),
        h('span', { class: 'conv__tags' }, h('span', { class: `tag tag--${s.status === 'closed' ? 'closed' : 'open'}`,
          text: s.status === 'closed' ? `Closed${s.agent_name ? ` · ${s.agent_name}` : ''}` : 'Open' }))),
      h('span', { class: 'conv__row' }, h('span', { class: 'conv__preview', text: s.last_body || '' })),
      tagLabels(s)))));
  }

  #say(text) {
    this.#message.textContent = text;
    this.#message.hidden = !text;
  }
}
