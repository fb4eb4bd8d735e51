// Typing notifications, both ways (see docs/protocol.md, the `typing` frame).

/**
 * TypingSender turns keystrokes into typing frames: true at the first keystroke (and again every refreshMs while
 * typing goes on, so the other side's indicator stays up), false after idleMs without a keystroke or on stop().
 */
export class TypingSender {
  #send;
  #idleMs;
  #refreshMs;
  #active = false;
  #lastSent = 0;
  #timer = null;

  /** send(typing) sends the frame; it may return false when it could not. */
  constructor(send, { idleMs = 3000, refreshMs = 2500 } = {}) {
    this.#send = send;
    this.#idleMs = idleMs;
    this.#refreshMs = refreshMs;
  }

  input() {
    const now = Date.now();
    if (!this.#active || now - this.#lastSent >= this.#refreshMs) {
      this.#active = this.#send(true) !== false;
      this.#lastSent = now;
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.stop(), this.#idleMs);
  }

  stop() {
    clearTimeout(this.#timer);
    if (!this.#active) return;
    this.#active = false;
    this.#send(false);
  }
}

/** TypingIndicator shows "… is typing" and hides it by itself if the "stopped" frame never comes. */
export class TypingIndicator {
  #timer = null;

  constructor(element, { timeoutMs = 6000 } = {}) {
    this.element = element;
    this.timeoutMs = timeoutMs;
    this.element.hidden = true;
  }

  set(typing, text) {
    clearTimeout(this.#timer);
    if (!typing) {
      this.element.hidden = true;
      return;
    }
    this.element.textContent = text;
    this.element.hidden = false;
    this.#timer = setTimeout(() => (this.element.hidden = true), this.timeoutMs);
  }
}
