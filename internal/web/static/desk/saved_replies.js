// SavedReplies: the picker of the admin's saved replies (GET /api/desk/saved-replies) in the desk's reply box. Typing
// "/" at the start of the box opens it, and what follows filters it by shortcut or text; the "Saved replies" button
// opens it too. Up and down choose, Enter or Tab inserts, Escape closes. The text replaces the "/…" typed (or goes
// in at the cursor) and the agent can change it before sending: nothing is sent by choosing.

import { h } from '/static/shared/dom.js';
import { get } from '/static/shared/api.js';

const TRIGGER = /^\/([^\s/]*)$/; // the whole box is "/" and a word being typed

export class SavedReplies {
  #input;
  #replies = null; // the list, once loaded
  #loading = null;
  #shown = []; // the replies in the picker now
  #active = 0;
  #open = false;
  #typed = false; // opened by typing "/" (not by the button): it closes when the "/…" goes
  #list;
  #message;

  /** input: the reply box (a textarea). */
  constructor({ input }) {
    this.#input = input;
    this.#list = h('ul', { class: 'saved-replies__list', role: 'listbox', 'aria-label': 'Saved replies' });
    this.#message = h('p', { class: 'saved-replies__message', hidden: true });
    this.element = h('div', { class: 'saved-replies', testid: 'saved-replies', hidden: true }, this.#list, this.#message);
    this.button = h('button', { type: 'button', class: 'composer__mode', testid: 'saved-replies-open', title: 'Insert a saved reply (or type "/" in the box)',
      onpointerdown: (e) => e.preventDefault(), // keeps the focus (and the cursor) in the box
      onclick: () => {
        this.#input.focus();
        if (this.#open) this.close();
        else this.#show('', false);
      } }, 'Saved replies');
    input.addEventListener('input', () => this.#follow());
    input.addEventListener('blur', () => setTimeout(() => {
      if (document.activeElement !== this.#input) this.close();
    }, 150));
  }

  /** Handles a key in the reply box while the picker is open; true when it took the key (the box must not send). */
  handleKey(e) {
    if (!this.#open) return false;
    switch (e.key) {
      case 'ArrowDown':
      case 'ArrowUp':
        if (!this.#shown.length) return false;
        this.#active = (this.#active + (e.key === 'ArrowDown' ? 1 : this.#shown.length - 1)) % this.#shown.length;
        this.#render();
        break;
      case 'Enter':
      case 'Tab':
        if (!this.#shown.length || e.shiftKey) return false;
        this.#insert(this.#shown[this.#active]);
        break;
      case 'Escape':
        this.close();
        break;
      default:
        return false;
    }
    e.preventDefault();
    return true;
  }

  close() {
    this.#open = false;
    this.element.hidden = true;
    this.#input.removeAttribute('aria-activedescendant');
  }

  // The box changed: open, filter or close the picker as "/…" is typed.
  #follow() {
    const m = TRIGGER.exec(this.#input.value);
    if (m) this.#show(m[1], true);
    else if (this.#open && this.#typed) this.close();
  }

  async #show(query, typed) {
    this.#open = true;
    this.#typed = typed;
    this.element.hidden = false;
    if (!this.#replies) {
      this.#say('Loading saved replies…');
      try {
        this.#loading ||= get('/api/desk/saved-replies');
        this.#replies = (await this.#loading).saved_replies || [];
      } catch (err) {
        this.#loading = null;
        this.#say(`The saved replies could not be loaded: ${err.message}`);
        return;
      } finally {
        this.#loading = null;
      }
      if (!this.#open) return;
    }
    const q = query.toLowerCase();
    const starts = this.#replies.filter((r) => r.shortcut.startsWith(q));
    const rest = q ? this.#replies.filter((r) => !r.shortcut.startsWith(q) && (r.shortcut.includes(q) || r.body.toLowerCase().includes(q))) : [];
    this.#shown = [...starts, ...rest];
    this.#active = 0;
    if (!this.#replies.length) this.#say('No saved reply yet. An admin writes them in the admin app.');
    else if (!this.#shown.length) this.#say(`No saved reply matches “${query}”.`);
    else this.#say('');
    this.#render();
  }

  /** Reloads the list the next time the picker opens (the admin may have changed it). */
  refresh() {
    this.#replies = null;
  }

  #render() {
    this.#list.replaceChildren(...this.#shown.map((r, i) => h('li', {
      id: `saved-reply-${i}`, class: 'saved-replies__item', role: 'option', testid: 'saved-reply', dataset: { shortcut: r.shortcut },
      'aria-selected': String(i === this.#active),
      onpointerdown: (e) => e.preventDefault(), // keeps the focus in the box
      onclick: () => this.#insert(r),
    }, h('span', { class: 'saved-replies__shortcut', text: `/${r.shortcut}` }), h('span', { class: 'saved-replies__body', text: r.body }))));
    if (this.#shown.length) this.#input.setAttribute('aria-activedescendant', `saved-reply-${this.#active}`);
    this.#list.children[this.#active]?.scrollIntoView({ block: 'nearest' });
  }

  #insert(reply) {
    const box = this.#input;
    if (TRIGGER.test(box.value)) {
      box.value = reply.body;
    } else {
      const start = box.selectionStart ?? box.value.length;
      const end = box.selectionEnd ?? start;
      box.value = box.value.slice(0, start) + reply.body + box.value.slice(end);
    }
    this.close();
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    box.dispatchEvent(new Event('input', { bubbles: true })); // drafts and the typing indicator follow
  }

  #say(text) {
    this.#message.textContent = text;
    this.#message.hidden = !text;
  }
}
