// The admin's routing groups tab (docs/api.md, GROUP): who answers, on which channels, how many visitors may wait,
// and how conversations reach the agents (assigned directly, or offered with a ring that times out).

import { h } from '/static/shared/dom.js';
import { get, patch, post } from '/static/shared/api.js';
import { checkboxes, field, formMessage, showFieldErrors } from '/static/shared/forms.js';
import { MasterDetail } from './master_detail.js';
import { openingHours } from './opening_hours.js';

const CHANNELS = [['chat', 'Chat'], ['video', 'Video']];
const CHAT_MODES = [['assign', 'Assign directly'], ['offer', 'Offer and ring']];
// The API's accepted ranges (docs/api.md, GROUP), and how to say them.
const RANGES = {
  queue_places: [0, 1000, 'Enter a whole number from 0 (no queue) to 1000.'],
  offer_timeout_seconds: [5, 300, 'Enter a whole number of seconds from 5 to 300.'],
  max_wait_seconds: [30, 86400, 'Enter a whole number of seconds from 30 to 86400 (24 hours).'],
  max_attempts: [1, 20, 'Enter a whole number from 1 to 20.'],
};
const DEFAULTS = {
  name: '', member_ids: [], channels: ['chat', 'video'], queue_places: 10, offer_timeout_seconds: 30,
  max_wait_seconds: 900, chat_mode: 'assign', max_attempts: 3, hours: null,
};

/** The routing groups (GET /api/admin/groups), or null when the server gives none (the groups' fields are left out). */
export async function loadGroups() {
  try {
    return (await get('/api/admin/groups')).groups || [];
  } catch (err) {
    if (err.status === 401) throw err;
    return null;
  }
}

export class GroupsPanel {
  #agents = [];
  #md;

  constructor() {
    this.#md = new MasterDetail({
      id: 'groups-title',
      title: 'Routing groups',
      label: 'Routing groups',
      newText: 'New group',
      newTestid: 'admin-new-group',
      emptyText: 'No group yet. A group says which agents answer a site\'s visitors.',
      describe: (g) => [g.name, describe(g)],
      renderEditor: (g) => [this.#form(g)],
    });
    this.element = this.#md.element;
  }

  async load() {
    try {
      const [{ groups }, { agents }] = await Promise.all([get('/api/admin/groups'), get('/api/admin/agents')]);
      this.#agents = agents;
      this.#md.setItems(groups || []);
    } catch (err) {
      if (err.status !== 401) this.#md.message.error(`The groups could not be loaded: ${err.message}`);
    }
  }

  #form(group) {
    const g = { ...DEFAULTS, ...group };
    const number = (name, label, value, hint) =>
      field({ label, name, type: 'number', min: String(RANGES[name][0]), max: String(RANGES[name][1]), step: '1', value: String(value ?? ''), hint,
        testid: `admin-group-${name.replaceAll('_', '-')}` });
    const fields = {
      name: field({ label: 'Name', name: 'name', value: g.name, required: true, testid: 'admin-group-name' }),
      member_ids: checkboxes({
        label: 'Members',
        name: 'member_ids',
        testid: 'admin-group-members',
        options: this.#agents.map((a) => [a.id, a.disabled ? `${a.name} (disabled)` : a.name]),
        values: g.member_ids || [],
        emptyText: 'No agent yet: create agents in the Agents tab.',
      }),
      channels: checkboxes({ label: 'Channels', name: 'channels', testid: 'admin-group-channels', options: CHANNELS, values: g.channels || [] }),
      chat_mode: field({
        label: 'Chat mode', name: 'chat_mode', kind: 'select', options: CHAT_MODES, value: g.chat_mode, testid: 'admin-group-chat-mode',
        hint: 'Assign directly gives a new chat to the least busy available agent at once. Offer and ring shows it on the agent\'s desk, to accept or decline.',
      }),
      queue_places: number('queue_places', 'Queue places', g.queue_places,
        'How many visitors may wait for an agent. 0 means no queue: when nobody is free, the visitor stays in the chat or leaves a message, and video isn\'t offered.'),
      offer_timeout_seconds: number('offer_timeout_seconds', 'Offer timeout (seconds)', g.offer_timeout_seconds,
        'How long an agent\'s desk rings before the conversation goes to someone else. The agent is then marked not responding.'),
      max_wait_seconds: number('max_wait_seconds', 'Maximum wait (seconds)', g.max_wait_seconds,
        'After waiting this long, the visitor is told and may leave a message.'),
      max_attempts: number('max_attempts', 'Offers before ringing everyone', g.max_attempts,
        'After this many offers to one agent at a time, the conversation is offered to the whole group at once.'),
      hours: openingHours(g.hours),
    };
    const message = formMessage();
    const save = h('button', { type: 'submit', class: 'button button--primary', testid: 'admin-save' }, group ? 'Save' : 'Create group');
    const form = h('form', { class: 'card', novalidate: true, 'aria-label': group ? `Group ${group.name}` : 'New group' },
      h('h3', { text: group ? group.name : 'New group' }),
      fields.name.element,
      fields.member_ids.element,
      fields.channels.element,
      h('div', { class: 'form-grid' },
        [fields.chat_mode, fields.queue_places, fields.offer_timeout_seconds, fields.max_wait_seconds, fields.max_attempts].map((f) => f.element)),
      h('p', { class: 'field__hint', text: 'Who gets a conversation: the least busy available agent of the group, then the one idle longest.' }),
      fields.hours.element,
      message.element,
      h('div', { class: 'form-actions' }, save));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      message.clear();
      showFieldErrors(fields, {});
      const body = {
        name: fields.name.input.value.trim(),
        member_ids: fields.member_ids.values(),
        channels: fields.channels.values(),
        chat_mode: fields.chat_mode.input.value,
      };
      const errors = {};
      if (!body.name || [...body.name].length > 80) errors.name = 'Enter a name of 1 to 80 characters.';
      if (body.channels.length === 0) errors.channels = 'Choose at least one channel: with none, the group\'s sites get no chat and no video.';
      for (const [name, [min, max, text]] of Object.entries(RANGES)) {
        const raw = fields[name].input.value.trim();
        const n = Number(raw);
        if (raw === '' || !Number.isInteger(n) || n < min || n > max) errors[name] = text;
        else body[name] = n;
      }
      try {
        body.hours = fields.hours.value();
      } catch (err) {
        errors.hours = err.message;
      }
      const saved = await this.#md.submit({ fields, errors, message, button: save, send: () => (group
        ? patch(`/api/admin/groups/${encodeURIComponent(group.id)}`, body)
        : post('/api/admin/groups', body)) });
      if (saved) this.#md.message.success(group ? `${saved.name} is saved.` : `${saved.name} is created. Choose it as a site's routing group in the Sites tab.`);
    });
    return form;
  }
}

function describe(g) {
  const members = (g.member_ids || []).length;
  const channels = (g.channels || []).map((c) => (CHANNELS.find(([v]) => v === c) || [c, c])[1].toLowerCase()).join(', ') || 'no channel';
  return `${members} ${members === 1 ? 'member' : 'members'} · ${channels}`;
}
