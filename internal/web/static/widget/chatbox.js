// Chatbox: the widget's chat window (its DOM only; widget/visitor_chat.js holds the conversation logic).

import { h, icon } from '/static/shared/dom.js';
import { TypingIndicator } from '/static/shared/typing.js';
import { acceptFiles, attachButton } from '/static/shared/attachments.js';

const STATUS_DELAY_MS = 1500; // a short reconnect shows nothing
const NOTICE_MS = 8000;

export class Chatbox {
  #t;
  #input;
  #send;
  #title;
  #subtitle;
  #status;
  #statusTimer = null;
  #wasOpen = false;
  #notice;
  #noticeTimer = null;
  #ended;
  #typing;
  #attach;

  /**
   * transcript: a shared/transcript.js Transcript. onSend(text) returns true when it took the text (the input is
   * then cleared). onInput() is called on each keystroke; onMinimize and onNewConversation on those buttons.
   * panels: elements shown between the transcript and the input (the video invitation, the waiting room). stage:
   * an element above the transcript (the video call), beside the chat when the layout is large. rating: shown once
   * the conversation has ended, above "Start a new conversation" (widget/rating.js). onFiles(files) gets the files
   * the visitor picks with the paperclip, pastes or drops (once setFileLimit said files are taken).
   */
  constructor({ t, transcript, embedded, onSend, onInput, onMinimize, onNewConversation, onFiles, panels = [], stage = null, rating = null }) {
    this.#t = t;
    this.#attach = attachButton({ t, onFiles });
    this.#title = h('h1', { class: 'chatbox__title', text: t('chat.title') });
    this.#subtitle = h('p', { class: 'chatbox__subtitle', text: t('chat.subtitle') });
    const minimize = embedded
      ? h('button', {
          type: 'button',
          class: 'icon-button',
          testid: 'minimize',
          'aria-label': t('chat.minimize'),
          title: t('chat.minimize'),
          onclick: onMinimize,
        }, icon('minimize', 24))
      : null;

    this.#status = h('div', { class: 'chatbox__status', role: 'status', hidden: true });
    this.#typing = new TypingIndicator(h('div', { class: 'chatbox__typing', testid: 'typing-indicator', 'aria-live': 'polite' }));
    this.#notice = h('div', { class: 'chatbox__notice', role: 'alert', hidden: true });

    this.#ended = h(
      'div',
      { class: 'chatbox__ended', hidden: true },
      h('p', { text: t('chat.ended') }),
      rating,
      h('button', { type: 'button', class: 'button', testid: 'new-conversation', onclick: onNewConversation }, t('chat.new_conversation')),
    );

    this.#input = h('textarea', {
      class: 'composer__input',
      testid: 'message-input',
      rows: '1',
      'aria-label': t('chat.input_label'),
      placeholder: t('chat.placeholder'),
      oninput: () => {
        this.#autosize();
        onInput();
      },
      onkeydown: (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
          e.preventDefault();
          form.requestSubmit();
        }
      },
    });
    this.#send = h('button', {
      type: 'submit',
      class: 'composer__send',
      testid: 'send-message',
      'aria-label': t('chat.send'),
      title: t('chat.send'),
    }, icon('send', 22));
    const form = h('form', {
      class: 'composer',
      onsubmit: (e) => {
        e.preventDefault();
        if (onSend(this.#input.value)) {
          this.#input.value = '';
          this.#autosize();
        }
        this.#input.focus();
      },
    }, this.#attach.elements, this.#input, this.#send);

    this.element = h(
      'section',
      { class: 'chatbox', testid: 'chatbox', 'aria-label': t('chat.title') },
      h('header', { class: 'chatbox__header' }, h('div', { class: 'chatbox__heading' }, this.#title, this.#subtitle), minimize),
      this.#status,
      h('div', { class: 'chatbox__body' },
        stage,
        h('div', { class: 'chatbox__chat' },
          transcript.element,
          this.#typing.element,
          this.#notice,
          panels,
          this.#ended,
          form)),
    );
    acceptFiles(this.element, { onFiles, accept: () => this.#attach.maxBytes > 0 && !this.#input.disabled });
    window.addEventListener('offline', () => this.#showStatus());
    window.addEventListener('online', () => this.#showStatus());
  }

  setTitle(name) {
    if (!name) return;
    this.#title.textContent = name;
    this.element.setAttribute('aria-label', name);
  }

  /** Large: the video call takes most of the chatbox, the chat goes beside it (or below, when narrow). */
  setLayout(large) {
    this.element.dataset.layout = large ? 'large' : '';
  }

  /** The agent the visitor talks to, shown under the title (null: the default subtitle). */
  setAgent(name) {
    this.#subtitle.textContent = name ? this.#t('chat.with_agent', { name }) : this.#t('chat.subtitle');
  }

  /** The socket's state (RealtimeClient 'state'). Anything but 'open' shows, after a short delay, a discreet line. */
  setConnection(state) {
    clearTimeout(this.#statusTimer);
    this.connected = state === 'open';
    if (this.connected) {
      this.#wasOpen = true;
      this.#status.hidden = true;
      return;
    }
    this.#statusTimer = setTimeout(() => this.#showStatus(), STATUS_DELAY_MS);
  }

  /** The largest file the server takes, in bytes (0: none; the paperclip is hidden). */
  setFileLimit(bytes) {
    this.#attach.setMax(bytes);
  }

  setEnded(ended) {
    this.#ended.hidden = !ended;
    this.#input.disabled = ended;
    this.#send.disabled = ended;
    this.#attach.disabled = ended;
    if (ended) this.#typing.set(false);
  }

  showTyping(typing, name) {
    this.#typing.set(typing, name ? this.#t('chat.typing', { name }) : this.#t('chat.typing_someone'));
  }

  /** A short message in plain words (a refused message, for example). */
  showNotice(text) {
    clearTimeout(this.#noticeTimer);
    this.#notice.textContent = text;
    this.#notice.hidden = false;
    this.#noticeTimer = setTimeout(() => (this.#notice.hidden = true), NOTICE_MS);
  }

  focusInput() {
    if (!this.#input.disabled) this.#input.focus({ preventScroll: true });
  }

  #showStatus() {
    if (this.connected) {
      this.#status.hidden = true;
      return;
    }
    let key = this.#wasOpen ? 'chat.reconnecting' : 'chat.connecting';
    if (!navigator.onLine) key = 'chat.offline';
    this.#status.textContent = this.#t(key);
    this.#status.hidden = false;
  }

  #autosize() {
    this.#input.style.height = 'auto';
    this.#input.style.height = `${Math.min(this.#input.scrollHeight, 140)}px`;
  }
}
