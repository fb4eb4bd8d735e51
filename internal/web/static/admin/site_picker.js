// SitePicker: which site the chatbox and notification builders edit. The choice is kept for the browser tab, so
// moving between the builders stays on the same site.

import { h } from '/static/shared/dom.js';
import { get } from '/static/shared/api.js';
import { field } from '/static/shared/forms.js';

const KEY = 'parley.admin.site';

function remembered() {
  try {
    return sessionStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

function remember(id) {
  try {
    sessionStorage.setItem(KEY, id);
  } catch { /* private mode: the first site is shown next time */ }
}

export class SitePicker {
  #sites = [];
  #field;
  #onChange;

  /** onChange(site) after the admin picks another site. */
  constructor({ onChange }) {
    this.#onChange = onChange;
    this.#field = field({ label: 'Site', name: 'site', kind: 'select', testid: 'admin-builder-site',
      onchange: () => {
        remember(this.#field.input.value);
        this.#onChange(this.site);
      } });
    this.element = h('div', { class: 'site-picker' }, this.#field.element);
  }

  /** Loads the sites (GET /api/admin/sites) and returns the one to show (null: there is none). */
  async load() {
    const { sites } = await get('/api/admin/sites');
    this.#sites = sites || [];
    const chosen = this.#sites.find((s) => s.id === remembered()) || this.#sites[0] || null;
    this.#field.input.replaceChildren(...this.#sites.map((s) => h('option', { value: s.id, text: s.name })));
    if (chosen) this.#field.input.value = chosen.id;
    return chosen;
  }

  /** The site shown. */
  get site() {
    return this.#sites.find((s) => s.id === this.#field.input.value) || null;
  }

  /** A saved site (the API's answer) replaces the one with its id. */
  replace(site) {
    const i = this.#sites.findIndex((s) => s.id === site.id);
    if (i >= 0) this.#sites[i] = site;
  }
}
