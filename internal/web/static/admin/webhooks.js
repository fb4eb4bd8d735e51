// The admin's webhooks tab (docs/api.md, WEBHOOK and "Webhooks"): the conversation events of one site, or of every
// site, posted to the company's own system (a CRM, a help desk), signed with the webhook's secret.

import { h } from '/static/shared/dom.js';
import { patch, post } from '/static/shared/api.js';
import { checkbox, checkboxes, field, formMessage } from '/static/shared/forms.js';
import { MasterDetail, siteName } from './master_detail.js';
import { copyable } from './sites.js';

// What each event type means, for the checkboxes.
const EVENT_LABELS = {
  invited: 'A visitor answered a proactive invitation',
  message: 'Messages (visitor, agent, bot)',
  assigned: 'An agent took the conversation',
  transferred: 'A conversation was transferred',
  ended: 'A conversation ended',
  call_started: 'A video call started',
  call_ended: 'A video call ended (with its quality record)',
};

export class WebhooksPanel {
  #md;
  #sites = [];
  #types = Object.keys(EVENT_LABELS);

  constructor() {
    this.#md = new MasterDetail({
      id: 'webhooks-title',
      title: 'Webhooks',
      label: 'Webhooks',
      newText: 'New webhook',
      newTestid: 'admin-new-webhook',
      emptyText: 'No webhook yet. A webhook posts the conversations\' events to your own system, a CRM or a help desk.',
      describe: (w) => [w.url, `${w.site_id ? siteName(this.#sites, w.site_id) : 'Every site'} · ${w.enabled ? w.events.join(', ') : 'off'}`],
      renderEditor: (w) => [this.#form(w)],
    });
    this.element = this.#md.element;
  }

  async load() {
    const loaded = await this.#md.load({ path: '/api/admin/webhooks', key: 'webhooks', what: 'webhooks', withSites: true });
    if (!loaded) return;
    const types = loaded.data.event_types;
    if (Array.isArray(types) && types.length) this.#types = types;
    this.#sites = loaded.sites;
    this.#md.render();
  }

  #form(hook) {
    const fields = {
      url: field({ label: 'URL', name: 'url', type: 'url', value: hook ? hook.url : '', required: true, testid: 'admin-webhook-url',
        placeholder: 'https://crm.example.com/parley', hint: 'Parley posts each event there as JSON, signed (X-Parley-Signature).' }),
      site_id: field({ label: 'Site', name: 'site_id', kind: 'select', testid: 'admin-webhook-site',
        options: [['', 'Every site'], ...this.#sites.map((s) => [s.id, s.name])] }),
      events: checkboxes({ label: 'Events', name: 'events', testid: 'admin-webhook-events', values: hook ? hook.events : ['message', 'ended'],
        options: this.#types.map((type) => [type, EVENT_LABELS[type] || type]),
        hint: 'Agents\' notes are never sent.' }),
      enabled: checkbox({ label: 'On', name: 'enabled', checked: hook ? hook.enabled : true, testid: 'admin-webhook-enabled' }),
    };
    fields.site_id.input.value = hook ? hook.site_id : '';
    const message = formMessage();
    const save = h('button', { type: 'submit', class: 'button button--primary', testid: 'admin-save' }, hook ? 'Save' : 'Create webhook');
    const actions = [save];
    let secret = null;
    if (hook) {
      const renew = h('button', { type: 'button', class: 'button', testid: 'admin-webhook-renew-secret' }, 'New secret');
      renew.addEventListener('click', async () => {
        if (!confirm('Give this webhook a new secret? Your system must then check signatures with the new one.')) return;
        renew.disabled = true;
        await this.#md.submit({ fields, errors: {}, message, button: renew,
          send: () => patch(`/api/admin/webhooks/${encodeURIComponent(hook.id)}`, { renew_secret: true }) });
      });
      actions.push(renew, this.#md.deleteButton({ item: hook, testid: 'admin-delete-webhook', message,
        question: `Delete the webhook to ${hook.url}?`, path: `/api/admin/webhooks/${encodeURIComponent(hook.id)}`,
        done: 'The webhook is deleted.' }));
      const last = hook.last_delivery;
      const when = last ? new Date(last.at).toLocaleString() : '';
      secret = h('div', { class: 'field' },
        h('p', { class: last && !last.ok ? 'field__error' : 'field__hint', testid: 'admin-webhook-last-delivery',
          text: !last ? 'Nothing sent yet.' : last.ok ? `Last delivery taken at ${when}.` : `Last delivery failed at ${when}: ${last.error}` }),
        h('label', { text: 'Secret' }),
        h('p', { class: 'field__hint', text: 'Your system checks each webhook with it: HMAC-SHA256 of X-Parley-Timestamp, a dot and the body.' }),
        copyable({ value: hook.secret, rows: '1', testid: 'admin-webhook-secret', label: 'Secret of the webhook', copyTestid: 'copy-webhook-secret' }));
    }
    return this.#md.editorForm({
      label: hook ? `Webhook to ${hook.url}` : 'New webhook',
      title: hook ? hook.url : 'New webhook',
      children: [Object.values(fields).map((f) => f.element), secret],
      message,
      actions,
      onSubmit: async () => {
        const body = {
          url: fields.url.input.value.trim(),
          site_id: fields.site_id.input.value,
          events: fields.events.values(),
          enabled: fields.enabled.input.checked,
        };
        const errors = {};
        if (!/^https?:\/\/[^\s/]+/i.test(body.url)) errors.url = 'Write an http:// or https:// address.';
        if (!body.events.length) errors.events = 'Choose at least one event.';
        const saved = await this.#md.submit({ fields, errors, message, button: save, send: () => (hook
          ? patch(`/api/admin/webhooks/${encodeURIComponent(hook.id)}`, body)
          : post('/api/admin/webhooks', body)) });
        if (saved) this.#md.message.success(saved.enabled ? 'The webhook is saved. The next events go to it.' : 'The webhook is saved, and off.');
      },
    });
  }
}
