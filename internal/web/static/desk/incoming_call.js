// IncomingCall: what makes a ringing video call (an `offer` with channel "video") hard to miss, on top of its card
// in desk/offers.js: a ring tone (desk/ringer.js), a browser notification, and a preview of the agent's own camera in
// the card, so the agent sees how they will appear before answering (the devices are asked for when the ring starts;
// a refusal is explained in the card).
//
// Browsers allow sound, and asking for notifications, only after a gesture on the page: both are unlocked at the
// agent's first click or key press. A refused notification permission changes nothing else.

import { h } from '/static/shared/dom.js';
import { mediaHelp } from '/static/shared/media_help.js';
import { VideoTile } from '/static/shared/video_tile.js';
import { Ringer } from './ringer.js';
import { t } from './i18n.js';

export class IncomingCall {
  #calls;
  #ringer = new Ringer();
  #ringing = new Map(); // offer_id → {tile, status, notification}
  #offMedia;

  /** calls: the desk's CallPanel, which owns the agent's devices. */
  constructor({ calls }) {
    this.#calls = calls;
    this.#offMedia = calls.onMedia(() => this.#renderPreviews());
    const unlock = () => {
      this.#ringer.unlock();
      askNotificationPermission();
      document.removeEventListener('pointerdown', unlock, true);
      document.removeEventListener('keydown', unlock, true);
    };
    document.addEventListener('pointerdown', unlock, true);
    document.addEventListener('keydown', unlock, true);
  }

  /** A video offer's card appeared: ring, notify, and add the preview to the card (before its actions). */
  attach(offer, card) {
    if (this.#ringing.has(offer.offer_id)) return;
    const tile = new VideoTile({ testid: 'self-preview', label: 'Your camera', mirror: true, cameraOffText: 'Camera off',
      micOffText: 'Microphone off', className: 'offer__preview' });
    const status = h('div', { class: 'offer__preview-status' });
    card.querySelector('.offer__actions')?.before(h('div', { class: 'offer__preview-box' }, tile.element, status));
    this.#ringing.set(offer.offer_id, { tile, status, notification: notify(offer) });
    this.#calls.holdPreview();
    this.#ringer.start();
    this.#renderPreviews();
  }

  /** The agent pressed Accept on the offer: its call connects in this tab. */
  accepting(offer) {
    this.#calls.expect(offer.conversation_id || (offer.conversation && offer.conversation.id));
  }

  /** The card went away; accepted: its call is about to go live. */
  detach(offerId, { accepted = false } = {}) {
    const entry = this.#ringing.get(offerId);
    if (!entry) return;
    this.#ringing.delete(offerId);
    entry.notification?.close();
    entry.tile.setStream(null);
    this.#calls.releasePreview({ accepted });
    if (this.#ringing.size === 0) this.#ringer.stop();
  }

  destroy() {
    for (const id of [...this.#ringing.keys()]) this.detach(id);
    this.#offMedia();
  }

  #renderPreviews() {
    const media = this.#calls.media;
    const { state, error } = this.#calls.mediaStatus;
    for (const { tile, status } of this.#ringing.values()) {
      tile.element.hidden = state === 'error';
      tile.setStream(media ? media.stream : null);
      tile.refresh();
      tile.setCamera(Boolean(media && media.camera));
      tile.setName('You');
      if (state === 'error') {
        status.replaceChildren(mediaHelp(t, error, () => this.#calls.retryMedia(), { retryTestid: 'preview-retry' }));
      } else if (state === 'starting') {
        status.replaceChildren(h('p', { class: 'offer__preview-text', text: 'Starting your camera and microphone…' }));
      } else {
        const text = media && !media.camera
          ? 'Your camera could not be started: the visitor will only hear you.'
          : 'Your camera: the visitor sees you once you accept.';
        status.replaceChildren(h('p', { class: 'offer__preview-text', text }));
      }
    }
  }
}

function askNotificationPermission() {
  try {
    if ('Notification' in window && Notification.permission === 'default') Notification.requestPermission()?.catch?.(() => {});
  } catch { /* notifications unavailable: the card and the ring remain */ }
}

// A system notification while the desk may be hidden behind other windows; a click brings the desk forward.
function notify(offer) {
  try {
    if (!('Notification' in window) || Notification.permission !== 'granted') return null;
    const s = offer.conversation || {};
    const n = new Notification('Incoming video call', {
      body: [s.visitor_label || 'A visitor', s.site_name].filter(Boolean).join(' · '),
      tag: `parley-offer-${offer.offer_id}`,
      requireInteraction: true,
    });
    n.onclick = () => {
      window.focus();
      n.close();
    };
    return n;
  } catch {
    return null; // some browsers only allow notifications from a service worker
  }
}
