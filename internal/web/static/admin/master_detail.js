// MasterDetail: a list of items on the left and the selected item's editor on the right, with a "New" button (the
// sites and groups tabs).

import { h } from '/static/shared/dom.js';
import { get, request } from '/static/shared/api.js';
import { formMessage, showFieldErrors, showSubmitError } from '/static/shared/forms.js';

export class MasterDetail {
  #items = [];
  #selected = null; // an item id, 'new', or null
  #nav;
  #editor;
  #describe;
  #renderEditor;
  #emptyText;

  /**
   * describe(item) returns [name, detail] for the list; renderEditor(item) returns the editor's elements (item is
   * null for a new one). newTestid names the "New" button.
   */
  constructor({ id, title, label, newText, newTestid, emptyText, describe, renderEditor }) {
    this.#describe = describe;
    this.#renderEditor = renderEditor;
    this.#emptyText = emptyText;
    this.#nav = h('ul', { class: 'item-list' });
    this.#editor = h('div', { class: 'item-editor' });
    this.message = formMessage();
    this.element = h('section', { class: 'admin-section', 'aria-labelledby': id },
      h('div', { class: 'admin-section__header' },
        h('h2', { id, text: title }),
        h('button', { type: 'button', class: 'button', testid: newTestid, onclick: () => this.select('new') }, newText)),
      this.message.element,
      h('div', { class: 'master-detail' }, h('nav', { 'aria-label': label }, this.#nav), this.#editor));
  }

  get items() {
    return this.#items;
  }

  /**
   * Loads the items from GET path (the answer's key), with the sites when withSites, and shows them. Returns
   * {data, sites}, or null when loading failed (the failure is shown, naming what).
   */
  async load({ path, key, what, withSites = false }) {
    try {
      const [data, sites] = await Promise.all([get(path), withSites ? get('/api/admin/sites').then((d) => d.sites || []) : []]);
      this.setItems(data[key] || []);
      return { data, sites };
    } catch (err) {
      if (err.status !== 401) this.message.error(`The ${what} could not be loaded: ${err.message}`);
      return null;
    }
  }

  /** Replaces the items, keeping the selection (or selecting the first one). */
  setItems(items) {
    this.#items = items;
    if (!this.#selected && items.length) this.#selected = items[0].id;
    this.render();
  }

  /** A created or saved item: replaces the one with its id (or is added), and is selected. */
  save(item) {
    const i = this.#items.findIndex((x) => x.id === item.id);
    if (i >= 0) this.#items[i] = item;
    else this.#items.push(item);
    this.#selected = item.id;
    this.render();
  }

  /**
   * An editor's form: a card titled title, with children, the form's message and its actions. onSubmit() runs on
   * submit, the message cleared.
   */
  editorForm({ label, title, children, message, actions, onSubmit }) {
    const form = h('form', { class: 'card', novalidate: true, 'aria-label': label }, h('h3', { text: title }), children,
      message.element, h('div', { class: 'form-actions' }, actions));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      message.clear();
      onSubmit();
    });
    return form;
  }

  /**
   * A Delete button for item: once the person confirms (question), DELETE path; the item leaves the list, the
   * first one is selected, and done is said. A refusal is shown in message.
   */
  deleteButton({ item, testid, question, path, done, message }) {
    const remove = h('button', { type: 'button', class: 'button button--danger', testid }, 'Delete');
    remove.addEventListener('click', async () => {
      if (!confirm(question)) return;
      remove.disabled = true;
      try {
        await request('DELETE', path);
        this.setItems(this.#items.filter((x) => x.id !== item.id));
        this.select(this.#items[0] ? this.#items[0].id : null);
        this.message.success(done);
      } catch (err) {
        remove.disabled = false;
        message.error(err.message);
      }
    });
    return remove;
  }

  /**
   * Submits an editor's form: the fields' errors (name → text, from the form's own checks) are shown and stop it;
   * otherwise send() runs with the form's button disabled, and the item it resolves to is saved in the list. A
   * refusal is shown on the form's fields and message. Returns the saved item, or null.
   */
  async submit({ fields, errors, message, button, send }) {
    showFieldErrors(fields, errors);
    if (Object.keys(errors).length) {
      message.error('Check the fields marked in red.');
      return null;
    }
    button.disabled = true;
    try {
      const saved = await send();
      this.save(saved);
      return saved;
    } catch (err) {
      button.disabled = false;
      showSubmitError(fields, message, err);
      return null;
    }
  }

  select(id) {
    this.#selected = id;
    this.message.clear();
    this.render();
  }

  render() {
    this.#nav.replaceChildren(...this.#items.map((item) => {
      const [name, detail] = this.#describe(item);
      return h('li', null,
        h('button', {
          type: 'button',
          class: 'item-list__item',
          'aria-current': item.id === this.#selected ? 'true' : null,
          onclick: () => this.select(item.id),
        }, h('span', { class: 'item-list__name', text: name }), h('span', { class: 'item-list__detail', text: detail })));
    }));
    const item = this.#items.find((x) => x.id === this.#selected);
    if (this.#selected === 'new') this.#editor.replaceChildren(...this.#renderEditor(null));
    else if (item) this.#editor.replaceChildren(...this.#renderEditor(item));
    else this.#editor.replaceChildren(h('p', { class: 'muted', text: this.#emptyText }));
  }
}

/** The name of the site with this id among sites, for a list. */
export function siteName(sites, id) {
  return sites.find((s) => s.id === id)?.name || 'a deleted site';
}
