// VideoNotification: the invitation to "Join the video conversation", in the chatbox above the input, shown while
// the server's `video` frame says video is available (widget/visitor_call.js decides). When the site's camera
// policy restricts the visitor's camera, it says that the camera isn't needed. When this browser or page can't do
// video, it says so instead, and the chat goes on.

import { h, icon } from '/static/shared/dom.js';

const UNSUPPORTED_KEYS = {
  insecure: 'video.unsupported_insecure',
  no_webrtc: 'video.unsupported_no_webrtc',
  no_media: 'video.unsupported_no_media',
};

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
    this.#offer = h('section', { class: 'video-note', testid: 'video-notification', 'aria-labelledby': 'video-note-title', hidden: true },
      h('button', { type: 'button', class: 'video-note__hide', 'aria-label': t('video.hide'), title: t('video.hide'), onclick: onHide },
        icon('close', 16)),
      this.#title, this.#text, this.#reassurance, this.#join);
    this.#unsupported = h('p', { class: 'video-unsupported', testid: 'video-unsupported', role: 'status', hidden: true });
    this.element = h('div', { class: 'video-offer' }, this.#offer, this.#unsupported);
  }

  /**
   * view: {show: 'offer' | 'unsupported' | null, unsupported: a webrtcSupport() reason, reassurance: the text to
   * show (null: none), texts: the admin's {title, text, button} when the server sent them}.
   */
  render({ show, unsupported, reassurance, texts = {} }) {
    const t = this.#t;
    this.#offer.hidden = show !== 'offer';
    this.#unsupported.hidden = show !== 'unsupported';
    if (show === 'offer') {
      this.#title.textContent = texts.title || t('video.title');
      this.#text.textContent = texts.text || t('video.text');
      this.#join.lastElementChild.textContent = texts.button || t('video.join');
      this.#reassurance.hidden = !reassurance;
      this.#reassurance.textContent = reassurance || '';
    } else if (show === 'unsupported') {
      this.#unsupported.textContent = t(UNSUPPORTED_KEYS[unsupported] || 'video.unsupported_no_webrtc');
    }
  }
}
