// Ringer: the ring of an incoming video call, a tone made with WebAudio (no sound file). Browsers only let a page
// play sound after a click or a key press on it, so unlock() is called at the agent's first gesture; before that the
// ring is silent, and the card and the browser notification still show the call.

const PERIOD_MS = 3000;
// Two short bursts of a two-frequency tone, like a desk phone.
const BURSTS = [{ at: 0, length: 0.4 }, { at: 0.6, length: 0.4 }];
const FREQUENCIES = [440, 480];
const VOLUME = 0.12;

export class Ringer {
  #ctx = null;
  #timer = null;

  /** Creates (or resumes) the audio context; call it from a user gesture. */
  unlock() {
    try {
      if (!this.#ctx) this.#ctx = new AudioContext();
      if (this.#ctx.state === 'suspended') this.#ctx.resume().catch(() => {});
    } catch { /* no WebAudio: the ring stays silent */ }
  }

  get ringing() {
    return this.#timer !== null;
  }

  start() {
    if (this.#timer !== null) return;
    this.#ring();
    this.#timer = setInterval(() => this.#ring(), PERIOD_MS);
  }

  stop() {
    clearInterval(this.#timer);
    this.#timer = null;
  }

  #ring() {
    // Without a gesture yet, a browser that trusts this site (it was used for calls before) may still allow sound.
    if (!this.#ctx || this.#ctx.state === 'suspended') this.unlock();
    const ctx = this.#ctx;
    if (!ctx || ctx.state !== 'running') return;
    const start = ctx.currentTime + 0.05;
    for (const burst of BURSTS) {
      const t0 = start + burst.at;
      const t1 = t0 + burst.length;
      const gain = ctx.createGain();
      // Short ramps in and out, so the tone doesn't click.
      gain.gain.setValueAtTime(0, t0);
      gain.gain.linearRampToValueAtTime(VOLUME, t0 + 0.02);
      gain.gain.setValueAtTime(VOLUME, t1 - 0.03);
      gain.gain.linearRampToValueAtTime(0, t1);
      gain.connect(ctx.destination);
      for (const frequency of FREQUENCIES) {
        const osc = ctx.createOscillator();
        osc.frequency.value = frequency;
        osc.connect(gain);
        osc.start(t0);
        osc.stop(t1);
      }
    }
  }
}
