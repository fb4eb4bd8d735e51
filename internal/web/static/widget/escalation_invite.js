// EscalationInvite: an agent's invitation to move the chat into a video call (docs/protocol.md, "Video calls": the
// `call.invite` frame, INVITE, call.invite.answer, and the hello ack's `invite`). It sits in the chatbox above the
// input: "Ana invites you to a video call", with Accept and Decline. Accepting answers the server and opens the
// lobby (widget/visitor_call.js), whose "Join now" sends call.request with the invitation's id. Declining answers
// too, and the agent is told. An invitation that expires, is cancelled or leads to a call goes away.
//
// A bot's handover to video is an `auto` invitation, accepted from the start: the visitor goes straight to the lobby
// (once the chatbox is open and the page is in view, so that the camera doesn't start out of sight). After "Back to
// the chat", the card offers to join again until the invitation expires; "Not now" hides it (the server lets it
// expire, since only a waiting invitation can be answered).
//
// Invitations are shown whatever the `video` frame says: after a call, they are the only way back to video.

import { h, icon } from '/static/shared/dom.js';
import { errorMessage } from '/static/shared/i18n.js';

const WAITING = new Set(['pending', 'accepted']);
const UNSUPPORTED_KEYS = {
  insecure: 'video.unsupported_insecure',
  no_webrtc: 'video.unsupported_no_webrtc',
  no_media: 'video.unsupported_no_media',
};
// The server ends an invitation at expires_at and says so; without a word from it (a dropped socket), the card
// still goes a little after.
const STALE_MS = 5000;

export class EscalationInvite {
  #t;
  #client;
  #notice;
  #onJoin;
  #onChange;
  #invite = null; // the latest INVITE of the conversation shown
  #acceptedHere = new Set(); // invitations accepted from this page
  #dismissed = new Set(); // invitations declined or put aside on this page
  #autoOpened = new Set(); // auto invitations whose lobby already opened once
  #answering = false;
  #shown = false;
  #expiryTimer = null;
  #view = {};
  #title;
  #text;
  #reassurance;
  #unsupported;
  #accept;
  #acceptText;
  #decline;
  #declineText;
  #card;

  /**
   * client: the RealtimeClient. notice(text): a short message in the chatbox. onJoin(invite): open the lobby for
   * that accepted invitation. onChange(): whether the card shows changed (the launcher's badge follows it).
   */
  constructor({ t, client, notice, onJoin, onChange }) {
    this.#t = t;
    this.#client = client;
    this.#notice = notice;
    this.#onJoin = onJoin;
    this.#onChange = onChange;
    this.#title = h('h2', { class: 'escalation__title', id: 'escalation-title' });
    this.#text = h('p', { class: 'escalation__text' });
    this.#reassurance = h('p', { class: 'escalation__note', hidden: true });
    this.#unsupported = h('p', { class: 'escalation__note', hidden: true });
    this.#acceptText = h('span');
    this.#accept = h('button', { type: 'button', class: 'button', testid: 'accept-escalation', onclick: () => this.#acceptInvite() },
      icon('camera', 18), this.#acceptText);
    this.#declineText = h('span');
    this.#decline = h('button', { type: 'button', class: 'button button--secondary', testid: 'decline-escalation',
      onclick: () => this.#declineInvite() }, this.#declineText);
    this.#card = h('section', { class: 'escalation', testid: 'escalation-invite', 'aria-labelledby': 'escalation-title', hidden: true },
      this.#title, this.#text, this.#reassurance, this.#unsupported,
      h('div', { class: 'escalation__actions' }, this.#decline, this.#accept));
    // A live region: the card appearing is announced.
    this.element = h('div', { class: 'escalation-slot', 'aria-live': 'polite' }, this.#card);
  }

  /** Whether the card shows (the visitor is asked). */
  get shown() {
    return this.#shown;
  }

  /** A `call.invite` frame, or the hello ack's `invite` (null: no invitation waits; convId: the conversation shown). */
  apply(inv, convId) {
    if (inv === null) {
      if (this.#invite && WAITING.has(this.#invite.state)) this.#invite = null;
      return;
    }
    if (!inv || !inv.invite_id || !convId || inv.conversation_id !== convId) return;
    const known = this.#invite;
    // A late word about an earlier invitation doesn't hide a newer one.
    if (known && known.invite_id !== inv.invite_id && WAITING.has(known.state) && !WAITING.has(inv.state)) return;
    this.#invite = inv;
  }

  /** The invitation waiting in conversation convId (pending, or accepted and not yet joined), or null. */
  waiting(convId) {
    const inv = this.#invite;
    return inv && inv.conversation_id === convId && WAITING.has(inv.state) && !stale(inv) ? inv : null;
  }

  /** Whether inv (the lobby's invitation) has ended without a call: its lobby closes. */
  ended(inv) {
    const now = this.#invite;
    if (!inv) return false;
    if (now && now.invite_id === inv.invite_id) return !WAITING.has(now.state) && now.state !== 'used';
    return stale(inv);
  }

  /**
   * view: {convId, ended (the conversation), busy (the lobby or a call is open), open (the chatbox is open),
   * unsupported (a webrtcSupport() reason, '' when video works), reassurance (text, or null)}.
   */
  render(view) {
    this.#view = view;
    const t = this.#t;
    const inv = view.ended ? null : this.waiting(view.convId);
    const id = inv && inv.invite_id;
    const asked = Boolean(inv) && (inv.state === 'pending' || inv.auto || this.#acceptedHere.has(id));
    const show = asked && !view.busy && !this.#dismissed.has(id);
    this.#card.hidden = !show;
    this.#card.dataset.auto = String(Boolean(inv && inv.auto));
    this.#card.dataset.state = inv ? inv.state : '';
    this.#scheduleExpiry(inv);
    if (show) {
      const name = inv.agent_name;
      const accepted = inv.state === 'accepted';
      if (accepted) {
        this.#title.textContent = name ? t('invite.ready_title', { name }) : t('invite.ready_title_someone');
        this.#text.textContent = t('invite.ready_text');
        this.#acceptText.textContent = t('invite.join');
        this.#declineText.textContent = t('invite.not_now');
      } else {
        this.#title.textContent = name ? t('invite.title', { name }) : t('invite.title_someone');
        this.#text.textContent = t('invite.text');
        this.#acceptText.textContent = t('invite.accept');
        this.#declineText.textContent = t('invite.decline');
      }
      this.#reassurance.hidden = !view.reassurance;
      this.#reassurance.textContent = view.reassurance || '';
      this.#unsupported.hidden = !view.unsupported;
      this.#unsupported.textContent = view.unsupported ? t(UNSUPPORTED_KEYS[view.unsupported] || 'video.unsupported_no_webrtc') : '';
      this.#accept.hidden = Boolean(view.unsupported);
      this.#accept.disabled = this.#decline.disabled = this.#answering;
    }
    if (show !== this.#shown) {
      this.#shown = show;
      queueMicrotask(() => this.#onChange());
    }
    // A bot's handover: straight to the lobby, once the visitor can see it.
    if (show && inv.auto && !this.#autoOpened.has(id) && !view.unsupported && view.open && document.visibilityState !== 'hidden') {
      this.#autoOpened.add(id);
      queueMicrotask(() => this.#onJoin(inv));
    }
  }

  async #acceptInvite() {
    const inv = this.waiting(this.#view.convId);
    if (!inv || this.#answering || this.#view.unsupported) return;
    if (inv.state === 'accepted') {
      this.#onJoin(inv);
      return;
    }
    this.#answering = true;
    this.#acceptedHere.add(inv.invite_id); // the `accepted` frame may come before the ack
    this.#rerender();
    try {
      const ack = await this.#client.request('call.invite.answer', { invite_id: inv.invite_id, accept: true });
      const next = ack.invite && ack.invite.invite_id === inv.invite_id ? ack.invite : { ...inv, state: 'accepted' };
      if (!this.#invite || this.#invite.invite_id === inv.invite_id) this.#invite = next;
      this.#answering = false;
      this.#onJoin(next);
    } catch (err) {
      this.#acceptedHere.delete(inv.invite_id);
      if (err.code === 111 || err.code === 105) {
        this.#dismissed.add(inv.invite_id);
        this.#notice(this.#t('invite.gone'));
      } else {
        this.#notice(errorMessage(this.#t, err));
      }
    } finally {
      this.#answering = false;
      this.#rerender();
    }
  }

  async #declineInvite() {
    const inv = this.waiting(this.#view.convId);
    if (!inv || this.#answering) return;
    this.#dismissed.add(inv.invite_id);
    this.#rerender();
    if (inv.state !== 'pending') return; // accepted: only a waiting invitation can be answered; it expires
    try {
      await this.#client.request('call.invite.answer', { invite_id: inv.invite_id, accept: false });
    } catch (err) {
      if (err.code === 111 || err.code === 105) return; // it had ended anyway
      this.#dismissed.delete(inv.invite_id); // the agent still waits: the visitor may answer again
      this.#notice(errorMessage(this.#t, err));
      this.#rerender();
    }
  }

  #rerender() {
    this.render(this.#view);
  }

  // The card goes when its invitation is past its time, even without the server's word.
  #scheduleExpiry(inv) {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = null;
    if (!inv || !Number(inv.expires_at)) return;
    const left = Number(inv.expires_at) + STALE_MS - Date.now();
    if (left > 0) this.#expiryTimer = setTimeout(() => this.#rerender(), Math.min(left + 50, 2 ** 31 - 1));
  }
}

function stale(inv) {
  return Number(inv.expires_at) > 0 && Date.now() > Number(inv.expires_at) + STALE_MS;
}
