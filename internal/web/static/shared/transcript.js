// Transcript: the list of messages of one conversation, shared by the widget and the desk.
//
// Every message is an element with data-testid="message", data-author (visitor, agent, bot or system) and, once
// the server has stored it, data-seq. Events are kept in seq order and each seq is shown once, however many times
// it arrives (live, replayed after a reconnect, or loaded over HTTP). A message the viewer sends appears at once as
// "sending", and becomes the stored message when its ack or its event arrives (matched by client_msg_id).
// A video call's start and end are system messages too (shared/call_events.js).
//
// The desk also shows the agents' notes (addNote): they are not events and have no seq, so they are placed by time
// among the messages. The widget never gets any.
//
// A bot's message may carry quick replies (data.quick_replies): the desk lists them under the message, the widget
// makes them buttons through its decorate hook (widget/quick_replies.js). A bot's transfer card (data.transfer) is
// shown as a card.
//
// A message that carries a file (data.attachment) shows it (shared/attachments.js), read through readFile.

import { h, formatTime } from './dom.js';
import { callEndedText, callStartedText, formatDuration } from './call_events.js';
import { attachmentOf, renderAttachment } from './attachments.js';

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

export class Transcript {
  #t;
  #lang;
  #viewer;
  #nameFor;
  #decorate;
  #readFile;
  #bySeq = new Map();
  #byClientId = new Map();
  #seen = new Set();
  #notes = new Set(); // note ids shown
  #lastSeq = 0;
  #seenBy = null; // {author, seq}: the other side has read the viewer's (author's) messages up to seq

  /**
   * t: a translator with the transcript.* keys. viewer: 'visitor' or 'agent', whose messages are shown as "mine".
   * nameFor(event): the author's display name. emptyText: shown while there is no message. decorate(event), when
   * given, may return a node to add inside an event's element (the desk's call-quality card). readFile(id)
   * returns a Promise of a file's Blob, read with the viewer's credentials.
   */
  constructor({ t, lang, viewer, nameFor, emptyText = '', decorate = null, readFile = null }) {
    this.#t = t;
    this.#readFile = readFile || (() => Promise.reject(new Error('no file reader')));
    this.#lang = lang;
    this.#viewer = viewer;
    this.#nameFor = nameFor;
    this.#decorate = decorate;
    this.element = h('div', {
      class: 'transcript',
      role: 'log',
      'aria-live': 'polite',
      'aria-label': t('transcript.label'),
      tabindex: '0',
      dataset: { empty: emptyText },
    });
  }

  /** Changes what the empty transcript says (the widget shows a proactive invitation the visitor opened). */
  setEmptyText(text) {
    this.element.dataset.empty = text;
  }

  /** The highest seq shown (0 when none). */
  get lastSeq() {
    return this.#lastSeq;
  }

  get isEmpty() {
    return this.element.childElementCount === 0;
  }

  has(seq) {
    return this.#seen.has(seq);
  }

  /** Shows a conversation event. Returns its element, or null when it was already shown or is not displayed. */
  add(ev) {
    const seq = Number(ev && ev.seq);
    if (!Number.isFinite(seq) || this.#seen.has(seq)) return null;
    this.#note(seq);
    const pending = ev.client_msg_id && this.#byClientId.get(ev.client_msg_id);
    if (pending && !pending.dataset.seq) {
      if (!attachmentOf(ev)) {
        this.#settle(pending, seq, ev.created_at);
        return pending;
      }
      pending.remove(); // a file being sent showed its name only: the stored message shows the file
      this.#byClientId.delete(ev.client_msg_id);
    }
    const el = this.#render(ev);
    if (!el) return null;
    const extra = this.#decorate && this.#decorate(ev);
    if (extra) el.append(extra);
    el.dataset.seq = String(seq);
    if (Number.isFinite(ev.created_at)) el.dataset.at = String(ev.created_at);
    this.#bySeq.set(seq, el);
    if (ev.client_msg_id) this.#byClientId.set(ev.client_msg_id, el);
    this.#place(el, ev.author === this.#viewer);
    if (this.#seenBy && ev.author === this.#seenBy.author && seq <= this.#seenBy.seq) this.#renderSeen();
    return el;
  }

  /**
   * The other side has read the conversation up to seq: "Seen" goes under the last message by author (the
   * viewer's side) at or before it, and follows as they read on.
   */
  markSeen(author, seq) {
    if (this.#seenBy && this.#seenBy.author === author && seq <= this.#seenBy.seq) return;
    this.#seenBy = { author, seq };
    this.#renderSeen();
  }

  #renderSeen() {
    const { author, seq } = this.#seenBy;
    for (const old of this.element.querySelectorAll('[data-testid="seen"]')) old.remove();
    const read = [...this.element.querySelectorAll('[data-testid="message"][data-seq]')]
      .filter((el) => el.dataset.author === author && Number(el.dataset.seq) <= seq);
    const last = read[read.length - 1];
    if (last) last.append(h('div', { class: 'msg__seen', testid: 'seen', text: this.#t('transcript.seen') }));
  }

  /**
   * Shows an agent's note (NOTE: note_id, author_name, body, created_at), in its place by time, each note once.
   * Returns its element, or null when it was already shown.
   */
  addNote(note) {
    if (!note || !note.note_id || this.#notes.has(note.note_id)) return null;
    this.#notes.add(note.note_id);
    const el = h(
      'div',
      { class: 'msg msg--note', testid: 'note', dataset: { noteId: note.note_id, at: String(note.created_at) } },
      h('div', { class: 'msg__meta' },
        h('span', { class: 'msg__author', text: this.#t('transcript.note_by', { name: note.author_name || this.#t('transcript.agent') }) }),
        ' ', this.#time(note.created_at)),
      h('div', { class: 'msg__body' }, linkify(note.body || '')),
    );
    this.#place(el, false);
    return el;
  }

  /**
   * Shows a message the viewer is sending, in the "sending" state, at the bottom. file: a File being sent (its
   * name and size are shown until it is stored).
   */
  addPending({ clientMsgId, body, author, authorName, file = null }) {
    const el = this.#bubble({ author, name: authorName, body, time: Date.now() });
    if (file) {
      el.querySelector('.msg__body').replaceChildren(h('span', { class: 'attachment attachment--sending', testid: 'attachment-sending',
        text: this.#t('files.sending', { name: file.name }) }));
    }
    el.dataset.state = 'sending';
    el.append(h('div', { class: 'msg__status', text: this.#t('transcript.sending') }));
    this.#byClientId.set(clientMsgId, el);
    this.#place(el, true);
    return el;
  }

  /** The server stored the pending message clientMsgId as seq (from the ack). */
  confirm(clientMsgId, seq) {
    const el = this.#byClientId.get(clientMsgId);
    if (!el || el.dataset.seq) return;
    if (this.#bySeq.has(seq)) {
      el.remove(); // already shown from its event
      return;
    }
    this.#note(seq);
    this.#settle(el, seq);
  }

  /** The pending message clientMsgId was refused: shows why, with a Retry button calling onRetry. */
  fail(clientMsgId, reason, onRetry) {
    const el = this.#byClientId.get(clientMsgId);
    if (!el || el.dataset.seq) return;
    el.dataset.state = 'failed';
    el.querySelector('.msg__status').replaceChildren(
      h('span', { text: this.#t('transcript.failed', { reason }) }),
      ' ',
      h('button', { type: 'button', class: 'msg__retry', onclick: onRetry }, this.#t('transcript.retry')),
    );
  }

  /** The pending message clientMsgId is being sent again. */
  retrying(clientMsgId) {
    const el = this.#byClientId.get(clientMsgId);
    if (!el || el.dataset.seq) return;
    el.dataset.state = 'sending';
    el.querySelector('.msg__status').textContent = this.#t('transcript.sending');
  }

  clear() {
    this.#seenBy = null;
    this.element.replaceChildren();
    this.#notes.clear();
    this.#bySeq.clear();
    this.#byClientId.clear();
    this.#seen.clear();
    this.#lastSeq = 0;
  }

  scrollToEnd() {
    this.element.scrollTop = this.element.scrollHeight;
  }

  #note(seq) {
    this.#seen.add(seq);
    if (seq > this.#lastSeq) this.#lastSeq = seq;
  }

  #settle(el, seq, createdAt) {
    el.dataset.seq = String(seq);
    el.dataset.state = 'sent';
    el.querySelector('.msg__status')?.remove();
    if (Number.isFinite(createdAt)) {
      this.#setTime(el, createdAt);
      el.dataset.at = String(createdAt);
    }
    this.#bySeq.set(seq, el);
    // Move it to its place in seq order: messages from the other side may have been stored before it.
    el.remove();
    this.#place(el, false);
  }

  // Inserts el after the last stored message with a lower seq (a note: after the last one not later than it), and
  // a stored message after the notes not later than it; messages still sending stay at the bottom.
  #place(el, mine) {
    const list = this.element;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 48;
    const isNote = (node) => Boolean(node.dataset.noteId);
    const sending = (node) => !node.dataset.seq && !isNote(node);
    const at = el.dataset.at ? Number(el.dataset.at) : Infinity;
    const seq = el.dataset.seq ? Number(el.dataset.seq) : Infinity;
    const after = isNote(el)
      ? (node) => sending(node) || Number(node.dataset.at) > at
      : (node) => sending(node) || (isNote(node) ? Number(node.dataset.at) > at : Number(node.dataset.seq) > seq);
    let node = list.lastElementChild;
    if (seq !== Infinity || isNote(el)) {
      while (node && after(node)) node = node.previousElementSibling;
    }
    list.insertBefore(el, node ? node.nextElementSibling : list.firstElementChild);
    if (atBottom || mine) this.scrollToEnd();
  }

  #render(ev) {
    switch (ev.type) {
      case 'message': {
        if (ev.author === 'system') return this.#systemLine(ev.body, ev.created_at, 'message');
        if (ev.author === 'bot' && ev.data && ev.data.transfer) return this.#transferCard(ev);
        const el = this.#bubble({ author: ev.author, name: this.#nameFor(ev), body: ev.body, time: ev.created_at });
        const file = attachmentOf(ev);
        if (file) {
          el.querySelector('.msg__body').replaceChildren(
            renderAttachment({ t: this.#t, lang: this.#lang, attachment: file, readFile: this.#readFile }));
        }
        const offered = ev.author === 'bot' && this.#viewer !== 'visitor' ? this.#offered(ev) : null;
        if (offered) el.append(offered);
        return el;
      }
      case 'invited':
        // The proactive invitation the visitor answered: the site's message, first in the conversation.
        return h(
          'div',
          { class: 'msg msg--invite', testid: 'message', dataset: { author: 'system', event: 'invited' } },
          h('div', { class: 'msg__meta' }, h('span', { class: 'msg__author', text: ev.author_name || '' }), ' ', this.#time(ev.created_at)),
          h('div', { class: 'msg__body' }, linkify(ev.body || '')),
        );
      case 'assigned':
        return this.#systemLine(
          this.#t('transcript.joined', { name: ev.author_name || this.#t('transcript.agent') }),
          ev.created_at,
          'assigned',
        );
      case 'transferred': {
        // data.to_name: handed to that colleague by name; without it, to the group.
        const name = ev.author_name || this.#t('transcript.agent');
        const to = ev.data && typeof ev.data.to_name === 'string' ? ev.data.to_name : '';
        return this.#systemLine(
          to ? this.#t('transcript.transferred_to', { name, to }) : this.#t('transcript.transferred', { name }),
          ev.created_at,
          'transferred',
        );
      }
      case 'ended':
        if (ev.data && ev.data.reason === 'inactive') {
          const after = formatDuration(Number(ev.data.after_seconds) * 1000);
          return this.#systemLine(this.#t('transcript.ended_inactive', { after }), ev.created_at, 'ended');
        }
        return this.#systemLine(this.#t('transcript.ended'), ev.created_at, 'ended');
      case 'call_started':
        return this.#systemLine(callStartedText(this.#t, ev), ev.created_at, 'call_started');
      case 'call_ended':
        return this.#systemLine(callEndedText(this.#t, ev), ev.created_at, 'call_ended');
      default:
        return null; // event types of later features
    }
  }

  #bubble({ author, name, body, time }) {
    const mine = author === this.#viewer;
    return h(
      'div',
      { class: `msg msg--${author}${mine ? ' msg--mine' : ''}`, testid: 'message', dataset: { author } },
      h('div', { class: 'msg__meta' }, h('span', { class: 'msg__author', text: name }), ' ', this.#time(time)),
      h('div', { class: 'msg__body' }, linkify(body || '')),
    );
  }

  // A bot's hand-over to a person: the card the bot wrote, under a title saying what happens next.
  #transferCard(ev) {
    const video = Boolean(ev.data.video);
    return h(
      'div',
      { class: 'msg msg--bot msg--transfer', testid: 'message', dataset: { author: 'bot', event: 'transfer' } },
      h('div', { class: 'msg__meta' }, h('span', { class: 'msg__author', text: this.#nameFor(ev) }), ' ', this.#time(ev.created_at)),
      h(
        'div',
        { class: 'transfer-card', testid: 'transfer-card', dataset: { video: String(video) } },
        h('p', { class: 'transfer-card__title', text: this.#t(video ? 'transcript.transfer_video' : 'transcript.transfer') }),
        h('p', { class: 'transfer-card__text', text: ev.body || '' }),
      ),
    );
  }

  // The quick replies a bot offered, as a line of text for the agent.
  #offered(ev) {
    const choices = Array.isArray(ev.data && ev.data.quick_replies) ? ev.data.quick_replies : [];
    const labels = choices.map((c) => (c && typeof c.label === 'string' ? c.label : '')).filter(Boolean);
    if (!labels.length) return null;
    return h('div', { class: 'msg__offered', text: this.#t('transcript.offered', { choices: labels.join(' · ') }) });
  }

  #systemLine(text, time, kind) {
    return h(
      'div',
      { class: 'msg msg--system', testid: 'message', dataset: { author: 'system', event: kind } },
      h('span', { class: 'msg__body', text }),
      ' ',
      this.#time(time),
    );
  }

  #time(ms) {
    if (!Number.isFinite(ms)) return h('time', { class: 'msg__time' });
    return h('time', {
      class: 'msg__time',
      datetime: new Date(ms).toISOString(),
      title: new Date(ms).toLocaleString(this.#lang),
      text: formatTime(ms, this.#lang),
    });
  }

  #setTime(el, ms) {
    el.querySelector('.msg__time')?.replaceWith(this.#time(ms));
  }
}

// Text with its http(s) links made clickable. Everything stays text: links are built element by element.
function linkify(text) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(h('a', { href: match[0], target: '_blank', rel: 'noopener noreferrer nofollow', text: match[0] }));
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}
