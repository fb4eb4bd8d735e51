// ConversationView: the desk's right side, one conversation at a time. Its transcript comes from
// GET /api/desk/conversations/{id}/events, then from live events; the Transcript shows each seq once. Transcripts
// already loaded stay in memory, are kept live, and are resumed after a reconnect (resumeMap).
//
// Only a conversation assigned to this agent can be answered (the server refuses replies otherwise). A waiting one
// is shown read-only with "Take this conversation" (conversation.claim).
//
// A live video call (desk/call_panel.js) sits in its conversation, beside the chat (above it when narrow).
// "Escalate to video" (desk/escalation.js) sits in the header of the agent's own chats, its invitation's state above
// the reply box.
//
// The reply box has two modes: Reply (to the visitor) and Note (note.add: for the other agents only, shown in the
// transcript on a yellow ground; the visitor never gets it, nor a typing indicator for it). An agent may write a note
// on their own conversation and on one waiting in their groups.
//
// In Reply mode the paperclip (or a file pasted or dropped on the chat) sends files to the visitor
// (POST /api/desk/conversations/{id}/files); the transcript shows them, read through GET /api/desk/files/{id}.

import { h } from '/static/shared/dom.js';
import { get, getBlob, request } from '/static/shared/api.js';
import { acceptFiles, attachButton, fileErrorText, formatSize } from '/static/shared/attachments.js';
import { copyText } from '/static/shared/clipboard.js';
import { errorMessage } from '/static/shared/i18n.js';
import { newId } from '/static/shared/realtime.js';
import { Transcript } from '/static/shared/transcript.js';
import { TypingIndicator, TypingSender } from '/static/shared/typing.js';
import { t } from './i18n.js';
import { callQualityCard } from './call_quality.js';
import { isWaiting, leftMessageBadge, routingText } from './conversations.js';
import { TransferMenu } from './transfer_menu.js';
import { SavedReplies } from './saved_replies.js';
import { VisitorHistory } from './visitor_history.js';
import { ConversationTags } from './conversation_tags.js';

const MAX_MESSAGE_CHARS = 4000;

export class ConversationView {
  #client;
  #account;
  #list;
  #callPanel;
  #escalation;
  #panes = new Map(); // id → {id, transcript, closed, loading}
  #current = null;
  #drafts = new Map(); // draftKey(conversation, mode) → the text not yet sent: a reply and a note are kept apart
  #typingSender = null;
  #typing;
  #title;
  #meta;
  #page; // which page of the site the visitor is on
  #rating; // the visitor's rating, once the conversation ended
  #history; // the visitor's earlier conversations
  #tags; // the conversation's tags
  #identity; // the e-mail address of a visitor the website identified
  #pageLink;
  #end;
  #transfer;
  #body;
  #notice;
  #composer;
  #input;
  #sendButton;
  #attach; // the paperclip: files to the visitor
  #mode = 'reply'; // or 'note'
  #replyTab;
  #noteTab;
  #saved; // the saved replies' picker
  #claimBar;
  #claimText;
  #claimButton;
  #contact;
  #closedNote;
  #empty;
  #panel;

  /**
   * callPanel: the desk's CallPanel (optional), shown in its call's conversation. escalation: the desk's Escalation
   * (optional).
   */
  constructor({ client, account, list, callPanel = null, escalation = null }) {
    this.#client = client;
    this.#account = account;
    this.#list = list;
    this.#callPanel = callPanel;
    this.#escalation = escalation;
    escalation?.onInvite((id) => id === this.#current && this.#renderHeader());

    this.#title = h('h2', { class: 'view__title' });
    this.#meta = h('p', { class: 'view__meta' });
    this.#pageLink = h('a', { target: '_blank', rel: 'noopener noreferrer' });
    this.#page = h('p', { class: 'view__page', testid: 'visitor-page', hidden: true }, 'On ', this.#pageLink);
    this.#rating = h('p', { class: 'view__rating', testid: 'conversation-rating', hidden: true });
    this.#identity = h('p', { class: 'view__identity', testid: 'visitor-identity', hidden: true,
      title: 'Your website signed this address: the visitor is signed in to it.' });
    this.#history = new VisitorHistory({ onOpen: (id) => this.show(id) });
    this.#tags = new ConversationTags({
      onChange: (id, tags) => {
        const s = this.#list.get(id);
        if (s) this.#list.upsert({ ...s, tags });
        if (id !== this.#current) return;
        if (s) this.#renderHeader();
        else this.#tags.setConversation({ id, tags }); // one the list doesn't hold (an earlier conversation)
      },
      onError: (text) => this.#showNotice(text),
    });
    this.#end = h('button', { type: 'button', class: 'button button--danger', testid: 'end-conversation', onclick: () => this.#endConversation() },
      'End conversation');
    // The conversation's summary comes from the server once transferred: waiting, or the colleague's.
    this.#transfer = new TransferMenu({ client, onDone: () => this.#hideNotice(), onError: (text) => this.#showNotice(text) });
    this.#body = h('div', { class: 'view__transcript' });
    this.#typing = new TypingIndicator(h('p', { class: 'view__typing', testid: 'typing-indicator', 'aria-live': 'polite' }));
    this.#notice = h('p', { class: 'view__notice', role: 'alert', hidden: true });
    this.#closedNote = h('p', { class: 'view__closed', hidden: true, text: 'This conversation is closed. Its transcript is read-only.' });

    this.#input = h('textarea', {
      class: 'composer__input',
      testid: 'message-input',
      rows: '2',
      'aria-label': 'Your reply',
      placeholder: 'Write a reply… (Enter sends, Shift+Enter adds a line)',
      oninput: () => this.#mode === 'reply' && this.#typingSender?.input(),
      onkeydown: (e) => {
        if (this.#saved.handleKey(e)) return;
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
          e.preventDefault();
          this.#composer.requestSubmit();
        }
      },
    });
    this.#sendButton = h('button', { type: 'submit', class: 'button button--primary', testid: 'send-message' }, 'Send');
    this.#replyTab = h('button', { type: 'button', class: 'composer__mode', testid: 'composer-reply', 'aria-pressed': 'true',
      onclick: () => this.#setMode('reply') }, 'Reply');
    this.#noteTab = h('button', { type: 'button', class: 'composer__mode', testid: 'composer-note', 'aria-pressed': 'false',
      title: 'A note for your colleagues: the visitor never sees it', onclick: () => this.#setMode('note') }, 'Note');
    this.#saved = new SavedReplies({ input: this.#input });
    this.#attach = attachButton({ t, onFiles: (files) => this.#sendFiles(files) });
    get('/api/auth/me').then((me) => this.#attach.setMax(me && me.max_file_bytes), () => {});
    this.#composer = h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); this.#send(); } },
      this.#saved.element,
      h('div', { class: 'composer__modes' },
        h('div', { class: 'composer__modes-group', role: 'group', 'aria-label': 'Write a reply or a note' }, this.#replyTab, this.#noteTab),
        this.#saved.button),
      h('div', { class: 'composer__row' }, this.#attach.elements, this.#input, this.#sendButton));

    this.#claimText = h('span', { class: 'view__claim-text' });
    this.#claimButton = h('button', { type: 'button', class: 'button button--primary', testid: 'claim-conversation', onclick: () => this.#claim() },
      'Take this conversation');
    this.#claimBar = h('div', { class: 'view__claim', hidden: true }, this.#claimText, this.#claimButton);
    this.#contact = h('div', { class: 'view__contact', hidden: true });

    this.#empty = h('div', { class: 'view__empty' }, h('p', { text: 'Select a conversation on the left.' }));
    this.#panel = h('section', { class: 'view__panel', hidden: true },
      h('header', { class: 'view__header' }, h('div', { class: 'view__heading' }, this.#title, this.#identity, this.#meta, this.#page, this.#rating, this.#history.element, this.#tags.element), escalation?.button, this.#transfer.element, this.#end),
      h('div', { class: 'view__main' },
        callPanel?.element,
        h('div', { class: 'view__chat' },
          this.#contact, this.#body, this.#typing.element, this.#notice, escalation?.status, this.#claimBar, this.#closedNote,
          this.#composer)));
    this.element = h('main', { class: 'view' }, callPanel?.returnBar, this.#empty, this.#panel);
    document.addEventListener('visibilitychange', this.#onVisibility);
    acceptFiles(this.#panel, {
      onFiles: (files) => this.#sendFiles(files),
      accept: () => this.#attach.maxBytes > 0 && this.#mode === 'reply' && !this.#input.disabled,
    });
  }

  get current() {
    return this.#current;
  }

  /** The conversations whose transcript is loaded, with the last seq each holds (the hello's resume map). */
  resumeMap() {
    const resume = {};
    for (const pane of this.#panes.values()) if (pane.transcript.lastSeq > 0) resume[pane.id] = pane.transcript.lastSeq;
    return resume;
  }

  show(id) {
    if (this.#current) this.#drafts.set(draftKey(this.#current, this.#mode), this.#input.value);
    this.#typingSender?.stop();
    this.#current = id;
    history.replaceState(null, '', `#${encodeURIComponent(id)}`);
    this.#list.select(id);
    this.#callPanel?.setViewing(id);
    this.#typingSender = new TypingSender((typing) => this.#client.send('typing', { conversation_id: id, typing }));
    this.#typing.set(false);
    this.#hideNotice();
    this.#mode = 'reply';
    this.#saved.close();
    this.#saved.refresh();

    const pane = this.#pane(id);
    this.#body.replaceChildren(pane.transcript.element);
    this.#input.value = this.#drafts.get(draftKey(id, 'reply')) || '';
    this.#empty.hidden = true;
    this.#panel.hidden = false;
    this.#renderHeader();
    pane.transcript.scrollToEnd();
    this.#load(pane);
    this.#history.setConversation(id);
    if (!this.#input.disabled) this.#input.focus();
  }

  applyEvent(ev) {
    const pane = this.#panes.get(ev.conversation_id);
    if (!pane) return;
    this.#addEvent(pane, ev);
    if (pane.id === this.#current && ev.type === 'message' && ev.author === 'visitor') this.#typing.set(false);
  }

  /** A `note` frame: an agent's note on a conversation. */
  applyNote(note) {
    this.#panes.get(note && note.conversation_id)?.transcript.addNote(note);
  }

  /** After a reconnect: what the conversation on screen missed meanwhile (notes are not replayed by the hello). */
  refresh() {
    const pane = this.#current && this.#panes.get(this.#current);
    if (pane) this.#load(pane);
  }

  applySummary(summary) {
    if (summary.id === this.#current) this.#renderHeader();
    const pane = this.#panes.get(summary.id);
    if (pane && summary.visitor_read_seq > 0) pane.transcript.markSeen('agent', summary.visitor_read_seq);
    if (pane && summary.id === this.#current) this.#sendRead(pane); // taken by this agent: the visitor may see it read
    if (pane && summary.status === 'closed') this.#setClosed(pane);
  }

  applyTyping(d) {
    if (d.conversation_id !== this.#current || d.author !== 'visitor') return;
    const label = this.#list.get(d.conversation_id)?.visitor_label || 'The visitor';
    this.#typing.set(d.typing, `${label} is typing…`);
  }

  // Back to the desk's tab: what is on screen is read now.
  #onVisibility = () => {
    const pane = this.#panes.get(this.#current);
    if (pane) this.#sendRead(pane);
  };

  destroy() {
    document.removeEventListener('visibilitychange', this.#onVisibility);
    this.#typingSender?.stop();
  }

  #pane(id) {
    let pane = this.#panes.get(id);
    if (pane) return pane;
    const transcript = new Transcript({
      t,
      lang: 'en',
      viewer: 'agent',
      emptyText: 'No messages yet.',
      decorate: callQualityCard,
      readFile: (fileId) => getBlob(`/api/desk/files/${encodeURIComponent(fileId)}`),
      nameFor: (ev) => {
        if (ev.author === 'visitor') return this.#list.get(id)?.visitor_label || t('transcript.visitor');
        if (ev.author === 'bot') return ev.author_name || t('transcript.bot');
        return ev.author_name || t('transcript.agent');
      },
    });
    pane = { id, transcript, closed: false, inCall: false, callSeq: 0, loading: null, readSent: 0 };
    this.#panes.set(id, pane);
    return pane;
  }

  // Loads what the pane misses (all of it the first time). Live events may arrive meanwhile: the Transcript sorts
  // and deduplicates.
  #load(pane) {
    if (pane.loading) return;
    pane.loading = get(`/api/desk/conversations/${encodeURIComponent(pane.id)}/events?after=${pane.transcript.lastSeq}`)
      .then(({ conversation, events, notes }) => {
        if (conversation) this.#list.upsert(conversation);
        for (const ev of events || []) this.#addEvent(pane, ev);
        if (conversation && conversation.visitor_read_seq > 0) pane.transcript.markSeen('agent', conversation.visitor_read_seq);
        this.#sendRead(pane);
        for (const note of notes || []) pane.transcript.addNote(note);
        if (conversation && conversation.status === 'closed') this.#setClosed(pane);
        if (pane.id === this.#current) this.#renderHeader();
      })
      .catch((err) => {
        if (pane.id !== this.#current || err.status === 401) return;
        this.#showNotice(err.status === 404 ? 'This conversation is not available to you.' : `The transcript could not be loaded: ${err.message}`);
      })
      .finally(() => (pane.loading = null));
  }

  #addEvent(pane, ev) {
    if (!pane.transcript.add(ev)) return;
    if (ev.type === 'ended') this.#setClosed(pane);
    if ((ev.type === 'call_started' || ev.type === 'call_ended') && ev.seq > pane.callSeq) {
      // A conversation can't be transferred while its call is under way (its agent must stay). The latest of
      // these events says, whatever order they arrive in.
      pane.callSeq = ev.seq;
      pane.inCall = ev.type === 'call_started';
      if (pane.id === this.#current) this.#renderHeader();
    }
    if (pane.id === this.#current) {
      this.#list.markRead(pane.id, pane.transcript.lastSeq);
      if (!pane.loading) this.#sendRead(pane); // a transcript being loaded says it once, at the end
    }
  }

  /** A `read` frame: the visitor has read a conversation up to a seq ("Seen" under the agent's reply). */
  applyRead(d) {
    if (d && d.reader === 'visitor') this.#panes.get(d.conversation_id)?.transcript.markSeen('agent', d.seq);
  }

  // Tells the visitor how far the agent has read their conversation (the widget shows "Seen"): the agent's own
  // conversation, on screen, in a tab they are looking at.
  #sendRead(pane) {
    const s = this.#list.get(pane.id);
    const seq = pane.transcript.lastSeq;
    if (pane.id !== this.#current || pane.closed || !s || s.agent_id !== this.#account.id) return;
    if (document.visibilityState !== 'visible' || seq <= (pane.readSent || 0)) return;
    pane.readSent = seq;
    this.#client.request('read', { conversation_id: pane.id, seq }).catch(() => {
      if (pane.readSent === seq) pane.readSent = 0;
    });
  }

  #setClosed(pane) {
    if (pane.closed) return;
    pane.closed = true;
    if (pane.id === this.#current) this.#renderHeader();
  }

  // The page the visitor is on, as a link the agent may open (the server only takes the site's own addresses).
  #renderPage(s) {
    const url = typeof s.page_url === 'string' && /^https?:\/\//i.test(s.page_url) ? s.page_url : '';
    this.#page.hidden = !url;
    if (!url) return;
    this.#pageLink.href = url;
    this.#pageLink.title = url;
    this.#pageLink.textContent = s.page_title || url;
  }

  // The visitor's rating of the ended conversation: stars, and their comment as text.
  #renderRating(s) {
    const score = Number(s.rating && s.rating.score);
    this.#rating.hidden = !(score >= 1 && score <= 5);
    if (this.#rating.hidden) return;
    const comment = typeof s.rating.comment === 'string' ? s.rating.comment : '';
    this.#rating.replaceChildren(
      'Rated ',
      h('span', { class: 'view__stars', 'aria-label': `${score} out of 5`, text: '★'.repeat(score) + '☆'.repeat(5 - score) }),
      ` by the visitor${comment ? ': ' : ''}`,
      comment ? h('q', { text: comment }) : null,
    );
  }

  #renderHeader() {
    const id = this.#current;
    const pane = this.#panes.get(id);
    const s = this.#list.get(id) || {};
    const closed = (pane && pane.closed) || s.status === 'closed';
    if (pane && closed) pane.closed = true;
    const mine = !closed && s.agent_id === this.#account.id;
    const waiting = !closed && this.#list.get(id) !== null && isWaiting(s);
    this.#title.textContent = s.visitor_label || 'Visitor';
    let state = `Waiting for an agent: ${routingText(s).toLowerCase()}`;
    if (closed) state = 'Closed';
    else if (mine) state = 'Assigned to you';
    else if (s.agent_name) state = `Assigned to ${s.agent_name}`;
    this.#meta.textContent = [s.site_name, state].filter(Boolean).join(' · ');
    this.#renderPage(s);
    this.#renderRating(s);
    this.#tags.setConversation({ ...s, id });
    this.#identity.hidden = !s.visitor_email;
    this.#identity.textContent = s.visitor_email ? `${s.visitor_email} · signed in on your website` : '';
    this.#renderContact(s);
    this.#end.hidden = !mine;
    // Not while a call, or an invitation to one, is under way: the call's agent stays (the server refuses it).
    const calling = Boolean(pane && pane.inCall) || Boolean(this.#escalation?.inviting(id));
    this.#transfer.setConversation(mine && !calling ? id : null);
    this.#escalation?.setConversation({ id, mine, closed });
    this.#composer.hidden = closed;
    this.#renderComposer(mine, waiting);
    this.#claimBar.hidden = !waiting;
    this.#claimText.textContent = s.contact_email
      ? 'The visitor left a message. Take the conversation to answer it.'
      : 'This conversation is waiting for an agent. You can read it; take it to reply.';
    this.#closedNote.hidden = !closed;
    if (closed) this.#typing.set(false);
  }

  // Switching mode swaps the text in the box: a note being written never becomes a reply by mistake.
  #setMode(mode) {
    if (mode === this.#mode) return;
    if (this.#current) this.#drafts.set(draftKey(this.#current, this.#mode), this.#input.value);
    this.#mode = mode;
    this.#input.value = (this.#current && this.#drafts.get(draftKey(this.#current, mode))) || '';
    if (mode === 'note') this.#typingSender?.stop();
    this.#renderHeader();
    if (!this.#input.disabled) this.#input.focus();
  }

  // The reply box: a reply needs the conversation to be the agent's; a note, that the agent can see it.
  #renderComposer(mine, waiting) {
    const canNote = mine || waiting;
    if (!canNote && this.#mode === 'note') {
      // Taken by someone else meanwhile: back to replies, the note kept as a draft.
      if (this.#current) this.#drafts.set(draftKey(this.#current, 'note'), this.#input.value);
      this.#mode = 'reply';
      this.#input.value = (this.#current && this.#drafts.get(draftKey(this.#current, 'reply'))) || '';
    }
    const note = this.#mode === 'note';
    this.#noteTab.hidden = !canNote;
    this.#replyTab.setAttribute('aria-pressed', String(!note));
    this.#noteTab.setAttribute('aria-pressed', String(note));
    this.#composer.classList.toggle('composer--note', note);
    const usable = note ? canNote : mine;
    this.#input.disabled = !usable;
    this.#sendButton.disabled = !usable;
    this.#attach.disabled = note || !mine; // files go to the visitor: replies only
    this.#sendButton.textContent = note ? 'Add note' : 'Send';
    if (note) this.#input.placeholder = 'Write a note for your colleagues… (the visitor never sees it)';
    else this.#input.placeholder = mine ? 'Write a reply… (Enter sends, Shift+Enter adds a line)'
      : waiting ? 'Take this conversation to reply, or write a note for your colleagues.' : 'Only the assigned agent can reply.';
  }

  // The e-mail address a visitor left with their message, to answer them later.
  #renderContact(s) {
    this.#contact.hidden = !s.contact_email;
    if (!s.contact_email) return;
    const status = h('span', { class: 'view__copied', role: 'status' });
    const copy = h('button', { type: 'button', class: 'button button--quiet', testid: 'copy-contact-email' }, 'Copy');
    copy.addEventListener('click', async () => {
      status.textContent = (await copyText(s.contact_email)) ? 'Copied.' : 'Select the address and copy it.';
      setTimeout(() => (status.textContent = ''), 3000);
    });
    this.#contact.replaceChildren(leftMessageBadge(s), ' ', h('span', { text: 'Reply to' }), ' ',
      h('a', { href: `mailto:${s.contact_email}`, testid: 'contact-email', text: s.contact_email }), copy, status);
  }

  async #claim() {
    const id = this.#current;
    const s = this.#list.get(id);
    if (!s) return;
    this.#claimButton.disabled = true;
    this.#hideNotice();
    try {
      const ack = await this.#client.request('conversation.claim', { conversation_id: id });
      // The server's `conversation` frame says the same; this makes the reply box usable at once.
      this.#list.upsert({ ...s, id: ack.conversation_id || id, agent_id: this.#account.id, agent_name: this.#account.name, routing: 'assigned' });
      if (this.#current === id) {
        this.#renderHeader();
        this.#input.focus();
      }
    } catch (err) {
      if (err.code === 112) this.#showNotice('You\'re at capacity: finish or end a conversation before taking another one.');
      else if (err.code === 111) this.#showNotice('Someone else took it.');
      else this.#showNotice(`The conversation could not be taken: ${errorMessage(t, err)}`);
    } finally {
      this.#claimButton.disabled = false;
    }
  }

  #send() {
    const pane = this.#panes.get(this.#current);
    if (!pane || pane.closed || this.#input.disabled) return;
    const body = this.#input.value.trim();
    if (!body) return;
    if ([...body].length > MAX_MESSAGE_CHARS) {
      this.#showNotice(errorMessage(t, { code: 104 }));
      return;
    }
    if (this.#mode === 'note') {
      this.#addNote(pane, body);
      return;
    }
    const clientMsgId = newId();
    this.#input.value = '';
    this.#drafts.delete(draftKey(pane.id, 'reply'));
    this.#typingSender?.stop();
    this.#hideNotice();
    pane.transcript.addPending({ clientMsgId, body, author: 'agent', authorName: this.#account.name });
    this.#deliver(pane, clientMsgId, body);
  }

  async #deliver(pane, clientMsgId, body) {
    try {
      const ack = await this.#client.request('message.send',
        { conversation_id: pane.id, client_msg_id: clientMsgId, body }, { persistent: true });
      pane.transcript.confirm(clientMsgId, ack.seq);
    } catch (err) {
      pane.transcript.fail(clientMsgId, errorMessage(t, err), () => {
        pane.transcript.retrying(clientMsgId);
        this.#deliver(pane, clientMsgId, body);
      });
    }
  }

  // Files go to the visitor like replies: shown at once as being sent, then as stored.
  #sendFiles(files) {
    const pane = this.#panes.get(this.#current);
    if (!pane || pane.closed || this.#input.disabled || this.#mode !== 'reply') return;
    const max = this.#attach.maxBytes;
    for (const file of files) {
      if (file.size > max) {
        this.#showNotice(t('files.too_large', { name: file.name, max: formatSize(max, 'en') }));
        continue;
      }
      const clientMsgId = newId();
      this.#hideNotice();
      pane.transcript.addPending({ clientMsgId, body: file.name, author: 'agent', authorName: this.#account.name, file });
      this.#deliverFile(pane, clientMsgId, file);
    }
  }

  async #deliverFile(pane, clientMsgId, file) {
    const params = new URLSearchParams({ name: file.name, client_msg_id: clientMsgId });
    try {
      const { event } = await request('POST', `/api/desk/conversations/${encodeURIComponent(pane.id)}/files?${params}`, file);
      this.#addEvent(pane, event); // the same event comes over the socket; whichever is first is shown
    } catch (err) {
      pane.transcript.fail(clientMsgId, fileErrorText(t, err.code), () => {
        pane.transcript.retrying(clientMsgId);
        this.#deliverFile(pane, clientMsgId, file);
      });
    }
  }

  // A note goes in the transcript once the server has stored it; refused, its text comes back to the box.
  async #addNote(pane, body) {
    const clientNoteId = newId();
    this.#input.value = '';
    this.#drafts.delete(draftKey(pane.id, 'note'));
    this.#hideNotice();
    try {
      const ack = await this.#client.request('note.add', { conversation_id: pane.id, client_note_id: clientNoteId, body });
      pane.transcript.addNote(ack.note);
      pane.transcript.scrollToEnd();
    } catch (err) {
      if (pane.id === this.#current && this.#mode === 'note' && !this.#input.value) this.#input.value = body;
      else this.#drafts.set(draftKey(pane.id, 'note'), body);
      this.#showNotice(`The note could not be added: ${errorMessage(t, err)}`);
    }
  }

  async #endConversation() {
    const pane = this.#panes.get(this.#current);
    if (!pane || pane.closed) return;
    this.#end.disabled = true;
    this.#hideNotice();
    try {
      await this.#client.request('conversation.end', { conversation_id: pane.id });
      this.#setClosed(pane);
    } catch (err) {
      if (err.code === 106) this.#setClosed(pane);
      else this.#showNotice(`The conversation could not be ended: ${errorMessage(t, err)}`);
    } finally {
      this.#end.disabled = false;
    }
  }

  #showNotice(text) {
    this.#notice.textContent = text;
    this.#notice.hidden = false;
  }

  #hideNotice() {
    this.#notice.hidden = true;
  }
}

const draftKey = (conversationId, mode) => `${mode}:${conversationId}`;
