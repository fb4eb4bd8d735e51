// CallConnection: one side's leg of a video call, a single RTCPeerConnection to Parley's relay (docs/protocol.md,
// "Video calls"), shared by the widget and the desk.
//
// The browser always offers: an audio transceiver, then a video one, both sendrecv (video is recvonly when this side's
// camera may not be used), so that the relay answers with the other side's tracks on them and a camera turned off
// and on again never needs a new offer. Candidates are trickled both ways: the relay's are held until the answer is
// applied, ours until call.connect is acknowledged (the relay's leg exists only then).
//
// When the network changes (ICE disconnected or failed, or the browser's `online` event), the connection restarts
// ICE: a new offer with iceRestart, sent with call.connect again. The relay renegotiates the same leg (docs/protocol.md,
// "ICE restart"): the DTLS session, the tracks and the picture carry on once ICE finds the new path.

import { SenderQuality } from '/static/shared/quality.js';

export class CallConnection {
  #client;
  #callId;
  #media;
  #onState;
  #pc = null;
  #audio = null;
  #video = null;
  #remoteCandidates = []; // the relay's, until the answer is applied
  #localCandidates = []; // ours, until call.connect is acknowledged
  #acked = false;
  #closed = false;
  #offMedia = null;
  #sentMedia = '';
  #restarting = false;
  #restartTimer = null;
  #restartTries = 0;
  #onOnline = null;

  /**
   * client: a RealtimeClient. call: the CALL (its call_id and, when the server sends one, an ice_servers list).
   * media: a LocalMedia. onState(state) follows RTCPeerConnection.connectionState ('new', 'connecting', 'connected',
   * 'disconnected', 'failed', 'closed').
   */
  constructor({ client, call, media, onState = () => {}, onQuality = () => {} }) {
    this.#client = client;
    this.#callId = call.call_id;
    this.#media = media;
    this.#onState = onState;
    // The relay's track on each receiver, whenever it starts flowing: one stream to show, one to hear.
    this.remoteVideo = new MediaStream();
    this.remoteAudio = new MediaStream();
    this.iceServers = Array.isArray(call.ice_servers) ? call.ice_servers : [];
    // The relay's quality tier for our video (call.quality; shared/quality.js). onQuality({tier, peerTier}).
    this.quality = new SenderQuality({ sender: () => this.#video?.sender || null,
      track: () => (media.cameraAllowed ? media.videoTrack || null : null), onChange: onQuality });
  }

  /** A call.quality frame: the relay's target for the video we send, and the other side's tier. */
  applyQuality(d) {
    if (!this.#closed && d && d.call_id === this.#callId) this.quality.apply(d);
  }

  get callId() {
    return this.#callId;
  }

  get state() {
    return this.#pc ? this.#pc.connectionState : 'new';
  }

  /**
   * Sends the offer (call.connect) and applies the relay's answer. Rejects when either fails. takeOver moves the
   * call here from another tab of the same person ("Continue here"); without it, a call another tab holds is
   * refused.
   */
  async connect({ takeOver = false } = {}) {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.#pc = pc;
    const media = this.#media;
    this.#audio = pc.addTransceiver(media.audioTrack || 'audio', { direction: 'sendrecv', streams: [media.stream] });
    this.#video = pc.addTransceiver(media.cameraAllowed ? media.videoTrack || 'video' : 'video',
      { direction: media.cameraAllowed ? 'sendrecv' : 'recvonly', streams: [media.stream] });
    this.remoteAudio.addTrack(this.#audio.receiver.track);
    this.remoteVideo.addTrack(this.#video.receiver.track);
    pc.addEventListener('icecandidate', (e) => this.#localCandidate(e.candidate));
    pc.addEventListener('connectionstatechange', () => !this.#closed && this.#onState(pc.connectionState));
    pc.addEventListener('iceconnectionstatechange', () => this.#iceStateChanged());
    this.#onOnline = () => this.restartIce();
    window.addEventListener('online', this.#onOnline);
    this.#offMedia = media.on(() => this.#syncTracks());

    await pc.setLocalDescription(await pc.createOffer());
    const ack = await this.#client.request('call.connect',
      { call_id: this.#callId, sdp: pc.localDescription.sdp, ...(takeOver ? { take_over: true } : {}) });
    if (this.#closed) return;
    this.#acked = true;
    for (const candidate of this.#localCandidates.splice(0)) this.#sendCandidate(candidate);
    await pc.setRemoteDescription({ type: 'answer', sdp: ack.sdp });
    for (const candidate of this.#remoteCandidates.splice(0)) this.#addRemote(candidate);
    this.sendMediaState();
  }

  /** A call.candidate frame from the relay (candidate null: the end of its candidates). */
  addRemoteCandidate(candidate) {
    if (this.#closed) return;
    if (!this.#pc || !this.#pc.remoteDescription || this.#restarting) this.#remoteCandidates.push(candidate);
    else this.#addRemote(candidate);
  }

  /**
   * Restarts ICE on the same connection: a new offer with iceRestart, sent with call.connect, and the relay's answer.
   * Runs by itself on a network change; a restart that fails is tried again while ICE stays down.
   */
  async restartIce() {
    const pc = this.#pc;
    if (this.#closed || !pc || !this.#acked || this.#restarting) return;
    clearTimeout(this.#restartTimer);
    this.#restarting = true;
    try {
      await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
      const ack = await this.#client.request('call.connect', { call_id: this.#callId, sdp: pc.localDescription.sdp });
      if (this.#closed) return;
      await pc.setRemoteDescription({ type: 'answer', sdp: ack.sdp });
    } catch (err) {
      console.warn('parley: ICE restart failed', err);
      if (!this.#closed && pc.signalingState === 'have-local-offer') {
        await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
      }
    } finally {
      this.#restarting = false;
    }
    if (this.#closed) return;
    for (const candidate of this.#localCandidates.splice(0)) this.#sendCandidate(candidate);
    for (const candidate of this.#remoteCandidates.splice(0)) this.#addRemote(candidate);
    this.#iceStateChanged(); // still down: try again
  }

  // ICE went down: restart it, after a second for 'disconnected' (which often heals alone), at once for 'failed',
  // and again every few seconds while it stays down (the socket may be reconnecting too).
  #iceStateChanged() {
    const pc = this.#pc;
    if (this.#closed || !pc) return;
    const state = pc.iceConnectionState;
    if (state === 'connected' || state === 'completed') {
      this.#restartTries = 0;
      clearTimeout(this.#restartTimer);
      return;
    }
    if ((state !== 'disconnected' && state !== 'failed') || this.#restarting || this.#restartTries >= 10) return;
    clearTimeout(this.#restartTimer);
    const wait = this.#restartTries === 0 ? (state === 'failed' ? 0 : 1000) : 3000;
    this.#restartTimer = setTimeout(() => {
      this.#restartTries++;
      this.restartIce();
    }, wait);
  }

  /** Tells the other side (call.media) whether our camera and microphone are on, when that changed. */
  sendMediaState() {
    if (!this.#acked || this.#closed) return;
    const state = { camera: this.#media.camera, mic: this.#media.mic };
    const key = JSON.stringify(state);
    if (key === this.#sentMedia) return;
    this.#sentMedia = key;
    this.#client.request('call.media', { call_id: this.#callId, ...state }).catch(() => {
      this.#sentMedia = ''; // sent again at the next change, or after a reconnect
    });
  }

  /** Closes the peer connection. The local media stay with their owner. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.quality.close();
    clearTimeout(this.#restartTimer);
    if (this.#onOnline) window.removeEventListener('online', this.#onOnline);
    this.#offMedia?.();
    this.#pc?.close();
  }

  // The camera went off or on, or the devices were asked for again: put the current tracks on the senders.
  #syncTracks() {
    if (this.#closed || !this.#pc) return;
    const media = this.#media;
    const replace = (transceiver, track) => {
      if (transceiver.sender.track === track) return;
      transceiver.sender.replaceTrack(track).catch((err) => console.warn('parley: replaceTrack failed', err));
    };
    replace(this.#audio, media.audioTrack);
    // On the audio-only tier the camera may be on, but its track waits (shared/quality.js).
    if (media.cameraAllowed) replace(this.#video, this.quality.paused ? null : media.videoTrack);
    this.sendMediaState();
  }

  #localCandidate(candidate) {
    // An empty candidate string is an older way of saying "no more candidates".
    const init = candidate && candidate.candidate ? candidate.toJSON() : null;
    if (this.#acked && !this.#restarting) this.#sendCandidate(init);
    else this.#localCandidates.push(init);
  }

  #sendCandidate(candidate) {
    if (!this.#closed) this.#client.send('call.candidate', { call_id: this.#callId, candidate });
  }

  #addRemote(candidate) {
    const pc = this.#pc;
    const added = candidate ? pc.addIceCandidate(candidate) : pc.addIceCandidate();
    added.catch((err) => console.warn('parley: a relay candidate was refused', err));
  }
}
