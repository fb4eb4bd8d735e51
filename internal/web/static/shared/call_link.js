// CallLink: a call view's connection to the relay, as the desk's call panel and the widget's call both hold it.
// It owns the CallConnection (shared/call_client.js) of the moment, what its state shows ('connecting',
// 'connected', 'failed'), the relay's quality tiers (call.quality), and the signalling frames about it. The view
// keeps what is its own: the call, the devices, where the streams go on screen, and what a failure tells the person.

import { CallConnection } from '/static/shared/call_client.js';

const FULL_QUALITY = { tier: 'high', peerTier: 'high' };

export class CallLink {
  /** The CallConnection now, or null. */
  conn = null;
  /** What the view shows of it: 'connecting', 'connected' or 'failed'. */
  connection = 'connecting';
  /** call.quality: our publishing tier, and the other side's. */
  quality = FULL_QUALITY;
  #client;
  #onChange;

  /** client: the RealtimeClient. onChange(): the connection's state or quality changed (the view draws again). */
  constructor({ client, onChange }) {
    this.#client = client;
    this.#onChange = onChange;
  }

  /** Whether the call needs a connection: there is none, or it is another call's. */
  needs(call) {
    return !this.conn || this.conn.callId !== call.call_id;
  }

  /** A call.candidate frame. */
  applyCandidate(d) {
    if (this.conn && d.call_id === this.conn.callId) this.conn.addRemoteCandidate(d.candidate ?? null);
  }

  /** A call.quality frame: the relay's target for our video (shared/quality.js). */
  applyQuality(d) {
    this.conn?.applyQuality(d);
  }

  /**
   * The socket came back (the hello ack) with call live: a connection that did not survive is dropped, so that the
   * view connects again (the relay replaces the old leg).
   */
  resume(call) {
    if (call.state === 'live' && this.conn && this.connection !== 'connected') {
      this.conn.close();
      this.conn = null;
    }
  }

  /**
   * Connects to call with media, replacing the connection of the moment. show(conn) puts the new connection's
   * streams on screen at once; it connects once ready (the devices) settles, without them if they failed: the
   * other side is still seen and heard. takeOver moves the call here from another tab ("Continue here"). Resolves
   * with the connection once it is up, or null when another one replaced it meanwhile; rejects with the error
   * otherwise (code 'disconnected' when the socket dropped: the next hello connects again).
   */
  async connect({ call, media, ready, takeOver = false, show }) {
    this.conn?.close();
    const conn = new CallConnection({
      client: this.#client,
      call,
      media,
      onState: (state) => {
        if (conn !== this.conn || state === 'closed') return;
        this.connection = state === 'connected' || state === 'failed' ? state : 'connecting';
        this.#onChange();
      },
      onQuality: (q) => {
        if (conn !== this.conn) return;
        this.quality = q;
        this.#onChange();
      },
    });
    this.conn = conn;
    this.connection = 'connecting';
    show(conn);
    await ready;
    if (conn !== this.conn) return null;
    try {
      await conn.connect({ takeOver });
    } catch (err) {
      if (conn !== this.conn) return null;
      throw err;
    }
    return conn === this.conn ? conn : null;
  }

  /** Ends the connection; the next one starts afresh. */
  close() {
    this.conn?.close();
    this.conn = null;
    this.connection = 'connecting';
    this.quality = FULL_QUALITY;
  }
}
