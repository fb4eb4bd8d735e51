// Escalation: "Escalate to video" in the agent's chats (docs/protocol.md, "Video calls": call.invite and INVITE).
// An agent whose account may escalate (the desk hello ack's account.can_escalate) invites the visitor of a chat
// assigned to them into a video call. The button is there only then, and not while an invitation waits, while the
// agent is in a call, or once the conversation is closed. Under the chat, the invitation's state: waiting for the
// visitor (with its expiry), the visitor getting ready in the lobby, declined, expired.
//
// When the visitor joins, the call is live with this agent at once, without ringing. desk/call_panel.js asks
// invitedCall() which calls came from an invitation, to connect them in the desk tab that sent it (or that shows the
// conversation, or else any tab of the agent). A bot's handover to video (an `auto` invitation) shows here the same
// way, without any click.

import { h, icon } from '/static/shared/dom.js';
import { errorMessage } from '/static/shared/i18n.js';
import { callRecord } from '/static/shared/call_events.js';
import { t } from './i18n.js';

const ACTIVE_CALL = new Set(['queued', 'ringing', 'live']);
const WAITING = new Set(['pending', 'accepted']);
const TICK_MS = 1000;
// The server ends an invitation at expires_at and says so; if its word was lost (a dropped socket), the desk stops
// waiting a little after.
const STALE_MS = 5000;

export class Escalation {
  #client;
  #accountId;
  #allowed = false;
  #invites = new Map(); // conversation id → {invite: its latest INVITE, before: the state before that}
  #sentHere = new Set(); // ids of the invitations this tab sent
  #calls = new Map(); // call id → conversation id: this agent's calls under way
  #errors = new Map(); // conversation id → why the last invitation could not be sent
  #view = { id: null, mine: false, closed: true };
  #sending = false;
  #timer = null;
  #shownKey = '';
  #inviteListeners = [];
  #message;
  #expiry;

  /** client: the RealtimeClient; accountId: the signed-in agent. */
  constructor({ client, accountId }) {
    this.#client = client;
    this.#accountId = accountId;
    /** The button, for the conversation's header. */
    this.button = h('button', { type: 'button', class: 'button', testid: 'escalate-video', hidden: true,
      title: 'Invite the visitor into a video call', onclick: () => this.#invite() },
    icon('camera', 18), h('span', { text: 'Escalate to video' }));
    // The message is a live region; the countdown beside it is not, so that it isn't read out every second.
    this.#message = h('span', { class: 'escalation__message', role: 'status' });
    this.#expiry = h('span', { class: 'escalation__expiry' });
    /** The invitation's state, above the reply box. */
    this.status = h('div', { class: 'escalation', hidden: true }, this.#message, ' ', this.#expiry);
  }

  /** The hello ack: the account's permission, the agent's calls under way and their invitations still waiting. */
  applyHello(data) {
    if (data.account && 'can_escalate' in data.account) this.#allowed = data.account.can_escalate === true;
    if (Array.isArray(data.calls)) {
      this.#calls.clear();
      for (const call of data.calls) this.applyCall(call);
    }
    if (Array.isArray(data.invites)) {
      for (const inv of data.invites) this.applyInvite(inv);
    }
    this.#render();
  }

  /** A `call.invite` frame (INVITE), or a call.invite ack's invite. */
  applyInvite(inv) {
    if (!inv || !inv.invite_id || !inv.conversation_id) return;
    if (inv.agent_id && inv.agent_id !== this.#accountId) return;
    const known = this.#invites.get(inv.conversation_id);
    if (known && known.invite.invite_id === inv.invite_id && known.invite.state === inv.state) return;
    // A late word about an earlier invitation doesn't replace a newer one that waits.
    if (known && known.invite.invite_id !== inv.invite_id && WAITING.has(known.invite.state) && !WAITING.has(inv.state)) return;
    const before = known && known.invite.invite_id === inv.invite_id ? known.invite.state : '';
    this.#invites.set(inv.conversation_id, { invite: inv, before });
    this.#errors.delete(inv.conversation_id);
    this.#render();
    for (const fn of this.#inviteListeners) fn(inv.conversation_id);
  }

  /** Calls fn(conversationId) when an invitation of the conversation changes state. */
  onInvite(fn) {
    this.#inviteListeners.push(fn);
  }

  /** Whether an invitation into video waits for the visitor of conversationId (sent, or accepted and not yet live). */
  inviting(conversationId) {
    const entry = this.#invites.get(conversationId);
    const inv = entry && entry.invite;
    return Boolean(inv) && WAITING.has(inv.state) && !stale(inv);
  }

  /** A `call` frame: while the agent is in a call, nobody is invited. */
  applyCall(call) {
    if (!call || !call.call_id || (call.agent_id && call.agent_id !== this.#accountId)) return;
    if (ACTIVE_CALL.has(call.state)) this.#calls.set(call.call_id, call.conversation_id);
    else this.#calls.delete(call.call_id);
    this.#render();
  }

  /** A conversation event: a call's end. */
  applyEvent(ev) {
    if (ev.type !== 'call_ended') return;
    const id = callRecord(ev).call_id;
    if (id && this.#calls.delete(id)) this.#render();
  }

  /** The conversation on screen: whether it is this agent's, and closed. */
  setConversation({ id, mine, closed }) {
    this.#view = { id, mine: Boolean(mine), closed: Boolean(closed) };
    this.#render();
  }

  /**
   * Whether conversationId's call comes from an invitation this desk heard of (accepted, or used by the call), and
   * whether this tab sent it: {sentHere}, or null.
   */
  invitedCall(conversationId) {
    const entry = this.#invites.get(conversationId);
    const inv = entry && entry.invite;
    if (!inv || (inv.state !== 'accepted' && inv.state !== 'used')) return null;
    return { sentHere: this.#sentHere.has(inv.invite_id), auto: Boolean(inv.auto) };
  }

  destroy() {
    clearInterval(this.#timer);
    this.#timer = null;
  }

  async #invite() {
    const id = this.#view.id;
    if (!id || this.#sending) return;
    this.#sending = true;
    this.#errors.delete(id);
    this.#render();
    try {
      const ack = await this.#client.request('call.invite', { conversation_id: id });
      if (ack.invite) {
        this.#sentHere.add(ack.invite.invite_id);
        this.applyInvite(ack.invite);
      }
    } catch (err) {
      let text;
      if (err.code === 110) {
        this.#allowed = false;
        text = 'You are not allowed to invite visitors into video calls. An admin can allow it.';
      } else if (err.code === 111) {
        text = 'An invitation is already waiting, or a video call is under way.';
      } else if (err.code === 105) {
        text = 'This conversation is not yours any more.';
      } else if (err.code === 106) {
        text = 'This conversation is closed.';
      } else {
        text = `The invitation could not be sent: ${errorMessage(t, err)}`;
      }
      this.#errors.set(id, text);
    } finally {
      this.#sending = false;
      this.#render();
    }
  }

  #render() {
    const { id, mine, closed } = this.#view;
    const open = Boolean(id) && mine && !closed;
    const entry = id ? this.#invites.get(id) : null;
    const inv = entry && entry.invite;
    const waiting = Boolean(id) && this.inviting(id);
    const inCall = this.#calls.size > 0;
    this.button.hidden = !this.#allowed || !open || waiting || inCall;
    this.button.disabled = this.#sending;

    // The state: an error, or the invitation's (nothing once its call started, or during a call).
    let kind = '';
    let text = '';
    const error = id && this.#errors.get(id);
    if (!open || [...this.#calls.values()].includes(id)) {
      kind = '';
    } else if (error) {
      kind = 'error';
      text = error;
    } else if (inv) {
      const state = waiting ? inv.state : stale(inv) ? 'expired' : inv.state;
      const wasAccepted = inv.state === 'accepted' || entry.before === 'accepted' || inv.auto;
      if (state === 'pending') {
        kind = 'pending';
        text = 'Waiting for the visitor to accept the video call…';
      } else if (state === 'accepted') {
        kind = 'accepted';
        text = inv.auto
          ? 'The bot handed this chat over to video: the visitor is getting ready to join…'
          : 'The visitor accepted: they are getting ready to join the video call…';
      } else if (state === 'declined') {
        kind = 'declined';
        text = 'The visitor declined the video call.';
      } else if (state === 'expired') {
        kind = 'expired';
        text = wasAccepted
          ? 'The invitation expired: the visitor did not join the video call in time.'
          : 'The invitation expired: the visitor did not answer.';
      }
    }
    const key = `${kind}|${text}`;
    if (key !== this.#shownKey) {
      this.#shownKey = key;
      this.status.hidden = !kind;
      this.status.dataset.state = kind;
      this.status.className = `escalation${kind ? ` escalation--${kind}` : ''}`;
      this.#message.setAttribute('role', kind === 'error' ? 'alert' : 'status');
      // The testid goes on the words a person reads: escalation-pending, -accepted, -declined, -expired, -error.
      this.#message.textContent = text;
      if (kind) this.#message.dataset.testid = `escalation-${kind}`;
      else delete this.#message.dataset.testid;
    }
    this.#tick(kind === 'pending' || kind === 'accepted' ? inv : null);
  }

  // The time left before the invitation expires, each second while it waits.
  #tick(inv) {
    if (!inv) {
      clearInterval(this.#timer);
      this.#timer = null;
      this.#expiry.textContent = '';
      return;
    }
    const left = Math.max(0, Math.ceil((Number(inv.expires_at) - Date.now()) / 1000));
    this.#expiry.textContent = Number(inv.expires_at) > 0 ? `Expires in ${formatLeft(left)}.` : '';
    if (!this.#timer) this.#timer = setInterval(() => this.#render(), TICK_MS);
  }
}

function stale(inv) {
  return Number(inv.expires_at) > 0 && Date.now() > Number(inv.expires_at) + STALE_MS;
}

function formatLeft(s) {
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
