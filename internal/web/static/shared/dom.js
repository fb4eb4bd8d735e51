// DOM helpers shared by the widget, the desk and the admin app.
//
// Text always goes in through text nodes or textContent: nothing anyone typed is ever parsed as HTML.

/**
 * Creates an element. props: `class`, `text`, `testid` (data-testid), `dataset`, `value`/`checked` (set as
 * properties), `onclick`-style listeners, and any other attribute (true means present, false/null means absent).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  let value;
  for (const [key, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (key === 'class') el.className = v;
    else if (key === 'text') el.textContent = v;
    else if (key === 'testid') el.dataset.testid = v;
    else if (key === 'dataset') Object.assign(el.dataset, v);
    else if (key === 'value') value = v;
    else if (key === 'checked') el.defaultChecked = el.checked = true; // the default survives form.reset()
    else if (key.startsWith('on') && typeof v === 'function') el.addEventListener(key.slice(2), v);
    else el.setAttribute(key, v === true ? '' : String(v));
  }
  append(el, children);
  // After the children, so that a <select> already has the option to select. The default value makes
  // form.reset() come back to it.
  if (value !== undefined) {
    if (tag === 'input' || tag === 'textarea') el.defaultValue = value;
    el.value = value;
  }
  return el;
}

/** Appends nodes and strings (as text) to el, skipping null, undefined and false. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

// 24×24 single-path icons.
const ICONS = {
  send: 'M3.4 20.4 21.5 12 3.4 3.6 3.4 10.1 16 12 3.4 13.9z',
  minimize: 'M7.4 8.6 12 13.2l4.6-4.6L18 10l-6 6-6-6z',
  close: 'M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z',
  chat: 'M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z',
};

/** An inline SVG icon, hidden from assistive technology (the control around it carries the label). */
export function icon(name, size = 20) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', ICONS[name]);
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  return svg;
}

/** Formats an epoch-milliseconds time: the hour for today, the date and hour before. */
export function formatTime(ms, lang) {
  if (!Number.isFinite(ms)) return '';
  const date = new Date(ms);
  const today = new Date();
  const sameDay = date.toDateString() === today.toDateString();
  const options = sameDay
    ? { hour: 'numeric', minute: '2-digit' }
    : { day: 'numeric', month: 'short', hour: 'numeric', minute: '2-digit' };
  return new Intl.DateTimeFormat(lang || undefined, options).format(date);
}
