// CallTab: which browser tab holds a call's media. The server sends a call's frames (and, in the hello ack, the call
// under way) to every tab of the visitor or the agent, and the relay keeps one leg per side: a tab that connected on
// its own would take the call away from the tab the person is using. So only the tab that joined (or answered) the
// call connects, and comes back to it after a reload or, in the widget, on the site's next page: sessionStorage is
// per tab and survives both. Other tabs offer to move the call to them; the tab it leaves hears of it on a
// BroadcastChannel and lets go of its camera.

export class CallTab {
  #key;
  #channel = null;
  #movedListeners = new Set();
  #id = Math.random().toString(36).slice(2);

  constructor(key) {
    this.#key = key;
    try {
      this.#channel = new BroadcastChannel(key);
      this.#channel.onmessage = (e) => {
        const d = e.data;
        if (d && d.type === 'claimed' && d.tab !== this.#id) this.#movedListeners.forEach((fn) => fn(d.callId));
      };
    } catch { /* no BroadcastChannel: the tab left behind finds out when its connection fails */ }
  }

  /** Whether this tab holds callId. Without sessionStorage (blocked storage), every tab does, as before. */
  holds(callId) {
    try {
      return sessionStorage.getItem(this.#key) === callId;
    } catch {
      return true;
    }
  }

  /** This tab takes callId (the other tabs' onMoved listeners hear of it). */
  claim(callId) {
    try {
      if (sessionStorage.getItem(this.#key) === callId) return;
      sessionStorage.setItem(this.#key, callId);
    } catch { /* storage refused: holds() says yes anyway */ }
    this.#channel?.postMessage({ type: 'claimed', callId, tab: this.#id });
  }

  release(callId) {
    try {
      if (!callId || sessionStorage.getItem(this.#key) === callId) sessionStorage.removeItem(this.#key);
    } catch { /* storage refused: nothing to release */ }
  }

  /** fn(callId) when another tab takes callId. */
  onMoved(fn) {
    this.#movedListeners.add(fn);
  }
}
