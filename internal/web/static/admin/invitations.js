// The admin's proactive invitations tab (docs/api.md, INVITATION): a message the widget shows beside its launcher
// to a visitor who has spent some time on some pages of a site, while an agent could answer at once.

import { h } from '/static/shared/dom.js';
import { patch, post } from '/static/shared/api.js';
import { checkbox, field, formMessage } from '/static/shared/forms.js';
import { MasterDetail, siteName } from './master_detail.js';

const MAX_MESSAGE = 500;
const MAX_URL = 200;
const MAX_DELAY = 600;

export class InvitationsPanel {
  #md;
  #sites = [];

  constructor() {
    this.#md = new MasterDetail({
      id: 'invitations-title',
      title: 'Proactive invitations',
      label: 'Invitations',
      newText: 'New invitation',
      newTestid: 'admin-new-invitation',
      emptyText: 'No invitation yet. An invitation greets visitors who linger on a page, while an agent could answer at once.',
      describe: (inv) => [short(inv.message), `${siteName(this.#sites, inv.site_id)} · ${where(inv)} · ` +
        `${inv.enabled ? `shown ${inv.shown}, answered ${inv.answered}` : 'off'}`],
      renderEditor: (inv) => [this.#form(inv)],
    });
    this.element = this.#md.element;
  }

  async load() {
    const loaded = await this.#md.load({ path: '/api/admin/invitations', key: 'invitations', what: 'invitations', withSites: true });
    if (!loaded) return;
    this.#sites = loaded.sites;
    this.#md.render();
  }

  #form(inv) {
    const fields = {
      site_id: field({ label: 'Site', name: 'site_id', kind: 'select', testid: 'admin-invitation-site', disabled: Boolean(inv),
        options: this.#sites.map((s) => [s.id, s.name]), hint: inv ? 'An invitation stays on its site.' : 'The site whose widget shows it.' }),
      message: field({ label: 'Message', name: 'message', kind: 'textarea', rows: '3', value: inv ? inv.message : '', required: true,
        testid: 'admin-invitation-message', hint: 'What the visitor reads beside the chat button, signed with the site\'s name. ' +
          'Answering it starts a chat that begins with this message.' }),
      url_contains: field({ label: 'Pages whose address contains', name: 'url_contains', value: inv ? inv.url_contains : '',
        testid: 'admin-invitation-url', hint: 'For example /checkout or /chairs/. Leave empty for every page.' }),
      delay_seconds: field({ label: 'Seconds on the page before it shows', name: 'delay_seconds', type: 'number', min: '0',
        max: String(MAX_DELAY), value: String(inv ? inv.delay_seconds : 30), required: true, testid: 'admin-invitation-delay' }),
      enabled: checkbox({ label: 'On', name: 'enabled', checked: inv ? inv.enabled : true, testid: 'admin-invitation-enabled',
        hint: 'It shows only while an agent of the site\'s group could take the chat, and once per visitor.' }),
    };
    if (inv) fields.site_id.input.value = inv.site_id;
    const message = formMessage();
    const save = h('button', { type: 'submit', class: 'button button--primary', testid: 'admin-save' }, inv ? 'Save' : 'Create invitation');
    const actions = [save];
    if (inv) {
      actions.push(this.#md.deleteButton({ item: inv, testid: 'admin-delete-invitation', message,
        question: `Delete the invitation "${short(inv.message)}"?`, path: `/api/admin/invitations/${encodeURIComponent(inv.id)}`,
        done: 'The invitation is deleted.' }));
    }
    const stats = inv ? h('p', { class: 'field__hint', testid: 'admin-invitation-stats',
      text: `Shown ${times(inv.shown)}, answered ${times(inv.answered)}.` }) : null;
    return this.#md.editorForm({
      label: inv ? 'Invitation' : 'New invitation',
      title: inv ? short(inv.message) : 'New invitation',
      children: [stats, Object.values(fields).map((f) => f.element)],
      message,
      actions,
      onSubmit: async () => {
        const body = {
          message: fields.message.input.value.trim(),
          url_contains: fields.url_contains.input.value.trim(),
          delay_seconds: Number(fields.delay_seconds.input.value),
          enabled: fields.enabled.input.checked,
        };
        if (!inv) body.site_id = fields.site_id.input.value;
        const errors = {};
        if (!inv && !body.site_id) errors.site_id = 'Create a site first (Sites tab).';
        if (!body.message || [...body.message].length > MAX_MESSAGE) errors.message = `Write a message of 1 to ${MAX_MESSAGE} characters.`;
        if ([...body.url_contains].length > MAX_URL) errors.url_contains = `At most ${MAX_URL} characters.`;
        if (!Number.isInteger(body.delay_seconds) || body.delay_seconds < 0 || body.delay_seconds > MAX_DELAY) {
          errors.delay_seconds = `A whole number of seconds from 0 to ${MAX_DELAY}.`;
        }
        const saved = await this.#md.submit({ fields, errors, message, button: save, send: () => (inv
          ? patch(`/api/admin/invitations/${encodeURIComponent(inv.id)}`, body)
          : post('/api/admin/invitations', body)) });
        if (saved) this.#md.message.success(saved.enabled ? 'The invitation is saved. Widgets show it from their next page.' : 'The invitation is saved, and off.');
      },
    });
  }
}

function short(text) {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function times(n) {
  if (n === 0) return 'never';
  return n === 1 ? 'once' : `${n} times`;
}

function where(inv) {
  const after = `after ${inv.delay_seconds} s`;
  return inv.url_contains ? `pages with "${inv.url_contains}", ${after}` : `every page, ${after}`;
}
