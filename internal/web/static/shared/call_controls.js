// The round buttons of a call (shared/call.css): toggles expose their state with aria-pressed, true meaning on
// (the camera sends, the microphone sends, the other side's sound plays, the video is enlarged). Their label stays
// the same whatever the state, as ARIA asks of toggle buttons.

import { h, icon } from './dom.js';

/** A toggle: iconOn shows while pressed, iconOff while not. */
export function toggleButton({ testid, label, iconOn, iconOff = iconOn, pressed = true, onclick }) {
  const on = icon(iconOn, 22);
  const off = icon(iconOff, 22);
  on.classList.add('icon-on');
  off.classList.add('icon-off');
  return h('button', { type: 'button', class: 'call-button', testid, 'aria-label': label, title: label,
    'aria-pressed': String(pressed), onclick }, on, off);
}

/** The red hang-up button. */
export function hangupButton({ testid = 'hangup', label, onclick }) {
  return h('button', { type: 'button', class: 'call-button call-button--hangup', testid, 'aria-label': label, title: label,
    onclick }, icon('hangup', 24));
}

export function setPressed(button, pressed) {
  button.setAttribute('aria-pressed', String(Boolean(pressed)));
}
