// TransferMenu: the "Transfer" button in the header of the agent's own chat, and the menu it opens. The agent gives
// the conversation to their group (the next free colleague takes it, before new visitors) or to a colleague by
// name (docs/protocol.md: the `colleagues` request and conversation.transfer's agent_id). The menu reads the
// colleagues each time it opens, so their availability and free slots are those of that moment; a colleague who
// can't take a chat now is shown, greyed, with the reason.

import { h } from '/static/shared/dom.js';
import { errorMessage } from '/static/shared/i18n.js';
import { t } from './i18n.js';

const STATUS = {
  available: 'Available',
  away: 'Away',
  offline: 'Offline',
  not_responding: 'Not responding',
};

export class TransferMenu {
  #client;
  #conversation = null; // the id the menu acts on
  #menu;
  #list;
  #message;
  #onDone;
  #onError;
  #open = false;
  #outside = (e) => {
    if (!this.element.contains(e.target)) this.close();
  };

  /** onDone(): the transfer was made. onError(text): it was refused, or the colleagues could not be read. */
  constructor({ client, onDone, onError }) {
    this.#client = client;
    this.#onDone = onDone;
    this.#onError = onError;
    this.button = h('button', {
      type: 'button', class: 'button', testid: 'transfer-conversation', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
      title: 'Hand this conversation to your group or to a colleague', onclick: () => (this.#open ? this.close() : this.#show()),
    }, 'Transfer');
    this.#message = h('p', { class: 'transfer-menu__message', hidden: true });
    this.#list = h('div', { class: 'transfer-menu__list' });
    this.#menu = h('div', { class: 'transfer-menu', testid: 'transfer-menu', role: 'menu', hidden: true,
      onkeydown: (e) => {
        if (e.key === 'Escape') {
          this.close();
          this.button.focus();
        }
      } },
    h('p', { class: 'transfer-menu__title', text: 'Transfer to' }),
    this.#item({ testid: 'transfer-to-group', name: 'Your group', detail: 'The next free colleague, before new visitors', agentId: '' }),
    this.#list, this.#message);
    this.element = h('div', { class: 'transfer' }, this.button, this.#menu);
  }

  /** Shows the button for the conversation id (null hides it, and closes the menu). */
  setConversation(id) {
    if (id !== this.#conversation) this.close();
    this.#conversation = id;
    this.element.hidden = !id;
  }

  close() {
    if (!this.#open) return;
    this.#open = false;
    this.#menu.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', this.#outside, true);
  }

  async #show() {
    const id = this.#conversation;
    if (!id) return;
    this.#open = true;
    this.#menu.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', this.#outside, true);
    this.#list.replaceChildren();
    this.#say('Loading your colleagues…');
    this.#menu.querySelector('button')?.focus();
    let colleagues;
    try {
      ({ colleagues } = await this.#client.request('colleagues', { conversation_id: id }));
    } catch (err) {
      if (this.#conversation === id) this.#say(`Your colleagues could not be listed: ${errorMessage(t, err)}`);
      return;
    }
    if (this.#conversation !== id || !this.#open) return;
    this.#say(colleagues.length ? '' : 'Nobody else is in this conversation’s group.');
    this.#list.replaceChildren(...colleagues.map((c) => this.#item({
      testid: 'transfer-to-agent', name: c.name, detail: describe(c), agentId: c.agent_id, disabled: !(c.free_slots > 0),
    })));
  }

  #item({ testid, name, detail, agentId, disabled = false }) {
    return h('button', { type: 'button', class: 'transfer-menu__item', role: 'menuitem', testid, disabled,
      dataset: agentId ? { agentId } : undefined, onclick: () => this.#transfer(agentId) },
    h('span', { class: 'transfer-menu__name', text: name }),
    h('span', { class: 'transfer-menu__detail', text: detail }));
  }

  async #transfer(agentId) {
    const id = this.#conversation;
    this.close();
    if (!id) return;
    this.button.disabled = true;
    try {
      const data = { conversation_id: id };
      if (agentId) data.agent_id = agentId;
      await this.#client.request('conversation.transfer', data);
      this.#onDone();
    } catch (err) {
      // 112: the colleague became unavailable or full since the menu was read; the server says which.
      const why = err.code === 112 && err.message ? `${err.message}.` : errorMessage(t, err);
      this.#onError(`The conversation could not be transferred: ${why}`);
    } finally {
      this.button.disabled = false;
    }
  }

  #say(text) {
    this.#message.textContent = text;
    this.#message.hidden = !text;
  }
}

// describe says whether a colleague can take the chat now, and if not, why.
function describe(c) {
  if (c.in_call) return 'In a video call';
  const status = STATUS[c.chat] || c.chat;
  if (c.chat !== 'available') return status;
  if (c.free_slots > 0) return `${status} · ${c.free_slots} free ${c.free_slots === 1 ? 'slot' : 'slots'}`;
  return `${status} · no free slot`;
}
