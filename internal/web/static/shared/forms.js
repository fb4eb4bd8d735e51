// Form fields with their error messages, for the desk and the admin app.

import { h } from './dom.js';

let nextFieldId = 1;

/**
 * A labelled field. kind: 'input' (default), 'textarea' or 'select' (options: [[value, label], …]).
 * Returns {element, input, setError(message)}; the error is tied to the input with aria-describedby.
 */
export function field({ label, name, kind = 'input', options = [], hint, ...attrs }) {
  const id = `field-${nextFieldId++}`;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const input = h(kind, { id, name, ...attrs, 'aria-describedby': [hintId, errorId].filter(Boolean).join(' ') },
    kind === 'select' ? options.map(([value, text]) => h('option', { value, text })) : null);
  const error = h('p', { class: 'field__error', id: errorId, hidden: true });
  return {
    element: h('div', { class: 'field' }, h('label', { for: id, text: label }), input,
      hint ? h('p', { class: 'field__hint', id: hintId, text: hint }) : null, error),
    input,
    setError(message) {
      error.textContent = message || '';
      error.hidden = !message;
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

/**
 * A group of checkboxes (options: [[value, label], …]; values: the checked ones) in a fieldset. Returns
 * {element, values(), setError(message)}, so that showFieldErrors can use it like a field.
 */
export function checkboxes({ label, name, options, values = [], hint, testid, emptyText = '' }) {
  const id = `field-${nextFieldId++}`;
  const checked = new Set(values);
  const inputs = options.map(([value]) => h('input', { type: 'checkbox', name, value, checked: checked.has(value) }));
  const error = h('p', { class: 'field__error', id: `${id}-error`, hidden: true });
  const element = h('fieldset', { class: 'field field--checks', testid, 'aria-describedby': `${id}-error` },
    h('legend', { text: label }),
    h('div', { class: 'checks' },
      options.length ? options.map(([, text], i) => h('label', { class: 'check' }, inputs[i], h('span', { text })))
        : h('p', { class: 'field__hint', text: emptyText })),
    hint ? h('p', { class: 'field__hint', text: hint }) : null,
    error);
  return {
    element,
    values: () => inputs.filter((input) => input.checked).map((input) => input.value),
    setError(message) {
      error.textContent = message || '';
      error.hidden = !message;
      if (message) element.setAttribute('aria-invalid', 'true');
      else element.removeAttribute('aria-invalid');
    },
  };
}

/** One labelled checkbox. Returns {element, input, setError(message)}. */
export function checkbox({ label, name, checked = false, hint, testid }) {
  const input = h('input', { type: 'checkbox', name, checked, testid });
  const error = h('p', { class: 'field__error', hidden: true });
  return {
    element: h('div', { class: 'field field--check' },
      h('label', { class: 'check' }, input, h('span', { text: label })),
      hint ? h('p', { class: 'field__hint', text: hint }) : null,
      error),
    input,
    setError(message) {
      error.textContent = message || '';
      error.hidden = !message;
    },
  };
}

/**
 * The whole number in field f's input, or null after showing an error (an empty number input would otherwise
 * read as 0).
 */
export function intValue(f, { min = 0 } = {}) {
  const text = f.input.value.trim();
  const n = Number(text);
  if (text === '' || !Number.isInteger(n) || n < min) {
    f.setError(min > 0 ? `Enter a whole number of at least ${min}.` : 'Enter a whole number (0 or more).');
    return null;
  }
  return n;
}

/** Shows a refused save: the API's field errors next to their fields, anything else in message. */
export function showSubmitError(fields, message, err) {
  const rest = showFieldErrors(fields, err.fields);
  if (!Object.keys(err.fields || {}).length || rest.length) message.error(rest.length ? rest.join(' ') : err.message);
}

/**
 * Shows an API error's `fields` map next to the fields (keys such as "allowed_origins.1" go to "allowed_origins").
 * Returns the messages that matched no field.
 */
export function showFieldErrors(fields, errors) {
  for (const f of Object.values(fields)) f.setError('');
  const unmatched = [];
  for (const [key, message] of Object.entries(errors || {})) {
    const name = key.split(/[.[]/)[0];
    const text = typeof message === 'string' ? message : String(message && message.message || message);
    if (fields[name]) fields[name].setError(text);
    else unmatched.push(`${key}: ${text}`);
  }
  return unmatched;
}

/** A line for a form's general outcome (role=alert for errors, status for success). */
export function formMessage() {
  const el = h('p', { class: 'form-message', hidden: true });
  return {
    element: el,
    error(text) {
      el.className = 'form-message form-message--error';
      el.setAttribute('role', 'alert');
      el.textContent = text;
      el.hidden = !text;
    },
    success(text) {
      el.className = 'form-message form-message--success';
      el.setAttribute('role', 'status');
      el.textContent = text;
      el.hidden = !text;
    },
    clear() {
      el.hidden = true;
      el.textContent = '';
    },
  };
}
