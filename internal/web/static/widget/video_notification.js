// VideoNotification: the invitation to "Join the video conversation", in the chatbox above the input, shown while
// the server's `video` frame says video is available (widget/visitor_call.js decides). It looks the way the site's
// admin designed it in the notification builder (docs/protocol.md, NOTIFICATION): a compact button, or a card with
// a title, a text and a button. When the site's camera policy restricts the visitor's camera, it says that the
// camera isn't needed (CAMERA.reassurance). When this browser or page can't do video, it says so instead, and the
// chat goes on. The admin app's live preview (admin/notification_builder.js) draws it with this same class.
//
// Every text goes in with textContent: what an admin wrote is never read as HTML.

import { h, icon } from '/static/shared/dom.js';

const UNSUPPORTED_KEYS = {
  insecure: 'video.unsupported_insecure',
  no_webrtc: 'video.unsupported_no_webrtc',
  no_media: 'video.unsupported_no_media',
};

/**
 * The notification as the site designed it, in lang: {format: 'button' | 'card', texts: {title, text, button},
 * reassurance}. notification and camera are the `video` frame's NOTIFICATION and CAMERA (either may be absent). A
 * text the admin left empty is the widget's own, in the visitor's language; reassurance is null when the camera
 * policy doesn't restrict the camera.
 */
export function siteNotification(t, notification, camera, lang) {
  const texts = (notification && notification.texts && notification.texts[lang]) || {};
  const restricted = Boolean(camera) && (camera.allowed === false || camera.off_by_default === true);
  const reassurance = camera && camera.reassurance && typeof camera.reassurance === 'object' ? camera.reassurance[lang] : '';
  return {
    format: notification && notification.format === 'card' ? 'card' : 'button',
    texts: {
      title: texts.title || t('video.title'),
      text: texts.text || t('video.text'),
      button: texts.button || t('video.join'),
    },
    reassurance: restricted ? reassurance || t('video.reassurance') : null,
  };
}

export class VideoNotification {
  #t;
  #offer;
  #title;
  #text;
  #join;
  #reassurance;
  #unsupported;

  /** onJoin() when the visitor presses the button; onHide() when they close the invitation. */
  constructor({ t, onJoin, onHide }) {
    this.#t = t;
    this.#title = h('h2', { class: 'video-note__title', id: 'video-note-title' });
    this.#text = h('p', { class: 'video-note__text' });
    this.#reassurance = h('p', { class: 'video-note__reassurance', testid: 'camera-reassurance', hidden: true });
    this.#join = h('button', { type: 'button', class: 'button video-note__join', testid: 'join-video', onclick: onJoin },
      icon('camera', 18), h('span', { text: t('video.join') }));
    this.#offer = h('section', { class: 'video-note', testid: 'video-notification', hidden: true },
      h('button', { type: 'button', class: 'video-note__hide', 'aria-label': t('video.hide'), title: t('video.hide'), onclick: onHide },
        icon('close', 16)),
      this.#title, this.#text, this.#reassurance, this.#join);
    this.#unsupported = h('p', { class: 'video-unsupported', testid: 'video-unsupported', role: 'status', hidden: true });
    this.element = h('div', { class: 'video-offer' }, this.#offer, this.#unsupported);
  }

  /**
   * view: {show: 'offer' | 'unsupported' | null, unsupported: a webrtcSupport() reason, and for an offer the
   * siteNotification(): format, texts and reassurance (null: none)}.
   */
  render({ show, unsupported, format = 'button', texts = {}, reassurance = null }) {
    const t = this.#t;
    this.#offer.hidden = show !== 'offer';
    this.#unsupported.hidden = show !== 'unsupported';
    if (show === 'offer') {
      const card = format === 'card';
      this.#offer.dataset.format = card ? 'card' : 'button';
      this.#offer.classList.toggle('video-note--button', !card);
      this.#title.hidden = this.#text.hidden = !card;
      this.#title.textContent = texts.title || t('video.title');
      this.#text.textContent = texts.text || t('video.text');
      this.#join.lastElementChild.textContent = texts.button || t('video.join');
      // The compact button has no title on screen: the section is named by its button.
      if (card) {
        this.#offer.setAttribute('aria-labelledby', 'video-note-title');
        this.#offer.removeAttribute('aria-label');
      } else {
        this.#offer.setAttribute('aria-label', this.#join.lastElementChild.textContent);
        this.#offer.removeAttribute('aria-labelledby');
      }
      this.#reassurance.hidden = !reassurance;
      this.#reassurance.textContent = reassurance || '';
    } else if (show === 'unsupported') {
      this.#unsupported.textContent = t(UNSUPPORTED_KEYS[unsupported] || 'video.unsupported_no_webrtc');
    }
  }
}
