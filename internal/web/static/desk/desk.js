// The agent desk (served at /desk/): sign-in, then the agent's availability, incoming offers (video calls ring),
// the conversation list and the selected conversation with its video call, kept live over the desk socket
// (/ws/desk); "Escalate to video" in the agent's chats, for agents allowed to; and, for supervisors and admins, the
// supervision panel.

import { h } from '/static/shared/dom.js';
import { onUnauthenticated } from '/static/shared/api.js';
import { currentAccount, logOut } from '/static/shared/account.js';
import { signedInAccount, showLogin } from '/static/shared/login.js';
import { topbar } from '/static/shared/topbar.js';
import { RealtimeClient, socketUrl } from '/static/shared/realtime.js';
import { ConversationList } from './conversations.js';
import { ConversationView } from './conversation_view.js';
import { CallPanel } from './call_panel.js';
import { Escalation } from './escalation.js';
import { IncomingCall } from './incoming_call.js';
import { Offers } from './offers.js';
import { Presence } from './presence.js';
import { SupervisorPanel } from './supervisor.js';
import { Toasts } from './toast.js';

const APP = 'Desk';
const TITLE = 'Parley Desk';
const SESSION_ENDED = 'Your session has ended. Please sign in again.';
const STATUS_DELAY_MS = 1500;
const root = document.getElementById('app');

class Desk {
  #account;
  #onSignedOut;
  #client;
  #list;
  #view;
  #presence;
  #offers;
  #calls;
  #escalation;
  #incoming;
  #supervisor = null;
  #status;
  #statusTimer = null;
  #finished = false;
  #lastSessionCheck = 0;

  /** onSignedOut(notice) is called once, when the session ends or the agent logs out. */
  constructor(account, onSignedOut) {
    this.#account = account;
    this.#onSignedOut = onSignedOut;
  }

  start() {
    this.#client = new RealtimeClient({ url: socketUrl('/ws/desk'), helloData: () => ({ resume: this.#view.resumeMap() }) });
    this.#list = new ConversationList({
      accountId: this.#account.id,
      onSelect: (id) => this.#view.show(id),
      onChange: () => this.#updateTitle(),
    });
    const toasts = new Toasts();
    const notify = (text, kind) => toasts.show(text, kind);
    this.#escalation = new Escalation({ client: this.#client, accountId: this.#account.id });
    this.#calls = new CallPanel({
      client: this.#client,
      account: this.#account,
      notify,
      onLive: (id) => !this.#finished && this.#view.current !== id && this.#view.show(id),
      labelFor: (id) => this.#list.get(id)?.visitor_label,
      invitedCall: (id) => this.#escalation.invitedCall(id),
    });
    this.#incoming = new IncomingCall({ calls: this.#calls });
    this.#view = new ConversationView({ client: this.#client, account: this.#account, list: this.#list, callPanel: this.#calls,
      escalation: this.#escalation });
    this.#status = h('span', { class: 'connection', role: 'status', hidden: true });
    this.#presence = new Presence({ client: this.#client, agentId: this.#account.id, notify });
    this.#offers = new Offers({ client: this.#client, notify, incoming: this.#incoming,
      onAccepted: (id, summary) => this.#accepted(id, summary) });
    if (this.#account.supervisor || this.#account.role === 'admin') this.#supervisor = new SupervisorPanel();

    const links = this.#account.role === 'admin' ? [{ href: '/admin/', text: 'Admin' }] : [];
    // The pre-call check (/check), for an agent whose calls go badly.
    links.push({ href: '/check', text: 'Test my connection', testid: 'test-connection', newTab: true });
    const status = h('span', { class: 'topbar__status' }, this.#presence.controls, this.#status);
    root.replaceChildren(
      topbar({ app: APP, account: this.#account, links, status, onLogout: () => this.#logOut() }),
      this.#presence.banner,
      h('div', { class: 'desk' },
        h('div', { class: 'desk__side' }, this.#supervisor?.element, this.#list.element),
        this.#view.element),
      this.#offers.element,
      toasts.element,
    );

    onUnauthenticated(() => this.#finish(SESSION_ENDED));
    const c = this.#client;
    c.on('state', (state) => {
      this.#showState(state);
      this.#presence.setConnected(state === 'open');
    });
    c.on('hello', (data) => {
      this.#presence.apply(data.presence);
      this.#offers.reconcile(data.offers);
      this.#escalation.applyHello(data);
      this.#calls.applyHello(data);
      // After every (re)connect: the list may have missed conversations while the socket was down, and the
      // conversation on screen its notes (events are replayed by the hello, notes are not).
      this.#list.load();
      this.#view.refresh();
    });
    c.on('presence', (p) => {
      this.#presence.apply(p);
      this.#supervisor?.changed();
    });
    c.on('offer', (offer) => this.#offers.add(offer));
    c.on('offer.ended', (d) => this.#offers.end(d));
    c.on('event', (ev) => {
      this.#list.applyEvent(ev);
      this.#view.applyEvent(ev);
      this.#calls.applyEvent(ev);
      this.#escalation.applyEvent(ev);
    });
    c.on('call.invite', (inv) => this.#escalation.applyInvite(inv));
    c.on('call', (call) => {
      this.#escalation.applyCall(call);
      this.#calls.applyCall(call);
    });
    c.on('call.candidate', (d) => this.#calls.applyCandidate(d));
    c.on('call.media', (d) => this.#calls.applyMedia(d));
    c.on('call.quality', (d) => this.#calls.applyQuality(d));
    c.on('conversation', (summary) => {
      this.#list.upsert(summary);
      this.#view.applySummary(summary);
      this.#supervisor?.changed();
    });
    c.on('typing', (d) => this.#view.applyTyping(d));
    c.on('note', (note) => this.#view.applyNote(note));
    c.on('read', (d) => this.#view.applyRead(d));
    c.on('close', ({ wasOpen }) => wasOpen || this.#checkSession());
    c.on('terminated', ({ code }) => {
      if (code === 4502) this.#finish(SESSION_ENDED);
      else this.#checkSession().then(() => !this.#finished && setTimeout(() => c.start(), 2000));
    });

    this.#list.load().then(() => {
      const id = decodeURIComponent(location.hash.slice(1));
      if (id && !this.#finished) this.#view.show(id);
    });
    c.start();
    this.#supervisor?.start();
  }

  // An accepted offer: the conversation is this agent's; show it.
  #accepted(id, summary) {
    if (!id || this.#finished) return;
    this.#list.upsert({ ...summary, id, agent_id: this.#account.id, agent_name: this.#account.name, routing: 'assigned' });
    this.#view.show(id);
  }

  async #logOut() {
    this.#client.stop();
    try {
      await logOut();
    } catch { /* the session is over either way */ }
    this.#finish('');
  }

  // A socket refused at the upgrade (401) closes before any hello: ask the API whether the session still exists.
  async #checkSession() {
    if (Date.now() - this.#lastSessionCheck < 10000) return;
    this.#lastSessionCheck = Date.now();
    try {
      if (!(await currentAccount())) this.#finish(SESSION_ENDED);
    } catch { /* offline: the client keeps trying */ }
  }

  #finish(notice) {
    if (this.#finished) return;
    this.#finished = true;
    this.#client.stop();
    this.#view.destroy();
    this.#offers.reconcile([]);
    this.#incoming.destroy();
    this.#calls.destroy();
    this.#escalation.destroy();
    this.#supervisor?.stop();
    clearTimeout(this.#statusTimer);
    onUnauthenticated(null);
    document.title = TITLE;
    history.replaceState(null, '', location.pathname);
    this.#onSignedOut(notice);
  }

  #showState(state) {
    clearTimeout(this.#statusTimer);
    if (state === 'open') {
      this.#status.hidden = true;
      return;
    }
    this.#statusTimer = setTimeout(() => {
      this.#status.textContent = navigator.onLine ? 'Reconnecting…' : 'Offline: reconnecting when the network is back…';
      this.#status.hidden = false;
    }, STATUS_DELAY_MS);
  }

  #updateTitle() {
    const n = this.#list.unreadCount();
    document.title = n ? `(${n}) ${TITLE}` : TITLE;
  }
}

function run(account) {
  new Desk(account, (notice) => showLogin(root, { title: APP, notice }).then(run)).start();
}

signedInAccount(root, { title: APP }).then(run);
