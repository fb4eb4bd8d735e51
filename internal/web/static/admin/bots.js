// The admin's bots tab (docs/api.md, BOT): the bots that answer a site's visitors before its agents do. A scenario
// bot runs the steps written here (admin/scenario_editor.js); an HTTP bot is the company's own program, reached by a
// signed webhook and answering through the bot API with its token. A bot is put on a site in the sites tab.

import { h } from '/static/shared/dom.js';
import { get, patch, post, request } from '/static/shared/api.js';
import { copyText } from '/static/shared/clipboard.js';
import { field, formMessage, showFieldErrors, showSubmitError } from '/static/shared/forms.js';
import { MasterDetail } from './master_detail.js';
import { ScenarioEditor, starterScenario } from './scenario_editor.js';

const KINDS = [
  ['scenario', 'Scenario bot: Parley plays the steps you write here'],
  ['http', 'HTTP bot: your own program, through a webhook and the bot API'],
];

/** The bots and the configured video phrases (GET /api/admin/bots), or null when they could not be loaded. */
export async function loadBots() {
  try {
    const data = await get('/api/admin/bots');
    return { bots: data.bots || [], videoPhrases: data.video_phrases || [] };
  } catch (err) {
    if (err.status === 401) throw err;
    return null;
  }
}

/** The site form's bot select: the bot that answers the site first, or none. */
export function siteBotField(bots, site) {
  const current = site ? (bots.find((b) => (b.site_ids || []).includes(site.id)) || {}).id || '' : '';
  return field({
    label: 'Bot',
    name: 'bot_id',
    kind: 'select',
    testid: 'admin-site-bot',
    options: [['', 'No bot: the agents answer at once'], ...bots.map((b) => [b.id, b.name])],
    value: current,
    hint: 'A bot answers the visitors first, and hands them over to the agents with a transfer card. Bots are set up in the Bots tab.',
  });
}

/** Puts a bot on a site ("" takes it off). */
export function saveSiteBot(siteId, botId) {
  return request('PUT', `/api/admin/sites/${encodeURIComponent(siteId)}/bot`, { bot_id: botId });
}

export class BotsPanel {
  #md;
  #sites = [];
  #videoPhrases = [];
  #revealed = new Map(); // bot id → {webhook_secret, api_token}, shown once after they were made

  constructor() {
    this.#md = new MasterDetail({
      id: 'bots-title',
      title: 'Bots',
      label: 'Bots',
      newText: 'New bot',
      newTestid: 'admin-new-bot',
      emptyText: 'No bot yet. A bot answers a site\'s visitors first, then hands them over to the agents.',
      describe: (b) => [b.name, describe(b)],
      renderEditor: (b) => this.#editor(b),
    });
    this.element = this.#md.element;
  }

  async load() {
    try {
      const [data, { sites }] = await Promise.all([get('/api/admin/bots'), get('/api/admin/sites')]);
      this.#sites = sites || [];
      this.#videoPhrases = data.video_phrases || [];
      this.#md.setItems(data.bots || []);
    } catch (err) {
      if (err.status !== 401) this.#md.message.error(`The bots could not be loaded: ${err.message}`);
    }
  }

  #editor(b) {
    if (!b) return [this.#newForm()];
    const parts = [this.#form(b)];
    if (b.kind === 'http') parts.push(this.#credentials(b), this.#howTo());
    parts.push(this.#usage(b));
    return parts;
  }

  #newForm() {
    const fields = {
      name: field({ label: 'Name', name: 'name', required: true, maxlength: '80', testid: 'admin-bot-name',
        hint: 'Visitors see it as the author of the bot\'s messages.' }),
      kind: field({ label: 'Kind', name: 'kind', kind: 'select', options: KINDS, value: 'scenario', testid: 'admin-bot-kind' }),
      webhook_url: field({ label: 'Webhook URL', name: 'webhook_url', type: 'url', placeholder: 'https://bot.example.com/parley',
        testid: 'admin-bot-webhook', hint: 'Parley posts each visitor message here, signed with the bot\'s secret.' }),
    };
    const editor = new ScenarioEditor(starterScenario(), { videoPhrases: this.#videoPhrases });
    const scenarioPart = h('div', { class: 'field' }, h('h4', { text: 'Scenario' }), editor.element);
    const showKind = () => {
      const http = fields.kind.input.value === 'http';
      fields.webhook_url.element.hidden = !http;
      scenarioPart.hidden = http;
    };
    fields.kind.input.addEventListener('change', showKind);
    showKind();
    return this.#formShell({
      title: 'New bot',
      saveText: 'Create bot',
      fields,
      extra: scenarioPart,
      editor,
      body: () => {
        const body = { name: fields.name.input.value.trim(), kind: fields.kind.input.value };
        if (body.kind === 'http') body.webhook_url = fields.webhook_url.input.value.trim();
        else body.scenario = editor.value;
        return body;
      },
      save: async (body) => {
        const created = await post('/api/admin/bots', body);
        if (created.api_token) this.#revealed.set(created.id, { webhook_secret: created.webhook_secret, api_token: created.api_token });
        delete created.api_token;
        delete created.webhook_secret;
        this.#md.save(created);
        this.#md.message.success(created.kind === 'http'
          ? `${created.name} is created. Copy its secret and token now: they are shown only once.`
          : `${created.name} is created. Put it on a site in the Sites tab.`);
      },
    });
  }

  #form(b) {
    const fields = {
      name: field({ label: 'Name', name: 'name', value: b.name, required: true, maxlength: '80', testid: 'admin-bot-name' }),
    };
    let editor = null;
    let extra = null;
    if (b.kind === 'http') {
      fields.webhook_url = field({ label: 'Webhook URL', name: 'webhook_url', type: 'url', value: b.webhook_url || '',
        testid: 'admin-bot-webhook', hint: 'Parley posts each visitor message here, signed with the bot\'s secret.' });
    } else {
      editor = new ScenarioEditor(b.scenario, { videoPhrases: this.#videoPhrases });
      extra = h('div', { class: 'field' }, h('h4', { text: 'Scenario' }), editor.element);
    }
    return this.#formShell({
      title: b.name,
      saveText: 'Save',
      fields,
      extra,
      editor,
      body: () => {
        const body = { name: fields.name.input.value.trim() };
        if (b.kind === 'http') body.webhook_url = fields.webhook_url.input.value.trim();
        else body.scenario = editor.value;
        return body;
      },
      save: async (body) => {
        const updated = await patch(`/api/admin/bots/${encodeURIComponent(b.id)}`, body);
        this.#md.save(updated);
        this.#md.message.success(`${updated.name} is saved.`);
      },
    });
  }

  // A bot's form: its fields, the scenario editor (if any), the save button and the errors, shown plainly.
  #formShell({ title, saveText, fields, extra, editor, body, save }) {
    const message = formMessage();
    const saveButton = h('button', { type: 'submit', class: 'button button--primary', testid: 'admin-save' }, saveText);
    const form = h('form', { class: 'card', novalidate: true, 'aria-label': title },
      h('h3', { text: title }),
      Object.values(fields).map((f) => f.element),
      extra,
      message.element,
      h('div', { class: 'form-actions' }, saveButton));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      message.clear();
      showFieldErrors(fields, {});
      editor?.setError('');
      const data = body();
      if (!data.name) {
        fields.name.setError('Enter a name of 1 to 80 characters.');
        message.error('Check the fields marked in red.');
        return;
      }
      saveButton.disabled = true;
      try {
        await save(data);
      } catch (err) {
        saveButton.disabled = false;
        const errors = { ...(err.fields || {}) };
        if (errors.scenario && editor) {
          editor.setError(errors.scenario);
          delete errors.scenario;
          if (!Object.keys(errors).length) {
            message.error('The scenario has problems, listed under the steps.');
            return;
          }
        }
        showSubmitError(fields, message, { ...err, fields: errors, message: err.message });
      }
    });
    return form;
  }

  #credentials(b) {
    const revealed = this.#revealed.get(b.id);
    const card = h('div', { class: 'card', testid: 'admin-bot-credentials' }, h('h3', { text: 'Secret and API token' }));
    if (revealed) {
      card.append(
        h('p', { class: 'form-message form-message--success', text: 'Copy them now and keep them in your bot\'s settings: they are shown only once.' }),
        secretRow('Webhook secret', 'Checks the X-Parley-Signature of each webhook.', revealed.webhook_secret, 'admin-bot-secret'),
        secretRow('API token', 'Send it as Authorization: Bearer <token> to the bot API.', revealed.api_token, 'admin-bot-token'),
      );
    } else {
      card.append(h('p', { class: 'muted', text: 'The secret and the token were shown when they were made. If they are lost, make new ones: the old ones stop working at once.' }));
    }
    const status = formMessage();
    const renew = h('button', { type: 'button', class: 'button', testid: 'admin-bot-renew' }, 'Make a new secret and token');
    renew.addEventListener('click', async () => {
      if (!confirm(`Make a new secret and token for ${b.name}? The old ones stop working at once.`)) return;
      renew.disabled = true;
      try {
        const out = await post(`/api/admin/bots/${encodeURIComponent(b.id)}/credentials`, {});
        this.#revealed.set(b.id, { webhook_secret: out.webhook_secret, api_token: out.api_token });
        this.#md.select(b.id);
      } catch (err) {
        renew.disabled = false;
        status.error(`The secret and token could not be renewed: ${err.message}`);
      }
    });
    card.append(status.element, h('div', { class: 'form-actions form-actions--start' }, renew));
    return card;
  }

  #howTo() {
    const line = (text) => h('li', { text });
    return h('div', { class: 'card' },
      h('h3', { text: 'How your bot talks with Parley' }),
      h('ul', { class: 'muted' },
        line('Parley posts a JSON webhook to the URL above when a visitor opens a conversation or writes, with the headers X-Parley-Timestamp and X-Parley-Signature (sha256= HMAC of the timestamp, a dot and the body, keyed with the secret). Refuse any whose signature or timestamp is wrong.'),
        line('Your bot answers with POST /api/bot/conversations/{id}/messages (a body, and quick replies) and hands over with POST /api/bot/conversations/{id}/transfer (the transfer card).'),
        line('If the webhook keeps failing, the conversation goes to the agents.')));
  }

  #usage(b) {
    const names = (b.site_ids || []).map((id) => (this.#sites.find((s) => s.id === id) || {}).name || id);
    const status = formMessage();
    const remove = h('button', { type: 'button', class: 'button button--danger', testid: 'admin-delete-bot' }, 'Delete this bot');
    remove.addEventListener('click', async () => {
      if (!confirm(`Delete ${b.name}?`)) return;
      remove.disabled = true;
      try {
        await request('DELETE', `/api/admin/bots/${encodeURIComponent(b.id)}`);
        this.#md.setItems(this.#md.items.filter((x) => x.id !== b.id));
        this.#md.select(this.#md.items[0] ? this.#md.items[0].id : null);
        this.#md.message.success(`${b.name} is deleted.`);
      } catch (err) {
        remove.disabled = false;
        status.error(err.message);
      }
    });
    return h('div', { class: 'card' },
      h('h3', { text: 'Sites' }),
      h('p', { class: names.length ? '' : 'muted', testid: 'admin-bot-sites',
        text: names.length ? `Answers first on: ${names.join(', ')}.` : 'No site uses this bot yet. Choose it on a site in the Sites tab.' }),
      status.element,
      h('div', { class: 'form-actions form-actions--start' }, remove));
  }
}

function describe(b) {
  const kind = b.kind === 'http' ? 'HTTP bot' : 'Scenario bot';
  const n = (b.site_ids || []).length;
  return n ? `${kind} · ${n} site${n > 1 ? 's' : ''}` : kind;
}

// A secret shown once, in a read-only field with a copy button.
function secretRow(label, hint, value, testid) {
  const input = h('input', { type: 'text', readonly: true, value, class: 'snippet', testid, 'aria-label': label, spellcheck: 'false' });
  const status = h('span', { class: 'muted', role: 'status' });
  const copy = h('button', { type: 'button', class: 'button' }, 'Copy');
  copy.addEventListener('click', async () => {
    const copied = await copyText(value);
    if (!copied) input.select();
    status.textContent = copied ? 'Copied.' : 'Select the text and copy it.';
    setTimeout(() => (status.textContent = ''), 3000);
  });
  return h('div', { class: 'field' }, h('label', { text: label }), input, h('p', { class: 'field__hint', text: hint }),
    h('div', { class: 'form-actions form-actions--start' }, copy, status));
}
