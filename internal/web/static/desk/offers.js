// Offers: conversations the distribution engine rings on this desk (docs/protocol.md: the `offer` and `offer.ended`
// frames, offer.accept and offer.decline, and the hello ack's `offers`). Each offer is a card with a countdown to its
// deadline; several may be stacked. The server enforces the deadline and says when an offer ends, so a card only
// goes away on `offer.ended`, on an answer, or when a new hello no longer lists it. A video offer also rings, with a
// preview of the agent's camera (desk/incoming_call.js).

import { h } from '/static/shared/dom.js';
import { errorMessage } from '/static/shared/i18n.js';
import { t } from './i18n.js';

const TICK_MS = 500;

// The testids of each channel's card and buttons (the video ones are the call's, DESIGN.md §5).
const KINDS = {
  chat: { card: 'incoming-chat', accept: 'accept-offer', decline: 'decline-offer', title: 'Incoming chat' },
  video: { card: 'incoming-call', accept: 'accept-call', decline: 'decline-call', title: 'Incoming video call' },
};

export class Offers {
  #client;
  #onAccepted;
  #notify;
  #incoming;
  #cards = new Map(); // offer_id → {offer, card, countdown, bar, error, buttons, total}
  #timer = null;

  /**
   * onAccepted(conversationId, summary) once an accept is acknowledged; notify(text, kind) for what happened to an
   * offer out of sight (it timed out, it was taken). incoming: the IncomingCall that rings video offers.
   */
  constructor({ client, onAccepted, notify, incoming = null }) {
    this.#client = client;
    this.#onAccepted = onAccepted;
    this.#notify = notify;
    this.#incoming = incoming;
    this.element = h('section', { class: 'offers', 'aria-label': 'Incoming conversations', 'aria-live': 'assertive', 'aria-relevant': 'additions' });
  }

  /** An `offer` frame. */
  add(offer) {
    if (!offer || !offer.offer_id || this.#cards.has(offer.offer_id)) return;
    const kind = KINDS[offer.channel] || KINDS.chat;
    const s = offer.conversation || {};
    const countdown = h('span', { class: 'offer__countdown', 'aria-hidden': 'true' });
    const bar = h('span', { class: 'offer__bar' });
    const error = h('p', { class: 'offer__error', role: 'alert', hidden: true });
    const accept = h('button', { type: 'button', class: 'button button--primary', testid: kind.accept, onclick: () => this.#answer(offer, true) }, 'Accept');
    const decline = h('button', { type: 'button', class: 'button', testid: kind.decline, onclick: () => this.#answer(offer, false) }, 'Decline');
    const card = h('article', {
      class: `offer offer--${offer.channel === 'video' ? 'video' : 'chat'}`,
      testid: kind.card,
      dataset: { offerId: offer.offer_id, conversationId: offer.conversation_id || s.id || '' },
      'aria-label': `${kind.title} from ${s.visitor_label || 'a visitor'}`,
    },
    h('header', { class: 'offer__header' }, h('span', { class: 'offer__kind', text: kind.title }), countdown),
    h('p', { class: 'offer__who' },
      h('strong', { text: s.visitor_label || 'Visitor' }),
      s.site_name ? h('span', { class: 'offer__site', text: ` · ${s.site_name}` }) : null),
    s.last_body ? h('p', { class: 'offer__last', text: s.last_body }) : null,
    h('span', { class: 'offer__track', 'aria-hidden': 'true' }, bar),
    error,
    h('div', { class: 'offer__actions' }, decline, accept));
    const total = Math.max(1000, Number(offer.deadline) - Date.now());
    this.#cards.set(offer.offer_id, { offer, card, countdown, bar, error, buttons: [accept, decline], total });
    this.element.append(card);
    if (offer.channel === 'video') this.#incoming?.attach(offer, card);
    this.#tick();
    if (!this.#timer) this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  /** An `offer.ended` frame. */
  end({ offer_id: id, reason }) {
    if (!this.#cards.has(id)) return;
    this.#remove(id);
    if (reason === 'timed_out') this.#notify('You missed a conversation: you are now \'not responding\'', 'warning');
    else if (reason === 'withdrawn') this.#notify('A conversation that was ringing was withdrawn.');
  }

  /** The hello ack's `offers`: the ones still ringing. Cards of offers that ended while disconnected go away. */
  reconcile(offers) {
    if (!Array.isArray(offers)) return;
    const live = new Set(offers.map((o) => o.offer_id));
    for (const id of [...this.#cards.keys()]) if (!live.has(id)) this.#remove(id);
    offers.forEach((o) => this.add(o));
  }

  async #answer(offer, accept) {
    const entry = this.#cards.get(offer.offer_id);
    if (!entry) return;
    entry.buttons.forEach((b) => (b.disabled = true));
    entry.error.hidden = true;
    if (accept && offer.channel === 'video') this.#incoming?.accepting(offer);
    try {
      const ack = await this.#client.request(accept ? 'offer.accept' : 'offer.decline', { offer_id: offer.offer_id });
      this.#remove(offer.offer_id, { accepted: accept });
      if (accept) this.#onAccepted(ack.conversation_id || offer.conversation_id, offer.conversation);
    } catch (err) {
      if (err.code === 111) {
        this.#remove(offer.offer_id);
        if (accept) this.#notify('This conversation is no longer available: the offer has ended.', 'warning');
        return;
      }
      if (!this.#cards.has(offer.offer_id)) return;
      entry.error.textContent = err.code === 112 ? 'You\'re at capacity: finish a conversation first.' : errorMessage(t, err);
      entry.error.hidden = false;
      entry.buttons.forEach((b) => (b.disabled = false));
    }
  }

  #remove(id, { accepted = false } = {}) {
    this.#cards.get(id)?.card.remove();
    this.#cards.delete(id);
    this.#incoming?.detach(id, { accepted });
    if (this.#cards.size === 0) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #tick() {
    const now = Date.now();
    for (const { offer, countdown, bar, total } of this.#cards.values()) {
      const left = Math.max(0, Number(offer.deadline) - now);
      countdown.textContent = `${Math.ceil(left / 1000)} s`;
      bar.style.width = `${Math.min(100, (left / total) * 100)}%`;
    }
  }
}
