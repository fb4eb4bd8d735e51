// ProactiveInvitations: the site's proactive invitations, on the frame's side (docs/api.md, "Proactive
// invitations"). The widget's config lists them ({id, url_contains, delay_seconds}). Once the visitor has been on
// a page whose address contains url_contains for delay_seconds, with no conversation under way and the chatbox
// closed, the widget asks the server whether to show it (POST /api/widget/invitations/{id}/show): only while an
// agent could take the chat. The loader then shows the message beside the launcher ({parley: 'invite'}).
//
// Opening it ('invite.accept') opens the chatbox, which shows the message while the visitor has written nothing;
// their first message then names the invitation, and the conversation starts with it. Each invitation is shown at
// most once to a visitor (remembered in localStorage), whatever they do with it.

import { storage } from '/static/shared/storage.js';

export class ProactiveInvitations {
  #site;
  #session;
  #bridge;
  #canShow;
  #onAccept;
  #list = [];
  #page = null;
  #timer = null;
  #shown = null; // {id, message, name}: beside the launcher now
  #accepted = null; // {id, message, name}: opened; its id goes with the first message
  #key;

  /**
   * canShow() says whether an invitation may show now (no conversation under way, the chatbox closed).
   * onAccept(invitation) is told when the visitor opens one ({id, message, name}).
   */
  constructor({ site, session, bridge, canShow, onAccept }) {
    this.#site = site;
    this.#session = session;
    this.#bridge = bridge;
    this.#canShow = canShow;
    this.#onAccept = onAccept;
    this.#key = `parley.invitations.${site}`;
    bridge.on('invite.accept', () => {
      if (!this.#shown) return;
      this.#accepted = this.#shown;
      this.#shown = null;
      this.#onAccept(this.#accepted);
    });
    bridge.on('invite.dismiss', () => {
      this.#shown = null;
    });
  }

  /** The invitations of the widget's config. */
  setInvitations(list) {
    this.#list = (Array.isArray(list) ? list : []).filter((i) => i && typeof i.id === 'string' &&
      typeof i.url_contains === 'string' && Number.isFinite(i.delay_seconds));
    this.#schedule();
  }

  /** The page the visitor is on ({url, title}); the time on it counts from now. */
  setPage(page) {
    if (this.#page && page && this.#page.url === page.url) return;
    this.#page = page;
    this.#schedule();
  }

  /** The invitation the visitor opened and has not answered yet, or null. */
  get accepted() {
    return this.#accepted;
  }

  /** The visitor's first message answered the opened invitation (or a conversation started otherwise). */
  answered() {
    this.#accepted = null;
  }

  /** A conversation started, or the chatbox opened: an invitation beside the launcher goes. */
  withdraw() {
    clearTimeout(this.#timer);
    if (!this.#shown) return;
    this.#shown = null;
    this.#bridge.post({ parley: 'invite', invitation: null });
  }

  #done() {
    const ids = storage.get(this.#key);
    return Array.isArray(ids) ? ids : [];
  }

  #schedule() {
    clearTimeout(this.#timer);
    if (this.#shown || this.#accepted || !this.#page || typeof this.#page.url !== 'string') return;
    const url = this.#page.url.toLowerCase();
    const done = this.#done();
    const next = this.#list.find((i) => !done.includes(i.id) && url.includes(i.url_contains.toLowerCase()));
    if (!next) return;
    this.#timer = setTimeout(() => this.#ask(next), Math.max(0, next.delay_seconds) * 1000);
  }

  async #ask(invitation) {
    if (!this.#canShow()) return;
    let answer = null;
    try {
      const { token } = await this.#session.ensure();
      const res = await fetch(`/api/widget/invitations/${encodeURIComponent(invitation.id)}/show?site=${encodeURIComponent(this.#site)}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}` },
        credentials: 'same-origin',
      });
      if (res.ok) answer = await res.json();
    } catch { /* not shown: nothing is lost */ }
    if (!answer || !answer.show || typeof answer.message !== 'string' || !this.#canShow()) return;
    storage.set(this.#key, [...this.#done(), invitation.id].slice(-50));
    this.#shown = { id: invitation.id, message: answer.message, name: typeof answer.name === 'string' ? answer.name : '' };
    this.#bridge.post({ parley: 'invite', invitation: { message: this.#shown.message, name: this.#shown.name } });
  }
}
