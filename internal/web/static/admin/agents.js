// The admin's agents tab: list, create, edit (name, role, chat capacity, supervisor, video escalation, routing groups,
// new password), disable and enable. Each form checks what it can before sending, and says what is wrong.

import { h } from '/static/shared/dom.js';
import { get, patch, post } from '/static/shared/api.js';
import { checkbox, checkboxes, field, formMessage, showFieldErrors, showSubmitError } from '/static/shared/forms.js';
import { loadGroups } from './groups.js';

const ROLES = [['agent', 'Agent'], ['admin', 'Admin']];
const ESCALATION_LABEL = 'May escalate a chat to video';
const ESCALATION_HINT = 'Shows "Escalate to video" in the agent\'s chats: the visitor is invited into a video call with them.';
const SUPERVISOR_HINT = 'Sees the queues and agents of their groups on the desk.';

export class AgentsPanel {
  #account;
  #agents = [];
  #groups = null; // the routing groups, or null when they could not be loaded
  #editing = null; // the id of the agent whose edit form is open
  #tbody;
  #message;
  #createSlot; // holds the new-agent form once the groups it offers are known

  constructor(account) {
    this.#account = account;
    this.#tbody = h('tbody');
    this.#message = formMessage();
    this.#createSlot = h('div');
    this.element = h('section', { class: 'admin-section', 'aria-labelledby': 'agents-title' },
      h('div', { class: 'admin-section__header' }, h('h2', { id: 'agents-title', text: 'Agents' })),
      this.#message.element,
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table' },
          h('thead', null, h('tr', null,
            ['Name', 'Email', 'Role', 'Groups', 'Chat capacity', 'Status'].map((text) => h('th', { scope: 'col', text })),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Actions' })))),
          this.#tbody)),
      this.#createSlot);
  }

  async load() {
    try {
      const [{ agents }, groups] = await Promise.all([get('/api/admin/agents'), loadGroups()]);
      this.#agents = agents;
      this.#groups = groups;
      this.#render();
      this.#createSlot.replaceChildren(this.#createForm());
    } catch (err) {
      if (err.status !== 401) this.#message.error(`The agents could not be loaded: ${err.message}`);
    }
  }

  #render() {
    const rows = [];
    for (const agent of this.#agents) {
      rows.push(this.#row(agent));
      if (agent.id === this.#editing) rows.push(this.#editRow(agent));
    }
    this.#tbody.replaceChildren(...rows);
  }

  #row(agent) {
    const self = agent.id === this.#account.id;
    const edit = h('button', {
      type: 'button',
      class: 'button',
      'aria-expanded': String(agent.id === this.#editing),
      onclick: () => {
        this.#editing = this.#editing === agent.id ? null : agent.id;
        this.#render();
      },
    }, 'Edit');
    const toggle = self ? null : h('button', {
      type: 'button',
      class: agent.disabled ? 'button' : 'button button--danger',
      testid: 'admin-agent-disable',
      onclick: (e) => this.#setDisabled(agent, !agent.disabled, e.currentTarget),
    }, agent.disabled ? 'Enable' : 'Disable');
    return h('tr', { dataset: { agentId: agent.id } },
      h('td', null, agent.name, self ? h('span', { class: 'muted', text: ' (you)' }) : null),
      h('td', { text: agent.email }),
      h('td', { text: [agent.role === 'admin' ? 'Admin' : 'Agent', agent.supervisor ? 'Supervisor' : '', agent.escalation ? 'Video escalation' : '']
        .filter(Boolean).join(' · ') }),
      h('td', { text: this.#groupNames(agent) }),
      h('td', { text: String(agent.chat_capacity ?? '') }),
      h('td', null, h('span', { class: agent.disabled ? 'tag tag--disabled' : 'tag tag--open', text: agent.disabled ? 'Disabled' : 'Active' })),
      h('td', { class: 'table__actions' }, edit, toggle));
  }

  async #setDisabled(agent, disabled, button) {
    button.disabled = true;
    this.#message.clear();
    try {
      this.#replace(await patch(`/api/admin/agents/${encodeURIComponent(agent.id)}`, { disabled }));
      this.#message.success(`${agent.name} is ${disabled ? 'disabled and signed out' : 'enabled again'}.`);
    } catch (err) {
      button.disabled = false;
      this.#message.error(err.message);
    }
  }

  #editRow(agent) {
    const fields = {
      name: field({ label: 'Name', name: 'name', value: agent.name, required: true }),
      role: field({ label: 'Role', name: 'role', kind: 'select', options: ROLES, value: agent.role }),
      chat_capacity: field({ label: 'Chat capacity', name: 'chat_capacity', type: 'number', min: '1', max: '50', value: String(agent.chat_capacity ?? 3) }),
      supervisor: checkbox({ label: 'Supervisor', name: 'supervisor', checked: Boolean(agent.supervisor), testid: 'admin-agent-supervisor',
        hint: SUPERVISOR_HINT }),
      escalation: checkbox({ label: ESCALATION_LABEL, name: 'escalation', checked: Boolean(agent.escalation), testid: 'admin-agent-escalation',
        hint: ESCALATION_HINT }),
      group_ids: this.#groups && checkboxes({
        label: 'Routing groups',
        name: 'group_ids',
        testid: 'admin-agent-groups',
        options: this.#groups.map((g) => [g.id, g.name]),
        values: agent.group_ids || [],
        hint: 'The agent answers the visitors of these groups\' sites. An agent is in at least one group.',
        emptyText: 'No group yet: create one in the Groups tab.',
      }),
      password: field({
        label: 'New password', name: 'password', type: 'password', autocomplete: 'new-password',
        hint: 'Leave empty to keep the current password. A new password signs the agent out everywhere.',
      }),
    };
    const message = formMessage();
    const save = h('button', { type: 'submit', class: 'button button--primary', testid: 'admin-save' }, 'Save');
    const cancel = h('button', { type: 'button', class: 'button', onclick: () => { this.#editing = null; this.#render(); } }, 'Cancel');
    if (!fields.group_ids) delete fields.group_ids;
    const { group_ids: groups, ...rest } = fields;
    const form = h('form', { class: 'inline-form', novalidate: true, 'aria-label': `Edit ${agent.name}` },
      h('div', { class: 'form-grid' }, Object.values(rest).map((f) => f.element)),
      groups ? groups.element : null,
      message.element,
      h('div', { class: 'form-actions' }, cancel, save));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      message.clear();
      if (!checkAgent(fields, message)) return;
      const changes = {};
      const name = fields.name.input.value.trim();
      const capacity = Number(fields.chat_capacity.input.value);
      if (name !== agent.name) changes.name = name;
      if (fields.role.input.value !== agent.role) changes.role = fields.role.input.value;
      if (capacity !== agent.chat_capacity) changes.chat_capacity = capacity;
      if (fields.supervisor.input.checked !== Boolean(agent.supervisor)) changes.supervisor = fields.supervisor.input.checked;
      if (fields.escalation.input.checked !== Boolean(agent.escalation)) changes.escalation = fields.escalation.input.checked;
      if (groups && !sameSet(groups.values(), agent.group_ids || [])) changes.group_ids = groups.values();
      if (fields.password.input.value) changes.password = fields.password.input.value;
      if (Object.keys(changes).length === 0) {
        this.#editing = null;
        this.#render();
        return;
      }
      save.disabled = true;
      try {
        const updated = await patch(`/api/admin/agents/${encodeURIComponent(agent.id)}`, changes);
        this.#editing = null;
        this.#replace(updated);
        this.#message.success(changes.password ? `${updated.name} is saved, with a new password.` : `${updated.name} is saved.`);
      } catch (err) {
        save.disabled = false;
        showSubmitError(fields, message, err);
      }
    });
    return h('tr', { class: 'table__edit' }, h('td', { colspan: '7' }, form));
  }

  #createForm() {
    const fields = {
      email: field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'off', required: true }),
      name: field({ label: 'Name', name: 'name', required: true }),
      password: field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'new-password', required: true }),
      role: field({ label: 'Role', name: 'role', kind: 'select', options: ROLES, value: 'agent' }),
      chat_capacity: field({ label: 'Chat capacity', name: 'chat_capacity', type: 'number', min: '1', max: '50', value: '3',
        hint: 'How many chats at once.' }),
      supervisor: checkbox({ label: 'Supervisor', name: 'supervisor', testid: 'admin-new-agent-supervisor', hint: SUPERVISOR_HINT }),
      escalation: checkbox({ label: ESCALATION_LABEL, name: 'escalation', testid: 'admin-new-agent-escalation', hint: ESCALATION_HINT }),
      group_ids: this.#groups && checkboxes({
        label: 'Routing groups',
        name: 'group_ids',
        testid: 'admin-agent-groups',
        options: this.#groups.map((g) => [g.id, g.name]),
        values: this.#groups.length === 1 ? [this.#groups[0].id] : [],
        hint: 'An agent is in at least one group.',
        emptyText: 'No group yet: create one in the Groups tab.',
      }),
    };
    if (!fields.group_ids) delete fields.group_ids;
    const message = formMessage();
    const submit = h('button', { type: 'submit', class: 'button button--primary', testid: 'admin-create-agent' }, 'Create agent');
    const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'new-agent-title' },
      h('h3', { id: 'new-agent-title', text: 'New agent' }),
      h('div', { class: 'form-grid' }, Object.values(fields).map((f) => f.element)),
      message.element,
      h('div', { class: 'form-actions' }, submit));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      message.clear();
      showFieldErrors(fields, {});
      if (!checkAgent(fields, message, { creating: true })) return;
      const body = {
        email: fields.email.input.value.trim(),
        name: fields.name.input.value.trim(),
        password: fields.password.input.value,
        role: fields.role.input.value,
        chat_capacity: Number(fields.chat_capacity.input.value),
        supervisor: fields.supervisor.input.checked,
        escalation: fields.escalation.input.checked,
      };
      if (fields.group_ids) body.group_ids = fields.group_ids.values();
      submit.disabled = true;
      try {
        const created = await post('/api/admin/agents', body);
        this.#agents.push(created);
        this.#render();
        form.reset();
        message.success(`${created.name} can now sign in with ${created.email}.`);
      } catch (err) {
        if (err.code === 'email_taken') {
          showFieldErrors(fields, {});
          fields.email.setError('An account already uses this email.');
        } else {
          showSubmitError(fields, message, err);
        }
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  #groupNames(agent) {
    if (!this.#groups) return '';
    const names = (agent.group_ids || []).map((id) => this.#groups.find((g) => g.id === id)?.name).filter(Boolean);
    return names.join(', ') || '—';
  }

  #replace(agent) {
    const i = this.#agents.findIndex((a) => a.id === agent.id);
    if (i >= 0) this.#agents[i] = agent;
    this.#render();
  }
}

/**
 * Checks an agent form before it is sent, with the API's rules (docs/api.md): marks each wrong field and says so in
 * message. Returns whether everything is right.
 */
function checkAgent(fields, message, { creating = false } = {}) {
  const errors = {};
  const name = fields.name.input.value.trim();
  if (!name || [...name].length > 80) errors.name = 'Enter a name of 1 to 80 characters.';
  const capacity = Number(fields.chat_capacity.input.value.trim());
  if (fields.chat_capacity.input.value.trim() === '' || !Number.isInteger(capacity) || capacity < 1 || capacity > 50) {
    errors.chat_capacity = 'Enter a whole number from 1 to 50.';
  }
  if (creating && !/^[^@\s]+@[^@\s]+$/.test(fields.email.input.value.trim())) errors.email = 'Enter an email address, like ana@example.com.';
  const password = fields.password.input.value;
  if ((creating || password) && password.length < 8) errors.password = 'Use at least 8 characters.';
  if (fields.group_ids && fields.role.input.value === 'agent' && fields.group_ids.values().length === 0) {
    errors.group_ids = 'An agent must be in at least one routing group.';
  }
  showFieldErrors(fields, errors);
  if (Object.keys(errors).length) message.error('Check the fields marked in red.');
  return Object.keys(errors).length === 0;
}

function sameSet(a, b) {
  return a.length === b.length && a.every((x) => b.includes(x));
}
