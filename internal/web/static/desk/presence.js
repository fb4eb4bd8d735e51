// Presence: the agent's availability per channel (docs/protocol.md: presence.set, the `presence` frame and the
// hello ack's `presence`). The server keeps it across reloads; a fresh login starts offline on both channels, so the
// desk says plainly when the agent can receive nothing.
//
// In the top bar, each channel is a toggle: pressed means available, not pressed means away. "Away" sets both
// channels away. The server sets the channels the agent was available on `not_responding` after a missed offer; the
// banner's "I'm back" makes them available again (or the agent chooses a status per channel).

import { h } from '/static/shared/dom.js';
import { errorMessage } from '/static/shared/i18n.js';
import { t } from './i18n.js';

const CHANNELS = [['chat', 'Chat'], ['video', 'Video']];
const STATUS_TEXT = { available: 'Available', away: 'Away', offline: 'Offline', not_responding: 'Not responding' };

export class Presence {
  #client;
  #agentId;
  #notify;
  #presence = null; // the last PRESENCE known; null before the first hello
  #connected = false;
  #busy = false;
  #toggles = new Map(); // channel → {button, status}
  #away;
  #bannerText;
  #turnOnChat;
  #back;

  /** notify(text) shows a refused change. */
  constructor({ client, agentId, notify }) {
    this.#client = client;
    this.#agentId = agentId;
    this.#notify = notify;

    for (const [channel, label] of CHANNELS) {
      const status = h('span', { class: 'presence__status' });
      const button = h('button', {
        type: 'button',
        class: 'presence__toggle',
        testid: `presence-${channel}`,
        'aria-pressed': 'false',
        title: `Available for ${label.toLowerCase()}: click to switch`,
        onclick: () => this.#set([channel], this.#status(channel) === 'available' ? 'away' : 'available'),
      }, h('span', { class: 'presence__dot', 'aria-hidden': 'true' }), h('span', { class: 'presence__label', text: label }), status);
      this.#toggles.set(channel, { button, status });
    }
    this.#away = h('button', {
      type: 'button',
      class: 'button button--quiet presence__away',
      testid: 'presence-away',
      title: 'Set chat and video away',
      onclick: () => this.#set(CHANNELS.map(([c]) => c), 'away'),
    }, 'Away');
    this.controls = h('div', { class: 'presence', role: 'group', 'aria-label': 'Your availability' },
      [...this.#toggles.values()].map((x) => x.button), this.#away);

    this.#bannerText = h('span');
    this.#turnOnChat = h('button', { type: 'button', class: 'button button--primary', testid: 'turn-on-chat',
      onclick: () => this.#set(['chat'], 'available') }, 'Turn on chat');
    // After a missed offer: every channel the server marked not responding becomes available again.
    this.#back = h('button', { type: 'button', class: 'button button--primary', testid: 'presence-back',
      onclick: () => this.#set(this.#notResponding(), 'available') }, 'I\'m back');
    this.banner = h('div', { class: 'presence-banner', testid: 'presence-banner', role: 'status', hidden: true },
      this.#bannerText, this.#turnOnChat, this.#back);
    this.#render();
  }

  /** A PRESENCE from the hello ack, an ack or a `presence` frame (frames about colleagues are ignored). */
  apply(presence) {
    if (!presence || (presence.agent_id && presence.agent_id !== this.#agentId)) return;
    this.#presence = { ...this.#presence, ...presence };
    this.#render();
  }

  setConnected(connected) {
    this.#connected = connected;
    this.#render();
  }

  #status(channel) {
    return (this.#presence && this.#presence[channel]) || 'offline';
  }

  #notResponding() {
    return CHANNELS.map(([c]) => c).filter((c) => this.#status(c) === 'not_responding');
  }

  async #set(channels, status) {
    if (this.#busy) return;
    this.#busy = true;
    this.#render();
    try {
      for (const channel of channels) {
        const ack = await this.#client.request('presence.set', { channel, status });
        if (ack.presence) this.apply(ack.presence);
        else this.apply({ [channel]: status });
      }
    } catch (err) {
      this.#notify(`Your availability could not be changed: ${errorMessage(t, err)}`);
    } finally {
      this.#busy = false;
      this.#render();
    }
  }

  #render() {
    const known = this.#presence !== null;
    const usable = this.#connected && !this.#busy;
    for (const [channel, { button, status }] of this.#toggles) {
      const value = known ? this.#status(channel) : 'unknown';
      button.setAttribute('aria-pressed', String(value === 'available'));
      button.dataset.status = value;
      button.disabled = !usable;
      status.textContent = STATUS_TEXT[value] || '…';
    }
    this.#away.disabled = !usable;

    const channels = CHANNELS.map(([c]) => this.#status(c));
    const missed = this.#notResponding();
    this.banner.hidden = !known || channels.includes('available');
    this.#back.hidden = !missed.length;
    this.#turnOnChat.hidden = missed.length > 0;
    this.#back.disabled = !usable;
    this.#turnOnChat.disabled = !usable;
    if (this.banner.hidden) return;
    if (missed.length) {
      const names = CHANNELS.filter(([c]) => missed.includes(c)).map(([, label]) => label.toLowerCase()).join(' and ');
      this.#bannerText.textContent = `You missed a conversation and are marked not responding for ${names}: nothing rings until you are back.`;
    } else if (channels.includes('away')) {
      this.#bannerText.textContent = 'You are away: turn on chat to receive conversations.';
    } else {
      this.#bannerText.textContent = 'You are offline: turn on chat to receive conversations.';
    }
  }
}
