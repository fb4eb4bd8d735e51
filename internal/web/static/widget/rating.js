// RatingCard: once a conversation has ended, the visitor may rate it from 1 to 5, with an optional comment
// (docs/protocol.md: the `rating` request). It sits in the chatbox's "conversation ended" panel. Choosing a score
// shows the comment box and the Send button; after sending it says thank you. A conversation already rated (from
// this browser, or refused by the server as rated) shows the thanks only.

import { h } from '/static/shared/dom.js';

const MAX_COMMENT = 1000; // chat.MaxRatingComment; the server has the last word

export class RatingCard {
  #t;
  #onRate;
  #score = 0;
  #stars;
  #details;
  #comment;
  #send;
  #message;
  #ask;
  #thanks;

  /** onRate(score, comment): sends the rating; resolves once the server kept it, rejects with its error. */
  constructor({ t, onRate }) {
    this.#t = t;
    this.#onRate = onRate;
    this.#stars = [1, 2, 3, 4, 5].map((n) => h('button', {
      type: 'button', class: 'rating__star', testid: 'rating-star', 'aria-pressed': 'false', dataset: { score: String(n) },
      'aria-label': t('rating.star', { n }), title: t('rating.star', { n }), onclick: () => this.#choose(n),
    }, '★'));
    this.#comment = h('textarea', { class: 'rating__comment', testid: 'rating-comment', rows: '2', maxlength: String(MAX_COMMENT),
      'aria-label': t('rating.comment'), placeholder: t('rating.comment') });
    this.#send = h('button', { type: 'submit', class: 'button', testid: 'rating-send' }, t('rating.send'));
    this.#message = h('p', { class: 'rating__message', role: 'alert', hidden: true });
    this.#details = h('div', { class: 'rating__details', hidden: true }, this.#comment, this.#send);
    this.#ask = h('form', { class: 'rating__ask', onsubmit: (e) => { e.preventDefault(); this.#submit(); } },
      h('p', { class: 'rating__question', id: 'rating-question', text: t('rating.question') }),
      h('div', { class: 'rating__stars', role: 'group', 'aria-labelledby': 'rating-question' }, this.#stars),
      this.#details, this.#message);
    this.#thanks = h('p', { class: 'rating__thanks', testid: 'rating-thanks', hidden: true, text: t('rating.thanks') });
    this.element = h('div', { class: 'rating', testid: 'rating' }, this.#ask, this.#thanks);
  }

  /** A conversation just ended (rated: whether it was rated already). */
  reset(rated) {
    this.#score = 0;
    this.#comment.value = '';
    this.#details.hidden = true;
    this.#message.hidden = true;
    this.#send.disabled = false;
    this.#renderStars();
    this.#ask.hidden = rated;
    this.#thanks.hidden = !rated;
  }

  #choose(n) {
    this.#score = n;
    this.#renderStars();
    this.#details.hidden = false;
  }

  #renderStars() {
    for (const star of this.#stars) {
      const n = Number(star.dataset.score);
      star.setAttribute('aria-pressed', String(n === this.#score));
      star.classList.toggle('rating__star--on', n <= this.#score);
    }
  }

  async #submit() {
    if (!this.#score) return;
    this.#send.disabled = true;
    this.#message.hidden = true;
    try {
      await this.#onRate(this.#score, this.#comment.value.trim());
      this.reset(true);
    } catch (err) {
      if (err && err.code === 111) {
        // Rated already (in another tab), or no longer ratable: there is nothing more to ask.
        this.#ask.hidden = true;
        return;
      }
      this.#message.textContent = this.#t('rating.failed');
      this.#message.hidden = false;
      this.#send.disabled = false;
    }
  }
}
