// VideoTile: one person's video in a call, shared by the widget and the desk. Its <video> is always muted (the other
// side's sound plays from its own <audio>), so the browser lets it play without a click. When that person's camera
// is off, a placeholder (their initials and "Camera off") covers the video instead of a frozen frame; when their
// microphone is off, a muted-mic badge shows.

import { h, icon } from './dom.js';

export class VideoTile {
  #video;
  #placeholder;
  #initials;
  #micOff;
  #stream = null;

  /**
   * testid: the <video>'s data-testid. label: its accessible name. mirror: flip it (one's own camera, as in a
   * mirror). cameraOffText, micOffText: the placeholder's and the badge's words. cameraOffTestid, micOffTestid:
   * their data-testid (the other side's tile only).
   */
  constructor({ testid, label, mirror = false, cameraOffText, micOffText, cameraOffTestid, micOffTestid, className = '' }) {
    this.#video = h('video', { testid, 'aria-label': label, playsinline: true, autoplay: true, muted: true });
    this.#video.muted = true;
    this.#initials = h('span', { class: 'video-tile__avatar', 'aria-hidden': 'true' });
    this.#placeholder = h('div', { class: 'video-tile__off', testid: cameraOffTestid, hidden: true },
      this.#initials, h('span', { class: 'video-tile__off-text', text: cameraOffText }));
    this.#micOff = h('span', { class: 'video-tile__mic-off', testid: micOffTestid, role: 'img', 'aria-label': micOffText,
      title: micOffText, hidden: true }, icon('mic_off', 16));
    this.element = h('div', { class: `video-tile${mirror ? ' video-tile--mirror' : ''} ${className}`.trim() },
      this.#video, this.#placeholder, this.#micOff);
  }

  get video() {
    return this.#video;
  }

  /** Shows stream (a MediaStream, or null). Tracks added to the same stream later are picked up by refresh(). */
  setStream(stream) {
    if (stream === this.#stream) return;
    this.#stream = stream;
    this.refresh();
  }

  /** Attaches the stream again, after its tracks changed. */
  refresh() {
    this.#video.srcObject = null;
    this.#video.srcObject = this.#stream;
    if (this.#stream) this.#video.play().catch(() => { /* played again at the next refresh */ });
  }

  /** Whether the camera shown here is on; off shows the placeholder. */
  setCamera(on) {
    this.#placeholder.hidden = on;
    this.element.dataset.camera = on ? 'on' : 'off';
  }

  setMic(on) {
    this.#micOff.hidden = on;
  }

  /** The name whose initials the placeholder shows. */
  setName(name) {
    this.#initials.textContent = initials(name);
  }
}

function initials(name) {
  const words = String(name || '').trim().split(/\s+/).filter(Boolean);
  return words.slice(0, 2).map((w) => [...w][0].toUpperCase()).join('') || '?';
}
