// The opening hours of a routing group (docs/api.md, GROUP hours), in the group's form: "Always open", or a time
// zone and, for each day, whether the group is open and from when to when. Outside them new conversations are not
// routed: the visitor is told when the team is back and may leave a message.

import { h } from '/static/shared/dom.js';

const DAYS = [['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'], ['fri', 'Friday'],
  ['sat', 'Saturday'], ['sun', 'Sunday']];
const WORKDAY = { open: '09:00', close: '18:00' };

function timeZones() {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
}

/**
 * A field for showFieldErrors: {element, setError, value()} where value() is the API's `hours` (null: always open)
 * or throws an Error saying what to fix.
 */
export function openingHours(hours) {
  const always = h('input', { type: 'checkbox', testid: 'admin-group-always-open', checked: !hours });
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const zones = timeZones();
  const zone = (hours && hours.timezone) || here;
  if (!zones.includes(zone)) zones.unshift(zone);
  const tz = h('select', { testid: 'admin-group-timezone', 'aria-label': 'Time zone' }, zones.map((z) => h('option', { value: z, text: z })));
  tz.value = zone;
  const days = DAYS.map(([key, name]) => {
    const set = hours && hours.days ? hours.days[key] : (key === 'sat' || key === 'sun' ? null : WORKDAY);
    const open = h('input', { type: 'checkbox', testid: `admin-group-day-${key}`, checked: Boolean(set) });
    const from = h('input', { type: 'time', testid: `admin-group-open-${key}`, value: (set || WORKDAY).open, 'aria-label': `${name} opens at` });
    const to = h('input', { type: 'time', testid: `admin-group-close-${key}`, value: (set || WORKDAY).close, 'aria-label': `${name} closes at` });
    const sync = () => {
      from.disabled = !open.checked;
      to.disabled = !open.checked;
    };
    open.addEventListener('change', sync);
    sync();
    return { key, open, from, to, row: h('tr', null,
      h('th', { scope: 'row' }, h('label', { class: 'check' }, open, h('span', { text: name }))),
      h('td', null, from), h('td', null, '–'), h('td', null, to)) };
  });
  const week = h('div', { class: 'hours__week' },
    h('label', { class: 'hours__zone' }, h('span', { text: 'Time zone' }), tz),
    h('table', { class: 'hours__days' }, h('tbody', null, days.map((d) => d.row))));
  const error = h('p', { class: 'field__error', hidden: true });
  const syncWeek = () => (week.hidden = always.checked);
  always.addEventListener('change', syncWeek);
  syncWeek();
  const element = h('fieldset', { class: 'field field--checks hours', testid: 'admin-group-hours' },
    h('legend', { text: 'Opening hours' }),
    h('label', { class: 'check' }, always, h('span', { text: 'Always open' })),
    week,
    h('p', { class: 'field__hint', text: 'Outside these hours new visitors are told when you are back and may leave a message; video is not offered.' }),
    error);
  return {
    element,
    setError(message) {
      error.textContent = message || '';
      error.hidden = !message;
    },
    value() {
      if (always.checked) return null;
      const out = { timezone: tz.value, days: {} };
      for (const d of days) {
        if (!d.open.checked) continue;
        if (!d.from.value || !d.to.value || d.from.value >= d.to.value) {
          throw new Error(`${DAYS.find(([k]) => k === d.key)[1]}: the opening time must come before the closing time.`);
        }
        out.days[d.key] = { open: d.from.value, close: d.to.value };
      }
      if (!Object.keys(out.days).length) throw new Error('Open at least one day, or choose "Always open".');
      return out;
    },
  };
}
