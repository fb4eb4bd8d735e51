// VisitorChat: the visitor's side of a conversation. It connects the socket, shows the transcript, sends messages,
// follows the conversation's end, counts unread messages for the launcher's badge, and keeps the waiting room up to
// date from the `queue` frames (queue.leave, contact.leave). The conversation's video call is widget/visitor_call.js's.
//
// The transcript lives in memory only. After a reload the saved conversation is resumed from seq 0, so the server
// replays it whole; the Transcript shows each seq once, so nothing is duplicated.

import { RealtimeClient, RealtimeError, socketUrl, newId } from '/static/shared/realtime.js';
import { errorMessage } from '/static/shared/i18n.js';
import { Transcript } from '/static/shared/transcript.js';
import { TypingSender } from '/static/shared/typing.js';
import { Chatbox } from './chatbox.js';
import { WaitingRoom } from './waiting_room.js';
import { VisitorCall } from './visitor_call.js';
import { QuickReplies } from './quick_replies.js';
import { RatingCard } from './rating.js';
import { fileErrorText, formatSize } from '/static/shared/attachments.js';
import { ProactiveInvitations } from './invitations.js';

const MAX_MESSAGE_CHARS = 4000; // realtime.max_message_chars; the server has the last word (error 104)
const READ_DELAY_MS = 300; // reads told together (read receipts)

export class VisitorChat {
  #t;
  #site;
  #maxFile = 0; // the largest file the server takes (chat.max_file_bytes), from the widget's config
  #session;
  #saved;
  #bridge;
  #client;
  #transcript;
  #chatbox;
  #waitingRoom;
  #call;
  #quickReplies;
  #rating;
  #invitations; // the site's proactive invitations (widget/invitations.js)
  #lang;
  #opening = false; // a conversation.open is under way
  #queues = new Map(); // conversation id → its latest QUEUE (one may come before the ack that names the conversation)
  #leftQueue = new Set(); // conversations whose queue the visitor left from this page
  #typing;
  #convId;
  #ended = false;
  #dismissed = new Set(); // conversations the visitor left with "Start a new conversation"
  #creating = null; // the first message.send of a new conversation, until its ack names the conversation
  #incoming = []; // seqs of messages from the agent, a bot or the system
  #agentName = null;
  #page = null; // {url, title}: the page of the site the visitor is on, from the loader
  #pageSent = ''; // the conversation and page last told to the server
  #identity = null; // {email, name, hash}: who the site says the visitor is, from the loader
  #identitySent = ''; // the identity last told to the server, on this connection
  #open;
  #unreadPosted = -1;
  #readSent = 0; // the seq last told to the server as read (read receipts)
  #readTimer = null;
  #restarts = 0;
  #restartsReset = null;

  constructor({ root, site, lang, t, session, saved, bridge }) {
    this.#t = t;
    this.#site = site;
    this.#session = session;
    this.#saved = saved;
    this.#bridge = bridge;
    this.#convId = saved.id;
    this.#open = !bridge.embedded;
    this.#lang = lang;

    // A bot's quick replies: choosing one sends its label, with its id, as the visitor's message.
    this.#quickReplies = new QuickReplies({ t, onChoose: (id, label) => this.#send(label, { quickReply: id }) });
    this.#transcript = new Transcript({
      t,
      lang,
      viewer: 'visitor',
      emptyText: t('chat.welcome'),
      nameFor: (ev) => {
        if (ev.author === 'visitor') return t('transcript.you');
        if (ev.author === 'bot') return ev.author_name || t('transcript.bot');
        return ev.author_name || t('transcript.agent');
      },
      decorate: (ev) => this.#quickReplies.render(ev),
      readFile: (id) => this.#readFile(id),
    });
    this.#waitingRoom = new WaitingRoom({
      t,
      lang,
      onLeaveQueue: () => this.#leaveQueue(),
      onLeaveMessage: (email, body) => this.#leaveMessage(email, body),
      onDismiss: (what) => {
        this.#saved.update({ dismissed: what });
        this.#renderQueue();
      },
    });
    this.#client = new RealtimeClient({
      url: socketUrl(`/ws/visitor?site=${encodeURIComponent(site)}`),
      helloData: async () => {
        const { token } = await this.#session.ensure();
        return { token, lang: this.#lang, resume: this.#convId ? { [this.#convId]: 0 } : {} };
      },
    });
    this.#call = new VisitorCall({
      t,
      site,
      client: this.#client,
      bridge,
      conversation: () => ({ id: this.#convId, ended: this.#ended }),
      adopt: (id) => !this.#convId && this.#adopt(id),
      notice: (text) => this.#chatbox.showNotice(text),
      onChange: () => this.#renderQueue(),
      onLayout: (large) => this.#chatbox.setLayout(large),
      onAttention: () => this.#postUnread(),
    });
    // A proactive invitation shows only to a visitor with no conversation, the chatbox closed. Opened, its message
    // greets them in the empty chat; their first message answers it.
    this.#invitations = new ProactiveInvitations({
      site,
      session,
      bridge,
      canShow: () => !this.#open && !this.#convId,
      onAccept: (invitation) => {
        if (!this.#convId) this.#transcript.setEmptyText(invitation.message);
      },
    });
    // Once the conversation ended, the visitor may rate it; the browser remembers it did (saved `rated`).
    this.#rating = new RatingCard({ t, onRate: (score, comment) => this.#rate(score, comment) });
    this.#chatbox = new Chatbox({
      t,
      transcript: this.#transcript,
      embedded: bridge.embedded,
      onSend: (text) => this.#send(text),
      onFiles: (files) => files.forEach((f) => this.#sendFile(f)),
      onInput: () => this.#typing.input(),
      onMinimize: () => this.#minimize(),
      onNewConversation: () => this.#startNew(),
      panels: [this.#call.offer, this.#waitingRoom.element],
      stage: this.#call.stage,
      rating: this.#rating.element,
    });
    root.replaceChildren(this.#chatbox.element);
    this.#typing = new TypingSender((typing) =>
      Boolean(this.#convId) && !this.#ended && this.#client.send('typing', { conversation_id: this.#convId, typing }),
    );

    bridge.on('init', (msg) => {
      this.#setOpen(Boolean(msg.open));
      this.#setPage(msg.page);
      this.#setIdentity(msg.identity);
    });
    bridge.on('identify', (msg) => this.#setIdentity(msg.identity));
    bridge.on('open', () => this.#setOpen(true));
    bridge.on('page', (msg) => this.#setPage(msg.page));
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && bridge.embedded) this.#minimize();
    });
  }

  setTitle(name) {
    this.#chatbox.setTitle(name);
  }

  /** The site's proactive invitations, from the widget's config. */
  setInvitations(list) {
    this.#invitations.setInvitations(list);
  }

  /** The largest file the server takes, in bytes (0: none). */
  setFileLimit(bytes) {
    this.#maxFile = Number(bytes) || 0;
    this.#chatbox.setFileLimit(this.#maxFile);
  }

  start() {
    const c = this.#client;
    c.on('state', (state) => this.#chatbox.setConnection(state));
    c.on('hello', (data) => this.#onHello(data));
    c.on('helloError', (err) => err.code === 105 && this.#forgetConversation());
    c.on('event', (ev) => this.#onEvent(ev));
    c.on('read', (d) => {
      if (d.conversation_id === this.#convId && d.reader === 'agent') this.#transcript.markSeen('visitor', d.seq);
    });
    document.addEventListener('visibilitychange', () => this.#sendRead());
    c.on('typing', (d) => {
      if (d.conversation_id === this.#convId && d.author !== 'visitor') this.#chatbox.showTyping(d.typing, this.#agentName);
    });
    c.on('queue', (q) => this.#setQueue(q.conversation_id, q));
    c.on('video', (v) => this.#call.applyVideo(v));
    c.on('call', (call) => this.#call.applyCall(call));
    c.on('call.candidate', (d) => this.#call.applyCandidate(d));
    c.on('call.media', (d) => this.#call.applyMedia(d));
    c.on('call.quality', (d) => this.#call.applyQuality(d));
    c.on('call.invite', (inv) => this.#call.applyInvite(inv));
    c.on('error', (err) => this.#chatbox.showNotice(errorMessage(this.#t, err)));
    c.on('terminated', ({ code }) => this.#restart(code));
    this.#chatbox.setConnection('connecting');
    this.#postUnread();
    // Renew the token before the first hello (a valid token keeps the visitor); the hello asks again if this fails.
    this.#session.refresh().catch(() => {}).finally(() => c.start());
  }

  #send(text, { quickReply = null } = {}) {
    const body = text.trim();
    if (!body || this.#ended) return false;
    if ([...body].length > MAX_MESSAGE_CHARS) {
      this.#chatbox.showNotice(errorMessage(this.#t, { code: 104 }));
      return false;
    }
    const clientMsgId = newId();
    this.#typing.stop();
    this.#quickReplies.clear();
    this.#transcript.addPending({ clientMsgId, body, author: 'visitor', authorName: this.#t('transcript.you') });
    this.#deliver(clientMsgId, body, quickReply);
    return true;
  }

  async #deliver(clientMsgId, body, quickReply = null) {
    // One conversation at a time: messages typed before the first one's ack wait for its conversation id.
    if (!this.#convId && this.#creating) await this.#creating.catch(() => {});
    const data = { client_msg_id: clientMsgId, body };
    if (this.#convId) data.conversation_id = this.#convId;
    if (quickReply) data.quick_reply = quickReply;
    else if (!this.#convId && this.#invitations.accepted) data.invitation_id = this.#invitations.accepted.id;
    const request = this.#client.request('message.send', data, { persistent: true });
    if (!data.conversation_id) this.#creating = request;
    try {
      const ack = await request;
      if (data.invitation_id) this.#invitations.answered();
      if (!this.#convId && ack.conversation_id) this.#adopt(ack.conversation_id);
      if (ack.conversation_id === this.#convId) this.#transcript.confirm(clientMsgId, ack.seq);
    } catch (err) {
      const reason = errorMessage(this.#t, err);
      this.#transcript.fail(clientMsgId, reason, () => {
        this.#transcript.retrying(clientMsgId);
        this.#deliver(clientMsgId, body, quickReply);
      });
    } finally {
      if (this.#creating === request) this.#creating = null;
    }
  }

  // Sends a file as a message (docs/api.md, "Files in a chat"): shown at once as being sent, then as stored.
  #sendFile(file) {
    if (this.#ended) return;
    if (!this.#maxFile) {
      this.#chatbox.showNotice(this.#t('files.off'));
      return;
    }
    if (file.size > this.#maxFile) {
      this.#chatbox.showNotice(this.#t('files.too_large', { name: file.name, max: formatSize(this.#maxFile, this.#lang) }));
      return;
    }
    const clientMsgId = newId();
    this.#typing.stop();
    this.#quickReplies.clear();
    this.#transcript.addPending({ clientMsgId, body: file.name, author: 'visitor', authorName: this.#t('transcript.you'), file });
    this.#deliverFile(clientMsgId, file);
  }

  async #deliverFile(clientMsgId, file) {
    // Like a message: a file sent before the first message's ack waits for its conversation.
    if (!this.#convId && this.#creating) await this.#creating.catch(() => {});
    const upload = this.#uploadFile(clientMsgId, file);
    if (!this.#convId) this.#creating = upload;
    try {
      this.#onEvent(await upload); // the same event comes over the socket; whichever is first is shown
    } catch (err) {
      this.#transcript.fail(clientMsgId, fileErrorText(this.#t, err.code), () => {
        this.#transcript.retrying(clientMsgId);
        this.#deliverFile(clientMsgId, file);
      });
    } finally {
      if (this.#creating === upload) this.#creating = null;
    }
  }

  async #uploadFile(clientMsgId, file) {
    const { token } = await this.#session.ensure();
    const params = new URLSearchParams({ site: this.#site, name: file.name, client_msg_id: clientMsgId });
    if (this.#convId) params.set('conversation_id', this.#convId);
    let res;
    try {
      res = await fetch(`/api/widget/files?${params}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' },
        credentials: 'same-origin',
        body: file,
      });
    } catch {
      throw { code: 'network' };
    }
    const data = await res.json().catch(() => null);
    if (!res.ok || !data || !data.event) throw { code: (data && data.error && data.error.code) || `http_${res.status}` };
    return data.event;
  }

  // Reads a file of this visitor's conversations with their token.
  async #readFile(id) {
    const { token } = await this.#session.ensure();
    const res = await fetch(`/api/widget/files/${encodeURIComponent(id)}?site=${encodeURIComponent(this.#site)}`, {
      headers: { Authorization: `Bearer ${token}` },
      credentials: 'same-origin',
    });
    if (!res.ok) throw new Error(`parley: file ${id}: HTTP ${res.status}`);
    return res.blob();
  }

  #onHello(data) {
    this.#onHelloConversation(data);
    const conv = data.conversation;
    if (conv && conv.id === this.#convId && conv.agent_read_seq > 0) this.#transcript.markSeen('visitor', conv.agent_read_seq);
    this.#readSent = 0; // a new connection: say again how far the visitor has read
    this.#openWithBot();
    this.#call.applyHello(data);
    this.#sendPage();
    this.#identitySent = ''; // a new connection: say it again
    this.#sendIdentity();
  }

  #setIdentity(identity) {
    if (!identity || typeof identity.email !== 'string' || typeof identity.hash !== 'string') return;
    this.#identity = { email: identity.email, name: typeof identity.name === 'string' ? identity.name : '', hash: identity.hash };
    this.#sendIdentity();
  }

  // Tells the server who the site says the visitor is (docs/protocol.md, `identify`); the agents see the name and
  // address. A refused identity (a wrong hash: the site's integration) is reported in the page's console.
  #sendIdentity() {
    const who = this.#identity;
    if (!who || !this.#client.ready) return;
    const key = JSON.stringify(who);
    if (key === this.#identitySent) return;
    this.#identitySent = key;
    this.#client.request('identify', who).catch((err) => {
      if (this.#identitySent === key) this.#identitySent = '';
      if (err.code === 100) console.error(`Parley: the visitor's identity was refused: ${err.message}`);
    });
  }

  #setPage(page) {
    if (!page || typeof page.url !== 'string' || typeof page.title !== 'string') return;
    this.#page = { url: page.url, title: page.title };
    this.#sendPage();
    this.#invitations.setPage(this.#page);
  }

  // Tells the server which page of the site the visitor is on (docs/protocol.md, `page`), once per conversation
  // and page: the agent sees it beside the conversation.
  #sendPage() {
    const page = this.#page;
    if (!page || !this.#convId || this.#ended) return;
    const key = JSON.stringify([this.#convId, page.url, page.title]);
    if (key === this.#pageSent) return;
    this.#pageSent = key;
    this.#client.request('page', { conversation_id: this.#convId, url: page.url, title: page.title })
      .catch(() => {
        if (this.#pageSent === key) this.#pageSent = ''; // try again after the next hello
      });
  }

  #onHelloConversation(data) {
    const conv = data.conversation;
    const id = conv && (conv.id || conv.conversation_id);
    if ('queue' in data) {
      const q = data.queue;
      if (q && q.conversation_id) this.#setQueue(q.conversation_id, q);
      else if (id || this.#convId) this.#setQueue(id || this.#convId, null);
    }
    if (!id) {
      // The saved conversation is not this visitor's any more (or never was): start afresh.
      if (this.#convId && this.#transcript.lastSeq === 0) this.#forgetConversation();
      return;
    }
    if (id === this.#convId || this.#dismissed.has(id)) return;
    if (this.#convId && !this.#ended) return; // ours is still open: keep showing it
    // The visitor has an open conversation this page didn't know (started in another tab, say). The server replays
    // the conversation it names in the ack from its start, so showing it is enough.
    this.#switchTo(id);
  }

  #onEvent(ev) {
    const id = ev.conversation_id;
    if (this.#dismissed.has(id)) return;
    if (id !== this.#convId) {
      if (this.#convId && !this.#ended) return;
      this.#switchTo(id);
      if (ev.seq > 1) this.#resync(id);
    }
    if (!this.#transcript.add(ev)) return;
    this.#quickReplies.shown(ev.seq);
    this.#saved.update({ last_seq: this.#transcript.lastSeq });
    if (ev.type === 'assigned') {
      this.#agentName = ev.author_name || null;
      this.#chatbox.setAgent(this.#agentName);
      // The server pushes `assigned` too; this only makes sure the waiting room goes as the agent joins.
      const q = this.#queues.get(id);
      if (q && (q.state === 'queued' || q.state === 'offered')) this.#setQueue(id, { ...q, state: 'assigned' });
    } else if (ev.type === 'transferred') {
      this.#agentName = null; // a colleague joins next
      this.#chatbox.setAgent(null);
    } else if (ev.type === 'ended') {
      this.#setEnded(true);
      // Nobody will come any more; a visitor who was turned away may still leave a message.
      const state = this.#queues.get(id)?.state;
      if (state !== 'refused' && state !== 'expired') this.#setQueue(id, null);
    } else if (ev.type === 'message' && ev.author !== 'visitor') {
      this.#incoming.push(ev.seq);
      this.#chatbox.showTyping(false);
    }
    this.#call.applyEvent(ev);
    this.#postUnread();
  }

  // Shows conversation id instead of an ended one (or instead of none).
  #switchTo(id) {
    if (this.#convId) this.#resetView();
    this.#adopt(id);
  }

  // Reconnects asking for the whole of conversation id: events before the ones this page saw were never shown.
  #resync(id) {
    this.#client.forget(id);
    queueMicrotask(() => this.#client.reconnectNow());
  }

  #adopt(id) {
    this.#convId = id;
    this.#readSent = 0;
    this.#invitations.withdraw();
    this.#saved.adopt(id);
    this.#renderQueue();
    this.#call.conversationChanged();
    this.#sendPage();
  }

  #setQueue(id, queue) {
    if (!id || this.#dismissed.has(id)) return;
    if (queue) this.#queues.set(id, queue);
    else this.#queues.delete(id);
    if (id === this.#convId) this.#renderQueue();
  }

  #renderQueue() {
    const id = this.#convId;
    const q = (id && this.#queues.get(id)) || {};
    this.#waitingRoom.render({
      state: this.#queueState(q),
      video: Boolean(this.#call.waiting) || q.channel === 'video',
      position: q.position,
      eta: q.eta,
      reason: q.reason,
      opensAt: q.opens_at,
      leftQueue: this.#leftQueue.has(id),
      contactEmail: id ? this.#saved.get('contact_email') : undefined,
      dismissed: id ? this.#saved.get('dismissed') : undefined,
    });
  }

  // The waiting room follows the video call while the visitor waits for it, whichever frame comes first; once the
  // call is live, a video queue that still says "waiting" is stale.
  #queueState(q) {
    const waiting = this.#call.waiting;
    const state = q.state || null;
    if (waiting === 'ringing') return 'offered';
    if (waiting === 'queued') return state === 'queued' || state === 'offered' ? state : 'queued';
    if (this.#call.live && (state === 'queued' || state === 'offered') && q.channel !== 'chat') return null;
    return state;
  }

  async #leaveQueue() {
    if (this.#call.leaveQueue()) return;
    const id = this.#convId;
    if (!id) return;
    try {
      await this.#client.request('queue.leave', { conversation_id: id });
      this.#leftQueue.add(id);
      this.#setQueue(id, { ...this.#queues.get(id), conversation_id: id, state: 'abandoned' });
    } catch (err) {
      this.#chatbox.showNotice(errorMessage(this.#t, err));
    }
  }

  /** contact.leave; rejects with the RealtimeError when refused (the waiting room shows why). */
  async #leaveMessage(email, body) {
    const id = this.#convId;
    if (!id) throw new RealtimeError({ code: 105 });
    await this.#client.request('contact.leave', { conversation_id: id, email, body });
    if (this.#convId !== id) return;
    this.#saved.update({ contact_email: email, dismissed: null });
    this.#renderQueue();
  }

  #setEnded(ended) {
    if (ended && !this.#ended) this.#rating.reset(Boolean(this.#saved.get('rated')));
    this.#ended = ended;
    this.#chatbox.setEnded(ended);
    if (ended) this.#typing.stop();
    this.#call.conversationChanged();
  }

  async #rate(score, comment) {
    const id = this.#convId;
    if (!id) throw new RealtimeError({ code: 105 });
    await this.#client.request('rating', { conversation_id: id, score, comment });
    if (this.#convId === id) this.#saved.update({ rated: score });
  }

  // "Start a new conversation": the next message creates one (message.send without conversation_id).
  #startNew() {
    if (this.#convId) {
      this.#dismissed.add(this.#convId);
      this.#client.forget(this.#convId);
    }
    this.#forgetConversation();
    this.#chatbox.focusInput();
    this.#openWithBot();
  }

  // On a site with a bot, opening the chatbox opens a conversation (conversation.open), so the bot greets the
  // visitor before they write. Elsewhere the server answers null and the first message opens the conversation.
  // Not for a visitor who opened a proactive invitation: their first message opens the conversation, which then
  // starts with the invitation (the site's bot takes it from that message).
  async #openWithBot() {
    if (!this.#open || this.#convId || this.#creating || this.#opening || !this.#client.ready) return;
    if (this.#invitations.accepted) return;
    this.#opening = true;
    try {
      const ack = await this.#client.request('conversation.open', {});
      if (ack.conversation_id && !this.#convId && !this.#dismissed.has(ack.conversation_id)) this.#adopt(ack.conversation_id);
    } catch { /* the first message opens the conversation anyway */ } finally {
      this.#opening = false;
    }
  }

  #forgetConversation() {
    this.#saved.clear();
    this.#convId = null;
    this.#resetView();
  }

  #resetView() {
    this.#transcript.clear();
    this.#quickReplies.reset();
    this.#renderQueue();
    this.#incoming = [];
    this.#agentName = null;
    this.#chatbox.setAgent(null);
    this.#chatbox.showTyping(false);
    this.#setEnded(false);
    this.#postUnread();
  }

  // The socket was closed for good (4500–4999): get a token again (a new visitor after 4500 or a refused renewal)
  // and reconnect, waiting longer each time it happens in a row.
  async #restart(code) {
    const before = this.#session.visitorId;
    const delay = this.#restarts === 0 ? 0 : Math.min(30000, 1000 * 2 ** this.#restarts);
    this.#restarts++;
    clearTimeout(this.#restartsReset);
    await sleep(delay);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#session.refresh({ drop: code === 4500 });
        break;
      } catch {
        await sleep(Math.min(30000, 1000 * 2 ** attempt));
      }
    }
    if (this.#session.visitorId !== before) {
      // A new visitor cannot see the old visitor's conversation.
      if (this.#convId) this.#dismissed.add(this.#convId);
      this.#forgetConversation();
    }
    this.#client.start();
    this.#restartsReset = setTimeout(() => (this.#restarts = 0), 60000);
  }

  #minimize() {
    this.#setOpen(false);
    this.#bridge.post({ parley: 'minimize' });
  }

  #setOpen(open) {
    this.#open = open;
    this.#call.setOpen(open);
    if (open) {
      this.#invitations.withdraw();
      this.#openWithBot();
      this.#transcript.scrollToEnd();
      if (matchMedia('(pointer: fine)').matches) this.#chatbox.focusInput();
    } else {
      this.#typing.stop();
    }
    this.#postUnread();
  }

  // Tells the agent how far the visitor has read (their desk shows "Seen"): while the chatbox is open in a tab the
  // visitor is looking at.
  #sendRead() {
    // Events replayed after a reconnect come one by one: one read says the last of them.
    if (this.#readTimer) return;
    this.#readTimer = setTimeout(() => {
      this.#readTimer = null;
      this.#flushRead();
    }, READ_DELAY_MS);
  }

  #flushRead() {
    const seq = this.#transcript.lastSeq;
    if (!this.#open || !this.#convId || this.#ended || document.visibilityState !== 'visible' || seq <= this.#readSent) return;
    if (!this.#client.ready) return;
    this.#readSent = seq;
    this.#client.request('read', { conversation_id: this.#convId, seq }).catch(() => {
      if (this.#readSent === seq) this.#readSent = 0;
    });
  }

  // While the chatbox is open everything is read; while it is minimized (or not opened yet) messages from the other
  // side after read_seq are unread.
  #postUnread() {
    let count = 0;
    if (this.#open) {
      this.#saved.update({ read_seq: this.#transcript.lastSeq });
      this.#sendRead();
    } else {
      const readSeq = this.#saved.readSeq;
      count = this.#incoming.filter((seq) => seq > readSeq).length;
      if (this.#call.inviting) count++; // an agent's invitation to video waits: the launcher's badge says so
    }
    if (count === this.#unreadPosted) return;
    this.#unreadPosted = count;
    this.#bridge.post({ parley: 'unread', count });
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
