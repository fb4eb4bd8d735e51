// The admin's Reports tab: the conversations of a period as a CSV file (GET /api/admin/conversations.csv), for a
// spreadsheet: site, visitor, agent, when, messages, the visitor's first message, rating and left e-mail address.

import { h } from '/static/shared/dom.js';

const DAY_MS = 24 * 3600 * 1000;
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

export class ReportsPanel {
  #from;
  #to;
  #link;
  #message;

  constructor() {
    const today = Date.now();
    this.#from = h('input', { type: 'date', testid: 'admin-export-from', value: isoDay(today - 6 * DAY_MS), oninput: () => this.#update() });
    this.#to = h('input', { type: 'date', testid: 'admin-export-to', value: isoDay(today), oninput: () => this.#update() });
    this.#link = h('a', { class: 'button button--primary', testid: 'admin-export-download', download: '' }, 'Download CSV');
    this.#message = h('p', { class: 'field__error', role: 'alert', hidden: true });
    this.element = h('section', { class: 'admin-section', 'aria-labelledby': 'reports-title' },
      h('div', { class: 'admin-section__header' }, h('h2', { id: 'reports-title', text: 'Reports' })),
      h('div', { class: 'card' },
        h('h3', { text: 'Conversations' }),
        h('p', { class: 'field__hint', text: 'The conversations opened in the period (days in UTC, both included), one line each: site, visitor, agent, when, how many messages, the visitor\'s first message, their rating and the e-mail address they left. At most 366 days at once.' }),
        h('div', { class: 'form-grid' },
          h('label', { class: 'field' }, h('span', { text: 'From' }), this.#from),
          h('label', { class: 'field' }, h('span', { text: 'To' }), this.#to)),
        this.#message,
        h('div', { class: 'form-actions form-actions--start' }, this.#link)));
    this.#update();
  }

  load() {}

  // The link follows the chosen days; days the server would refuse disable it, with the reason.
  #update() {
    const from = this.#from.value;
    const to = this.#to.value;
    let problem = '';
    if (!from || !to) problem = 'Choose both days.';
    else if (to < from) problem = 'The last day comes before the first.';
    else if ((Date.parse(to) - Date.parse(from)) / DAY_MS >= 366) problem = 'Choose at most 366 days.';
    this.#message.textContent = problem;
    this.#message.hidden = !problem;
    if (problem) {
      this.#link.removeAttribute('href');
      this.#link.setAttribute('aria-disabled', 'true');
    } else {
      this.#link.href = `/api/admin/conversations.csv?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
      this.#link.removeAttribute('aria-disabled');
    }
  }
}
