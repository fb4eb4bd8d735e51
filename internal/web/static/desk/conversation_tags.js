// ConversationTags: the tags of the conversation on screen, in its header (docs/api.md, "Desk": PUT and DELETE
// /api/desk/conversations/{id}/tags/{tag}). Any agent who may read a conversation tags it, closed ones too; the box
// suggests the tags used lately (GET /api/desk/tags). Every desk sees the change through the conversation's summary.

import { h } from '/static/shared/dom.js';
import { get, request } from '/static/shared/api.js';

// The API's rule (internal/server/tags.go): letters and digits, then also spaces, "-" and "_"; 1 to 32 characters.
const TAG = /^[\p{L}\p{N}][\p{L}\p{N} _-]{0,31}$/u;

export class ConversationTags {
  #chips;
  #input;
  #suggestions;
  #id = null;
  #onChange;
  #onError;

  /** onChange(id, tags) when the server took a change; onError(text) when it refused one. */
  constructor({ onChange, onError }) {
    this.#onChange = onChange;
    this.#onError = onError;
    this.#chips = h('ul', { class: 'view__tag-list', 'aria-label': 'Tags' });
    this.#suggestions = h('datalist', { id: 'tag-suggestions' });
    this.#input = h('input', { type: 'text', class: 'view__tag-input', testid: 'add-tag', list: 'tag-suggestions', maxlength: '32',
      placeholder: '+ Tag', 'aria-label': 'Add a tag to this conversation', autocomplete: 'off' });
    const form = h('form', { class: 'view__tag-form', onsubmit: (e) => {
      e.preventDefault();
      this.#add(this.#input.value);
    } }, this.#input, this.#suggestions);
    this.element = h('div', { class: 'view__tags', testid: 'conversation-tags' }, this.#chips, form);
    this.#suggest();
  }

  /** Shows the tags of summary s (the conversation on screen). */
  setConversation(s) {
    if (s.id !== this.#id) this.#input.value = '';
    this.#id = s.id;
    const tags = Array.isArray(s.tags) ? s.tags : [];
    this.#chips.replaceChildren(...tags.map((tag) => h('li', { class: 'view__tag', testid: 'conversation-tag', dataset: { tag } },
      h('span', { text: tag }),
      h('button', { type: 'button', class: 'view__tag-remove', testid: 'remove-tag', 'aria-label': `Remove the tag ${tag}`,
        title: `Remove the tag ${tag}`, onclick: () => this.#change('DELETE', tag) }, '×'))));
  }

  async #add(raw) {
    const tag = raw.trim().toLowerCase().replace(/\s+/g, ' ');
    if (!tag) return;
    if (!TAG.test(tag)) {
      this.#onError('A tag has 1 to 32 letters, digits, spaces, "-" or "_", and starts with a letter or a digit.');
      return;
    }
    if (await this.#change('PUT', tag)) {
      this.#input.value = '';
      this.#suggest();
    }
  }

  async #change(method, tag) {
    const id = this.#id;
    if (!id) return false;
    try {
      const { tags } = await request(method, `/api/desk/conversations/${encodeURIComponent(id)}/tags/${encodeURIComponent(tag)}`);
      this.#onChange(id, tags || []);
      return true;
    } catch (err) {
      this.#onError(err.code === 'too_many_tags' ? 'A conversation has at most 10 tags.' : `The tag could not be changed: ${err.message}`);
      return false;
    }
  }

  async #suggest() {
    try {
      const { tags } = await get('/api/desk/tags');
      this.#suggestions.replaceChildren(...(tags || []).map((t) => h('option', { value: t.tag })));
    } catch { /* no suggestions: tags can still be typed */ }
  }
}
