// The admin's sites tab: each site's name, language, routing group and allowed origins (the websites that may show
// the widget), and its install snippet; and new sites.

import { h } from '/static/shared/dom.js';
import { get, patch, post } from '/static/shared/api.js';
import { copyText } from '/static/shared/clipboard.js';
import { field, formMessage, showFieldErrors, showSubmitError } from '/static/shared/forms.js';
import { loadBots, saveSiteBot, siteBotField } from './bots.js';
import { loadGroups } from './groups.js';
import { MasterDetail } from './master_detail.js';

// "" lets each visitor's browser choose (French for fr-*, English otherwise).
const LANGUAGES = [['', 'The visitor\'s browser language'], ['en', 'English'], ['fr', 'French']];

export class SitesPanel {
  #groups = null; // the routing groups, or null when they could not be loaded
  #bots = null; // the bots, or null when they could not be loaded
  #md;

  constructor() {
    this.#md = new MasterDetail({
      id: 'sites-title',
      title: 'Sites',
      label: 'Sites',
      newText: 'New site',
      newTestid: 'admin-new-site',
      emptyText: 'No site yet. Create one to get its install snippet.',
      describe: (site) => [site.name, site.public_id],
      renderEditor: (site) => (site ? [this.#form(site), this.#snippet(site)] : [this.#form(null)]),
    });
    this.element = this.#md.element;
  }

  async load() {
    try {
      const [{ sites }, groups, bots] = await Promise.all([get('/api/admin/sites'), loadGroups(), loadBots()]);
      this.#groups = groups;
      this.#bots = bots && bots.bots;
      this.#md.setItems(sites);
    } catch (err) {
      if (err.status !== 401) this.#md.message.error(`The sites could not be loaded: ${err.message}`);
    }
  }

  #form(site) {
    const language = site ? site.language || '' : '';
    const options = LANGUAGES.some(([v]) => v === language) ? LANGUAGES : [...LANGUAGES, [language, language]];
    const groupId = site ? site.group_id || '' : (this.#groups && this.#groups[0] ? this.#groups[0].id : '');
    const fields = {
      name: field({ label: 'Name', name: 'name', value: site ? site.name : '', required: true }),
      language: field({ label: 'Widget language', name: 'language', kind: 'select', options, value: language,
        hint: 'English or French forces that language for every visitor. A data-lang attribute on the snippet overrides it.' }),
      group_id: this.#groups && field({
        label: 'Routing group',
        name: 'group_id',
        kind: 'select',
        testid: 'admin-site-group',
        options: [['', 'No group: nobody answers'], ...this.#groups.map((g) => [g.id, g.name])],
        value: groupId,
        hint: 'The agents of this group answer the site\'s visitors.',
      }),
      allowed_origins: field({
        label: 'Allowed origins',
        name: 'allowed_origins',
        kind: 'textarea',
        rows: '5',
        spellcheck: 'false',
        value: site ? (site.allowed_origins || []).join('\n') : '',
        hint: 'One per line, like https://www.example.com. Only these websites can show the chat.',
      }),
    };
    if (!fields.group_id) delete fields.group_id;
    if (this.#bots) fields.bot_id = siteBotField(this.#bots, site);
    const message = formMessage();
    const save = h('button', { type: 'submit', class: 'button button--primary', testid: 'admin-save' }, site ? 'Save' : 'Create site');
    const form = h('form', { class: 'card', novalidate: true, 'aria-label': site ? `Site ${site.name}` : 'New site' },
      h('h3', { text: site ? site.name : 'New site' }),
      Object.values(fields).map((f) => f.element),
      message.element,
      h('div', { class: 'form-actions' }, save));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      message.clear();
      showFieldErrors(fields, {});
      const body = {
        name: fields.name.input.value.trim(),
        language: fields.language.input.value,
        allowed_origins: parseOrigins(fields.allowed_origins.input.value),
      };
      if (fields.group_id) body.group_id = fields.group_id.input.value;
      const errors = {};
      if (!body.name || [...body.name].length > 80) errors.name = 'Enter a name of 1 to 80 characters.';
      const wrong = body.allowed_origins.filter((o) => !validOrigin(o));
      if (wrong.length) {
        errors.allowed_origins = `Each origin is a scheme and a host, like https://shop.example.com, with no path. Check: ${wrong.join(', ')}`;
      }
      showFieldErrors(fields, errors);
      if (Object.keys(errors).length) {
        message.error('Check the fields marked in red.');
        return;
      }
      save.disabled = true;
      try {
        if (site) {
          const updated = await patch(`/api/admin/sites/${encodeURIComponent(site.id)}`, body);
          const botSaved = await this.#saveBot(updated.id, fields.bot_id);
          this.#md.save(updated);
          if (botSaved) this.#md.message.success(`${updated.name} is saved.`);
        } else {
          const created = await post('/api/admin/sites', body);
          const botSaved = await this.#saveBot(created.id, fields.bot_id);
          this.#md.save(created);
          if (botSaved) this.#md.message.success(`${created.name} is created. Put its snippet on the website.`);
        }
      } catch (err) {
        save.disabled = false;
        showSubmitError(fields, message, err);
      }
    });
    return form;
  }

  // The site's bot is saved apart (PUT /api/admin/sites/{id}/bot), once the site is. Returns false, having said
  // why, when it could not be.
  async #saveBot(siteId, f) {
    if (!f || !this.#bots) return true;
    const botId = f.input.value;
    const current = (this.#bots.find((b) => (b.site_ids || []).includes(siteId)) || {}).id || '';
    if (botId === current) return true;
    try {
      await saveSiteBot(siteId, botId);
    } catch (err) {
      this.#md.message.error(`The site is saved, but its bot could not be changed: ${err.message}`);
      return false;
    }
    for (const b of this.#bots) {
      b.site_ids = (b.site_ids || []).filter((id) => id !== siteId);
      if (b.id === botId) b.site_ids.push(siteId);
    }
    return true;
  }

  #snippet(site) {
    return h('div', { class: 'card' },
      h('h3', { text: 'Install' }),
      h('p', { class: 'muted', text: 'Paste this tag into every page of the website, just before </body>.' }),
      copyable({ value: site.snippet || '', rows: '3', testid: 'site-snippet', label: `Install snippet of ${site.name}`, copyTestid: 'copy-snippet' }),
      h('h3', { text: 'Signed-in visitors' }),
      h('p', { class: 'muted', text: 'To show the agents who a signed-in customer is, your website\'s backend signs the '
        + 'customer\'s e-mail address with this secret (HMAC-SHA256, in hex) and adds data-visitor-email, '
        + 'data-visitor-name and data-visitor-hash to the tag. Keep the secret on your server.' }),
      copyable({ value: site.identity_secret || '', rows: '1', testid: 'site-identity-secret', label: `Identity secret of ${site.name}`, copyTestid: 'copy-identity-secret' }));
  }
}

// A read-only text with a Copy button.
export function copyable({ value, rows, testid, label, copyTestid }) {
  const text = h('textarea', { class: 'snippet', readonly: true, rows, spellcheck: 'false', testid, 'aria-label': label, value });
  const status = h('span', { class: 'muted', role: 'status' });
  const copy = h('button', { type: 'button', class: 'button', testid: copyTestid }, 'Copy');
  copy.addEventListener('click', async () => {
    const copied = await copyText(text.value);
    if (!copied) text.select();
    status.textContent = copied ? 'Copied.' : 'Select the text and copy it.';
    setTimeout(() => (status.textContent = ''), 3000);
  });
  return h('div', null, text, h('div', { class: 'form-actions form-actions--start' }, copy, status));
}

// The API's rule (internal/server/admin.go, validOrigin): http(s)://host[:port], nothing more.
function validOrigin(origin) {
  if (!/^https?:\/\/[^/?#@\s;,'"]+$/i.test(origin)) return false;
  try {
    return Boolean(new URL(origin).host);
  } catch {
    return false;
  }
}

function parseOrigins(text) {
  return text.split('\n').map((line) => line.trim().replace(/\/+$/, '')).filter(Boolean);
}
