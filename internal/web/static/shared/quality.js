// Quality tiers in the browser (docs/protocol.md, "Quality tiers"): the relay estimates each path's bandwidth and
// sends each side a call.quality frame with the target of the video it publishes. SenderQuality applies it to the
// video sender with setParameters (maxBitrate, scaleResolutionDownBy), and for "audio" stops sending video without
// stopping the camera. QualityIndicator shows a tier (data-testid="quality-indicator", data-tier).
//
// Hysteresis on top of the relay's own: the same target is never applied twice, a lower one is applied at once, and
// a higher one waits until MIN_UP_MS have passed since the last change (the relay already waits ~10 s before it
// raises a tier; this guards against frames that cross a reconnect).

import { h } from '/static/shared/dom.js';

const MIN_UP_MS = 3000;
const RANK = { audio: 0, low: 1, high: 2 };

export const TIERS = ['high', 'low', 'audio'];

export class SenderQuality {
  #sender;
  #track;
  #onChange;
  #tier = 'high';
  #key = 'high';
  #changedAt = 0;
  #pending = null;
  #timer = null;
  #closed = false;

  /**
   * sender(): the video RTCRtpSender, or null. track(): the camera track to send when video resumes (null when the
   * camera is off or not allowed). onChange({tier, peerTier}) runs after each change, for the indicator and banner.
   */
  constructor({ sender, track, onChange = () => {} }) {
    this.#sender = sender;
    this.#track = track;
    this.#onChange = onChange;
  }

  /** The tier applied now: 'high', 'low' or 'audio'. */
  get tier() {
    return this.#tier;
  }

  /** True while the tier is audio only: the camera may be on, but its track is not sent. */
  get paused() {
    return this.#tier === 'audio';
  }

  /** A call.quality frame for this side. */
  apply(d) {
    if (this.#closed || !d || !(d.tier in RANK)) return;
    this.peerTier = d.peer_tier in RANK ? d.peer_tier : this.peerTier || 'high';
    const key = `${d.tier}/${d.max_bitrate_kbps || 0}/${d.scale_resolution_down_by || 0}`;
    clearTimeout(this.#timer);
    this.#pending = null;
    if (key === this.#key) {
      this.#onChange({ tier: this.#tier, peerTier: this.peerTier });
      return;
    }
    const up = RANK[d.tier] > RANK[this.#tier];
    const wait = up ? this.#changedAt + MIN_UP_MS - Date.now() : 0;
    if (wait > 0) {
      this.#pending = d;
      this.#timer = setTimeout(() => this.#pending && this.#set(this.#pending, key), wait);
      return;
    }
    this.#set(d, key);
  }

  /** Stops any delayed change. */
  close() {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  async #set(d, key) {
    this.#pending = null;
    this.#key = key;
    this.#changedAt = Date.now();
    const was = this.#tier;
    this.#tier = d.tier;
    const sender = this.#sender();
    if (sender) {
      try {
        if (d.tier === 'audio') {
          if (sender.track) await sender.replaceTrack(null); // the camera keeps running: resuming is instant
        } else {
          const params = sender.getParameters();
          if (params.encodings && params.encodings.length > 0) {
            params.encodings[0].maxBitrate = Math.max(1, d.max_bitrate_kbps || 500) * 1000;
            params.encodings[0].scaleResolutionDownBy = Math.max(1, d.scale_resolution_down_by || 1);
            await sender.setParameters(params);
          }
          const track = this.#track();
          if (was === 'audio' && track && sender.track !== track) await sender.replaceTrack(track);
        }
      } catch (err) {
        console.warn('parley: applying the quality tier failed', err);
      }
    }
    if (!this.#closed) this.#onChange({ tier: this.#tier, peerTier: this.peerTier });
  }
}

/** A small badge for a tier: labels maps each tier to its text (and a title), for the widget's languages. */
export class QualityIndicator {
  #labels;

  constructor({ labels, className = '' }) {
    this.#labels = labels;
    this.element = h('span', { class: `quality-indicator ${className}`.trim(), testid: 'quality-indicator', role: 'status',
      dataset: { tier: 'high' } });
    this.set('high');
  }

  /** Shows tier ('high', 'low' or 'audio'): the worse of our own and the other side's, since both shape the call. */
  set(tier) {
    if (!(tier in RANK)) tier = 'high';
    this.element.dataset.tier = tier;
    this.element.textContent = this.#labels[tier] || tier;
    this.element.title = this.#labels[tier] || tier;
  }
}

/** The worse of two tiers. */
export function worseTier(a, b) {
  const ra = a in RANK ? RANK[a] : 2;
  const rb = b in RANK ? RANK[b] : 2;
  return ra <= rb ? (a in RANK ? a : 'high') : b;
}
