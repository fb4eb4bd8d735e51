// ParentBridge: the frame's side of the postMessage contract with widget/loader.js.
//
// Parent → frame: {parley: 'init', open, page, identity}, {parley: 'open'}, {parley: 'page', page} (page: {url,
//                 title} of the page the widget is on, again whenever it changes), {parley: 'identify', identity}
//                 (identity: the signed-in visitor the site vouches for, {email, name, hash}, or null),
//                 {parley: 'invite.accept'}, {parley: 'invite.dismiss'} (the proactive invitation was opened, closed).
// Frame → parent: {parley: 'ready'}, {parley: 'minimize'}, {parley: 'unread', count},
//                 {parley: 'call', state} (the video call's state: 'queued', 'ringing', 'live', or null for none),
//                 {parley: 'layout', large} (the call window is enlarged: the frame grows),
//                 {parley: 'invite', invitation} (a proactive invitation {message, name} to show, or null).
//
// Only messages from window.parent are accepted. The frame learns the parent's origin from its first 'init' (the
// server's frame-ancestors policy already limits who can embed the frame) and from then on posts only to that
// origin, and accepts only that origin.

const LATEST_ONLY = new Set(['unread', 'call', 'layout']);

export class ParentBridge {
  #origin = null;
  #queue = [];
  #handlers = new Map();

  constructor() {
    this.embedded = window.parent !== window;
    if (!this.embedded) return;
    window.addEventListener('message', (e) => this.#receive(e));
    // 'ready' carries nothing, so it may go to any origin: it asks the loader for its 'init'.
    window.parent.postMessage({ parley: 'ready' }, '*');
  }

  on(type, fn) {
    this.#handlers.set(type, fn);
  }

  post(message) {
    if (!this.embedded) return;
    if (!this.#origin) {
      // Only the latest unread count, call state and layout matter.
      if (LATEST_ONLY.has(message.parley)) this.#queue = this.#queue.filter((m) => m.parley !== message.parley);
      this.#queue.push(message);
      return;
    }
    window.parent.postMessage(message, this.#origin);
  }

  #receive(e) {
    if (e.source !== window.parent) return;
    const data = e.data;
    if (!data || typeof data !== 'object' || typeof data.parley !== 'string') return;
    const ancestor = location.ancestorOrigins && location.ancestorOrigins[0];
    if (ancestor && e.origin !== ancestor) return;
    if (!this.#origin) {
      if (data.parley !== 'init') return;
      this.#origin = e.origin;
      for (const message of this.#queue.splice(0)) window.parent.postMessage(message, this.#origin);
    } else if (e.origin !== this.#origin) {
      return;
    }
    this.#handlers.get(data.parley)?.(data);
  }
}
