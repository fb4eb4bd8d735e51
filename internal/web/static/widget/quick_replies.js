// QuickReplies: the buttons under a bot's message (docs/protocol.md, "Bots"). Each is a button with
// data-testid="quick-reply" whose text is its label. Only the latest bot message's buttons can be used: they go as
// soon as anything newer is shown, or when the visitor answers. Choosing one sends the label as the visitor's message,
// with the quick reply's id.
//
// Labels come from the bot (and, for an external bot, from outside Parley): they are only ever set as text.

import { h } from '/static/shared/dom.js';

export class QuickReplies {
  #t;
  #onChoose;
  #groups = new Map(); // seq → the element holding that message's buttons
  #latest = 0;

  /** onChoose(id, label) sends the visitor's choice. */
  constructor({ t, onChoose }) {
    this.#t = t;
    this.#onChoose = onChoose;
  }

  /** The buttons for a conversation event (the Transcript's decorate hook), or null when it has none. */
  render(ev) {
    const choices = ev && ev.type === 'message' && ev.author === 'bot' && ev.data && ev.data.quick_replies;
    if (!Array.isArray(choices) || choices.length === 0) return null;
    const seq = Number(ev.seq);
    const group = h('div', { class: 'quick-replies', role: 'group', 'aria-label': this.#t('bot.choices') });
    for (const choice of choices) {
      if (!choice || typeof choice.label !== 'string' || typeof choice.id !== 'string') continue;
      group.append(h('button', {
        type: 'button',
        class: 'quick-reply',
        testid: 'quick-reply',
        text: choice.label,
        onclick: () => this.#choose(seq, choice),
      }));
    }
    this.#groups.set(seq, group);
    group.hidden = seq < this.#latest;
    return group;
  }

  /** An event numbered seq is shown: older buttons go. */
  shown(seq) {
    if (!(seq > this.#latest)) return;
    this.#latest = seq;
    for (const [s, group] of this.#groups) {
      if (s < seq) {
        group.remove();
        this.#groups.delete(s);
      }
    }
  }

  /** The visitor wrote something: the buttons they didn't use go. */
  clear() {
    for (const group of this.#groups.values()) group.remove();
    this.#groups.clear();
  }

  /** A new conversation starts: nothing is remembered. */
  reset() {
    this.clear();
    this.#latest = 0;
  }

  #choose(seq, choice) {
    const group = this.#groups.get(seq);
    if (group) for (const button of group.querySelectorAll('button')) button.disabled = true;
    if (this.#onChoose(choice.id, choice.label) !== false) this.clear();
    else if (group) for (const button of group.querySelectorAll('button')) button.disabled = false;
  }
}
