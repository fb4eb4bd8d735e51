// RealtimeClient: the browser side of docs/protocol.md, used by the widget and the desk.
//
// It owns one WebSocket at a time and hides reconnects from the app: it says hello first, replays requests that
// were never acknowledged, drops events it has already seen, answers pings, and reconnects with backoff.
//
// Events (client.on(name, fn)):
//   state       'connecting' | 'open' | 'closed' ('open' means the hello was acknowledged)
//   hello       the hello ack's data
//   helloError  a RealtimeError refusing the hello (the client then reconnects with backoff)
//   event       a conversation event's data (seq already deduplicated), and the envelope
//   conversation, typing   the frame's data
//   presence, offer, offer.ended, queue   the routing frames' data (docs/protocol.md, "Routing payloads")
//   video, call, call.candidate, call.media, call.invite   the video-call frames' data (docs/protocol.md, "Video calls")
//   error       an error frame that names no pending request
//   close       {code, reason, wasOpen}, after every close
//   terminated  {code, reason}: closed with a 4500–4999 code; no reconnect until start() is called again
//   frame       any other server frame (its envelope), for features added later

export const PROTOCOL_VERSION = 1;

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15000;
const SILENCE_MS = 60000; // the server pings every 25 s; 60 s of nothing means the socket is dead
const HELLO_TIMEOUT_MS = 10000;
const PROBE_MS = 5000;

/** A random UUID (v4), for client_msg_id. */
export function newId() {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID(); // secure contexts only
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The ws:// or wss:// URL of path on this page's host. */
export function socketUrl(path) {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
}

/** A refused request: an error frame's data, or a local reason ('disconnected', 'stopped'). */
export class RealtimeError extends Error {
  constructor(data) {
    super(data.message || String(data.code));
    this.name = 'RealtimeError';
    this.code = data.code;
    this.retry = Boolean(data.retry);
    this.retryAfterMs = data.retry_after_ms || 0;
  }
}

const isTerminal = (code) => code >= 4500 && code <= 4999;

export class RealtimeClient {
  #url;
  #helloData;
  #ws = null;
  #state = 'closed';
  #ready = false;
  #running = false;
  #listeners = new Map();
  #pending = new Map(); // id → {type, data, persistent, sent, resolve, reject}, in the order they were made
  #seqs = new Map(); // conversation id → last seq seen
  #nextId = 1;
  #helloId = null;
  #attempt = 0;
  #lastDisconnect = null;
  #reconnectTimer = null;
  #silenceTimer = null;
  #helloTimer = null;

  /**
   * url: the socket URL (see socketUrl). helloData: a function returning (or resolving to) the hello's data.
   * When it returns a `resume` map, only those conversations are resumed, each from the later of the given seq
   * and the last seq this client saw; otherwise every conversation this client saw is resumed.
   */
  constructor({ url, helloData = () => ({}) }) {
    this.#url = url;
    this.#helloData = helloData;
  }

  get state() {
    return this.#state;
  }

  get ready() {
    return this.#ready;
  }

  on(name, fn) {
    if (!this.#listeners.has(name)) this.#listeners.set(name, new Set());
    this.#listeners.get(name).add(fn);
    return () => this.#listeners.get(name).delete(fn);
  }

  start() {
    if (this.#running) return;
    this.#running = true;
    window.addEventListener('online', this.#onOnline);
    this.#connect();
  }

  /** Closes for good: pending requests are refused with code 'stopped'. */
  stop() {
    this.#running = false;
    window.removeEventListener('online', this.#onOnline);
    clearTimeout(this.#reconnectTimer);
    this.#drop(1000);
    for (const [id, req] of this.#pending) {
      this.#pending.delete(id);
      req.reject(new RealtimeError({ code: 'stopped', message: 'the client was stopped' }));
    }
    this.#setState('closed');
  }

  /** Drops the current socket and connects again at once (for example to resume a conversation from seq 0). */
  reconnectNow() {
    if (!this.#running) return;
    this.#drop(1000);
    this.#afterClose(0, 'reconnect', true);
  }

  /**
   * Sends a request and resolves with its ack's data, or rejects with a RealtimeError. Requests made while
   * disconnected wait for the next hello. A persistent request (message.send) survives disconnects and is sent
   * again, unchanged, after each reconnect until it is acknowledged or refused; any other request already sent is
   * refused with code 'disconnected' when its socket closes.
   */
  request(type, data, { persistent = false } = {}) {
    return new Promise((resolve, reject) => {
      const id = `r${this.#nextId++}`;
      const req = { type, data, persistent, sent: false, resolve, reject };
      this.#pending.set(id, req);
      if (this.#ready) this.#transmit(id, req);
    });
  }

  /** Sends a frame that has no reply (typing). Returns false, dropping it, when not connected. */
  send(type, data) {
    return this.#ready && this.#write({ v: PROTOCOL_VERSION, type, data });
  }

  /** Records that the app holds conversation convId up to seq (for example from an HTTP transcript). */
  track(convId, seq) {
    if (seq > (this.#seqs.get(convId) || 0)) this.#seqs.set(convId, seq);
  }

  lastSeq(convId) {
    return this.#seqs.get(convId) || 0;
  }

  /** Forgets convId: its events are all accepted again, and it is not resumed unless the app names it. */
  forget(convId) {
    this.#seqs.delete(convId);
  }

  #emit(name, ...args) {
    for (const fn of this.#listeners.get(name) || []) {
      try {
        fn(...args);
      } catch (err) {
        console.error('parley: realtime listener failed', err);
      }
    }
  }

  #setState(state) {
    if (this.#state === state) return;
    this.#state = state;
    this.#emit('state', state);
  }

  #connect() {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.#url);
    } catch (err) {
      console.error('parley: cannot open the socket', err);
      this.#afterClose(0, 'cannot connect', false);
      return;
    }
    this.#ws = ws;
    this.#lastDisconnect = null;
    ws.onopen = () => this.#sayHello(ws);
    ws.onmessage = (e) => ws === this.#ws && this.#onFrame(e.data);
    ws.onclose = (e) => {
      if (ws !== this.#ws) return;
      const wasOpen = this.#ready;
      this.#detach();
      this.#afterClose(e.code, e.reason, false, wasOpen);
    };
    this.#armSilence();
  }

  async #sayHello(ws) {
    let data;
    try {
      data = (await this.#helloData()) || {};
    } catch (err) {
      console.warn('parley: cannot prepare the hello', err);
      if (ws === this.#ws) this.#abandon();
      return;
    }
    if (ws !== this.#ws || ws.readyState !== WebSocket.OPEN) return;
    this.#helloId = `h${this.#nextId++}`;
    this.#write({ v: PROTOCOL_VERSION, type: 'hello', id: this.#helloId, data: { ...data, resume: this.#resume(data.resume) } });
    this.#helloTimer = setTimeout(() => ws === this.#ws && this.#abandon(), HELLO_TIMEOUT_MS);
  }

  #resume(given) {
    if (!given) return Object.fromEntries(this.#seqs);
    const resume = {};
    for (const [convId, seq] of Object.entries(given)) resume[convId] = Math.max(Number(seq) || 0, this.lastSeq(convId));
    return resume;
  }

  #onFrame(raw) {
    this.#armSilence();
    let env;
    try {
      env = JSON.parse(raw);
    } catch {
      return;
    }
    if (!env || typeof env !== 'object') return;
    switch (env.type) {
      case 'ping':
        this.#write({ v: PROTOCOL_VERSION, type: 'pong' });
        break;
      case 'pong':
        break;
      case 'ack':
        if (env.id && env.id === this.#helloId) this.#onHelloAck(env.data || {});
        else this.#settle(env.id, (req) => req.resolve(env.data || {}));
        break;
      case 'error': {
        const err = new RealtimeError(env.data || {});
        if (env.id && env.id === this.#helloId) {
          this.#emit('helloError', err);
          this.#abandon();
        } else if (env.id && this.#pending.has(env.id)) {
          this.#settle(env.id, (req) => req.reject(err));
        } else {
          this.#emit('error', err);
        }
        break;
      }
      case 'event':
        this.#onEvent(env);
        break;
      case 'conversation':
      case 'typing':
      case 'read':
      case 'note':
      case 'presence':
      case 'offer':
      case 'offer.ended':
      case 'queue':
      case 'video':
      case 'call':
      case 'call.candidate':
      case 'call.media':
      case 'call.quality':
      case 'call.invite':
        this.#emit(env.type, env.data || {});
        break;
      case 'disconnect':
        this.#lastDisconnect = env.data || null;
        break;
      default:
        this.#emit('frame', env);
    }
  }

  #onHelloAck(data) {
    clearTimeout(this.#helloTimer);
    this.#helloId = null;
    this.#ready = true;
    this.#attempt = 0;
    const ws = this.#ws;
    this.#setState('open');
    this.#emit('hello', data);
    // A hello listener may have dropped this socket (reconnectNow); the requests then wait for the next one.
    for (const [id, req] of this.#pending) {
      if (this.#ws !== ws || !this.#ready) break;
      if (!req.sent) this.#transmit(id, req);
    }
  }

  #onEvent(env) {
    const ev = env.data;
    if (!ev || !ev.conversation_id) return;
    const seq = Number(env.seq ?? ev.seq);
    if (Number.isFinite(seq)) {
      const last = this.#seqs.get(ev.conversation_id);
      if (last !== undefined && seq <= last) return; // already delivered
      this.#seqs.set(ev.conversation_id, seq);
    }
    this.#emit('event', ev, env);
  }

  #settle(id, fn) {
    const req = this.#pending.get(id);
    if (!req) return;
    this.#pending.delete(id);
    fn(req);
  }

  #transmit(id, req) {
    req.sent = this.#write({ v: PROTOCOL_VERSION, type: req.type, id, data: req.data });
  }

  #write(frame) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  #armSilence() {
    clearTimeout(this.#silenceTimer);
    const ws = this.#ws;
    this.#silenceTimer = setTimeout(() => ws === this.#ws && this.#abandon(), SILENCE_MS);
  }

  // Gives up on the current socket (silence, no hello ack, a refused hello) and reconnects with backoff.
  #abandon() {
    const wasOpen = this.#ready;
    this.#drop(1000);
    this.#afterClose(0, 'abandoned', false, wasOpen);
  }

  // Closes and forgets the current socket without running its close handler.
  #drop(code) {
    const ws = this.#ws;
    this.#detach();
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      ws.close(code);
    } catch { /* already closing */ }
  }

  #detach() {
    this.#ws = null;
    this.#ready = false;
    this.#helloId = null;
    clearTimeout(this.#helloTimer);
    clearTimeout(this.#silenceTimer);
    for (const [id, req] of this.#pending) {
      if (!req.sent) continue;
      req.sent = false;
      if (req.persistent) continue;
      this.#pending.delete(id);
      req.reject(new RealtimeError({ code: 'disconnected', message: 'the connection was lost', retry: true }));
    }
  }

  #afterClose(closeCode, reason, immediate, wasOpen = false) {
    // The disconnect frame carries the code even when the browser only saw an abnormal close.
    const d = this.#lastDisconnect;
    this.#lastDisconnect = null;
    const code = (d && d.code) || closeCode;
    this.#setState('closed');
    this.#emit('close', { code, reason: (d && d.reason) || reason, wasOpen });
    if (!this.#running) return;
    if (isTerminal(code) || (d && d.reconnect === false)) {
      this.#running = false;
      window.removeEventListener('online', this.#onOnline);
      this.#emit('terminated', { code, reason: (d && d.reason) || reason });
      return;
    }
    if (immediate) {
      this.#connect();
      return;
    }
    // Full jitter: a random delay up to 0.5 s, 1 s, 2 s … 15 s.
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.#attempt);
    this.#attempt++;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => this.#connect(), Math.random() * cap);
  }

  // Back online: connect now if we were waiting, and otherwise check that the socket survived the network change
  // (a ping must get an answer within a few seconds).
  #onOnline = () => {
    if (!this.#running) return;
    if (!this.#ws) {
      this.#connect();
      return;
    }
    if (!this.#ready) return;
    clearTimeout(this.#silenceTimer);
    const ws = this.#ws;
    this.#silenceTimer = setTimeout(() => ws === this.#ws && this.#abandon(), PROBE_MS);
    this.#write({ v: PROTOCOL_VERSION, type: 'ping' });
  };
}
