// WaitingRoom: what the visitor sees while the distribution engine looks for an agent (docs/protocol.md, QUEUE). It
// sits in the chatbox above the input, and the chat keeps working meanwhile:
//   queued    "You are number N in line" and an honest estimated wait (a bucket, or "we can't estimate"), with
//             "Leave the queue"; when nobody is available (eta.reason "no_agent"), it says so and offers to leave a
//             message while keeping the place in line;
//   offered   "Connecting you to an agent…" (for a video call: the agent's desk is ringing, and the visitor may still
//             leave);
//   refused, expired   nobody can answer now: stay in the chat, or leave a message (an e-mail address to answer).
// It only draws what VisitorChat tells it (render); the requests are VisitorChat's.

import { h } from '/static/shared/dom.js';
import { field, formMessage } from '/static/shared/forms.js';
import { errorMessage } from '/static/shared/i18n.js';

const ETA_KEYS = { '<1': 'queue.eta_lt1', '<2': 'queue.eta_lt2', '<5': 'queue.eta_lt5', '<10': 'queue.eta_lt10', '10+': 'queue.eta_10plus' };
const MAX_BODY_CHARS = 4000;
// The browser's own check of type=email accepts "a@b"; a visitor's address needs a domain with a dot.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class WaitingRoom {
  #t;
  #lang; // the widget's language, for the opening time
  #room;
  #position;
  #eta;
  #roomText;
  #leave;
  #messageLink;
  #formOpen = false; // the visitor opened the message form while waiting with nobody available
  #busy;
  #busyTitle;
  #busyText;
  #form;
  #email;
  #body;
  #formMessage;
  #submit;
  #thanks;
  #thanksText;
  #view = {};

  /**
   * onLeaveQueue() and onLeaveMessage(email, body) return promises (a refusal rejects with a RealtimeError);
   * onDismiss(what) is called when the visitor closes the busy panel ('refused', 'expired' or 'thanks').
   */
  constructor({ t, lang, onLeaveQueue, onLeaveMessage, onDismiss }) {
    this.#t = t;
    this.#lang = lang;
    this.#position = h('p', { class: 'waiting-room__position', testid: 'queue-position' });
    this.#eta = h('p', { class: 'waiting-room__eta', testid: 'eta' });
    this.#roomText = h('p', { class: 'waiting-room__text' });
    this.#leave = h('button', { type: 'button', class: 'link-button', testid: 'leave-queue' }, t('queue.leave'));
    this.#leave.addEventListener('click', async () => {
      this.#leave.disabled = true;
      try {
        await onLeaveQueue();
      } finally {
        this.#leave.disabled = false;
      }
    });
    this.#messageLink = h('button', { type: 'button', class: 'link-button', testid: 'leave-message-open', hidden: true,
      onclick: () => this.#openForm(true) }, t('busy.leave_message'));
    this.#room = h('div', { class: 'waiting-room', testid: 'waiting-room', role: 'status', hidden: true },
      h('span', { class: 'waiting-room__pulse', 'aria-hidden': 'true' }),
      h('div', { class: 'waiting-room__body' }, this.#position, this.#eta, this.#roomText, this.#messageLink, this.#leave));

    this.#email = field({ label: t('busy.email'), name: 'email', type: 'email', required: true, autocomplete: 'email',
      testid: 'leave-message-email', placeholder: t('busy.email_placeholder') });
    this.#body = field({ label: t('busy.body'), name: 'body', kind: 'textarea', rows: '3', required: true,
      maxlength: String(MAX_BODY_CHARS), testid: 'leave-message-body' });
    this.#formMessage = formMessage();
    this.#submit = h('button', { type: 'submit', class: 'button', testid: 'leave-message-submit' }, t('busy.submit'));
    this.#form = h('form', { class: 'busy__form', testid: 'leave-message-form', novalidate: true, 'aria-label': t('busy.leave_message') },
      this.#email.element, this.#body.element, this.#formMessage.element,
      h('div', { class: 'busy__actions' },
        h('button', { type: 'button', class: 'button button--secondary', testid: 'stay-in-chat',
          onclick: () => (this.#formOpen ? this.#openForm(false) : onDismiss(this.#view.state)) },
        t('busy.stay')),
        this.#submit));
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.#sendMessage(onLeaveMessage);
    });

    this.#thanksText = h('p', { class: 'busy__thanks-text', testid: 'leave-message-thanks' });
    this.#thanks = h('div', { class: 'busy__thanks', role: 'status' }, this.#thanksText,
      h('button', { type: 'button', class: 'button button--secondary', onclick: () => onDismiss('thanks') }, t('busy.close')));
    this.#busyTitle = h('h2', { class: 'busy__title', id: 'busy-title' });
    this.#busyText = h('p', { class: 'busy__text' });
    this.#busy = h('section', { class: 'busy', testid: 'busy-panel', 'aria-labelledby': 'busy-title', hidden: true },
      this.#busyTitle, this.#busyText, this.#form, this.#thanks);

    this.element = h('div', { class: 'routing' }, this.#room, this.#busy);
  }

  /**
   * view: {state, position, eta, reason} of the current conversation's QUEUE (state null for none), plus video (the
   * visitor waits for a video call), leftQueue (the visitor left the queue from this page), contactEmail (a message
   * was left) and dismissed (what the visitor closed).
   */
  render(view) {
    this.#view = view;
    const { state, contactEmail, dismissed } = view;
    const t = this.#t;

    const waiting = state === 'queued' || state === 'offered' || (state === 'abandoned' && view.leftQueue);
    const noAgent = state === 'queued' && view.eta?.reason === 'no_agent';
    if (!noAgent) this.#formOpen = false;
    this.#room.hidden = !waiting;
    this.#room.dataset.state = state || '';
    this.#position.hidden = state !== 'queued';
    this.#eta.hidden = state !== 'queued';
    this.#leave.hidden = !(state === 'queued' || (state === 'offered' && view.video));
    this.#roomText.hidden = state === 'queued';
    this.#room.dataset.channel = view.video ? 'video' : 'chat';
    if (state === 'queued') {
      this.#position.textContent = view.position > 0 ? t('queue.position', { n: view.position }) : t('queue.in_line');
      const bucket = view.eta && view.eta.bucket;
      this.#eta.dataset.bucket = ETA_KEYS[bucket] ? bucket : 'unknown';
      this.#eta.dataset.reason = noAgent ? 'no_agent' : '';
      this.#eta.textContent = t(noAgent ? 'queue.eta_no_agent' : ETA_KEYS[bucket] || 'queue.eta_unknown');
    } else {
      const offered = view.video ? 'queue.ringing_video' : 'queue.connecting';
      this.#roomText.textContent = t(state === 'offered' ? offered : 'queue.left');
    }

    const busyState = state === 'refused' || state === 'expired';
    const showThanks = Boolean(contactEmail) && dismissed !== 'thanks' && state !== 'assigned';
    const waitingOffer = noAgent && this.#formOpen;
    const showOffer = !contactEmail && ((busyState && dismissed !== state) || waitingOffer);
    this.#messageLink.hidden = !noAgent || waitingOffer || Boolean(contactEmail);
    this.#busy.hidden = !showThanks && !showOffer;
    this.#busy.dataset.state = state || '';
    this.#busyTitle.hidden = !showOffer;
    this.#busyText.hidden = !showOffer;
    this.#form.hidden = !showOffer;
    this.#thanks.hidden = !showThanks;
    if (showOffer) {
      // Outside the opening hours: when the team is back, in the visitor's language and time zone.
      const closed = state === 'refused' && view.reason === 'closed';
      const opens = closed && Number.isFinite(view.opensAt) ? new Date(view.opensAt).toLocaleString(this.#lang || undefined,
        { weekday: 'long', hour: 'numeric', minute: '2-digit' }) : '';
      this.#busyTitle.textContent = t(closed ? 'busy.title_closed'
        : waitingOffer ? 'busy.title_waiting' : state === 'expired' ? 'busy.title_expired' : 'busy.title_refused');
      this.#busyText.textContent = closed
        ? t(opens ? 'busy.text_closed' : 'busy.text_closed_unknown', { when: opens })
        : t(waitingOffer ? 'busy.text_waiting' : 'busy.text');
    }
    if (showThanks) this.#thanksText.textContent = t('busy.thanks', { email: contactEmail });
  }

  // openForm opens or closes the message form offered while waiting with nobody available.
  #openForm(open) {
    this.#formOpen = open;
    this.render(this.#view);
    if (open) this.#email.input.focus();
  }

  async #sendMessage(onLeaveMessage) {
    const t = this.#t;
    this.#formMessage.clear();
    const email = this.#email.input.value.trim();
    const body = this.#body.input.value.trim();
    const emailOk = this.#email.input.checkValidity() && EMAIL_PATTERN.test(email);
    const bodyError = !body ? t('busy.body_empty') : [...body].length > MAX_BODY_CHARS ? errorMessage(t, { code: 104 }) : '';
    this.#email.setError(emailOk ? '' : t('busy.email_invalid'));
    this.#body.setError(bodyError);
    if (!emailOk || bodyError) {
      (emailOk ? this.#body : this.#email).input.focus();
      return;
    }
    this.#submit.disabled = true;
    try {
      await onLeaveMessage(email, body);
      this.#form.reset();
    } catch (err) {
      if (err.code === 100) {
        this.#email.setError(t('busy.email_invalid'));
        this.#email.input.focus();
      } else {
        this.#formMessage.error(errorMessage(t, err));
      }
    } finally {
      this.#submit.disabled = false;
    }
  }
}
