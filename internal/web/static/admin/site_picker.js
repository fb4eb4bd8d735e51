// SitePicker: which site the chatbox and notification builders edit. The choice is kept for the browser tab, so
// moving between the builders stays on the same site.

import { h } from '/static/shared/dom.js';
import { get } from '/static/shared/api.js';
import { field, formMessage } from '/static/shared/forms.js';

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

/**
 * The frame the chatbox and notification builders share: a titled section with the site picker, a message line,
 * and a body that show(site) fills for the site picked (null: there is none yet).
 */
export function siteBuilder({ id, title, intro, show }) {
  const picker = new SitePicker({ onChange: (site) => show(site) });
  const message = formMessage();
  const body = h('div', { class: 'builder' });
  const element = h('section', { class: 'admin-section', 'aria-labelledby': id },
    h('div', { class: 'admin-section__header' }, h('h2', { id, text: title })),
    h('p', { class: 'muted', text: intro }),
    picker.element,
    message.element,
    body);
  const load = async () => {
    try {
      show(await picker.load());
    } catch (err) {
      if (err.status !== 401) message.error(`The sites could not be loaded: ${err.message}`);
    }
  };
  const noSite = () => h('p', { class: 'muted', text: 'No site yet. Create one in the Sites tab first.' });
  return { picker, message, body, element, load, noSite };
}
