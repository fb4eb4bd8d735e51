// Toasts: short messages at the bottom of the desk that go away by themselves ("You missed a conversation").

import { h } from '/static/shared/dom.js';

const TOAST_MS = 7000;

export class Toasts {
  constructor() {
    this.element = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
  }

  /** kind: 'info' or 'warning'. */
  show(text, kind = 'info') {
    const toast = h('div', { class: `toast toast--${kind}`, testid: 'toast' },
      h('span', { text }),
      h('button', { type: 'button', class: 'toast__close', 'aria-label': 'Dismiss', onclick: () => toast.remove() }, '×'));
    this.element.append(toast);
    setTimeout(() => toast.remove(), TOAST_MS);
  }
}
