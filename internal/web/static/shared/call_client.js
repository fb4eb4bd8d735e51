// CallConnection: one side's leg of a video call, a single RTCPeerConnection to Parley's relay (docs/protocol.md,
// "Video calls"), shared by the widget and the desk.
//
// The browser always offers: an audio transceiver, then a video one, both sendrecv (video is recvonly when this side's
// camera may not be used), so that the relay answers with the other side's tracks on them and a camera turned off
// and on again never needs a new offer. Candidates are trickled both ways: the relay's are held until the answer is
// applied, ours until call.connect is acknowledged (the relay's leg exists only then).

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

  /**
   * client: a RealtimeClient. call: the CALL (its call_id and, when the server sends one, an ice_servers list).
   * media: a LocalMedia. onState(state) follows RTCPeerConnection.connectionState ('new', 'connecting', 'connected',
   * 'disconnected', 'failed', 'closed').
   */
  constructor({ client, call, media, onState = () => {} }) {
    this.#client = client;
    this.#callId = call.call_id;
    this.#media = media;
    this.#onState = onState;
    // The relay's track on each receiver, whenever it starts flowing: one stream to show, one to hear.
    this.remoteVideo = new MediaStream();
    this.remoteAudio = new MediaStream();
    this.iceServers = Array.isArray(call.ice_servers) ? call.ice_servers : [];
  }

  get callId() {
    return this.#callId;
  }

  get state() {
    return this.#pc ? this.#pc.connectionState : 'new';
  }

  /** Sends the offer (call.connect) and applies the relay's answer. Rejects when either fails. */
  async connect() {
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
    this.#offMedia = media.on(() => this.#syncTracks());

    await pc.setLocalDescription(await pc.createOffer());
    const ack = await this.#client.request('call.connect', { call_id: this.#callId, sdp: pc.localDescription.sdp });
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
    if (!this.#pc || !this.#pc.remoteDescription) this.#remoteCandidates.push(candidate);
    else this.#addRemote(candidate);
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
    if (media.cameraAllowed) replace(this.#video, media.videoTrack);
    this.sendMediaState();
  }

  #localCandidate(candidate) {
    // An empty candidate string is an older way of saying "no more candidates".
    const init = candidate && candidate.candidate ? candidate.toJSON() : null;
    if (this.#acked) this.#sendCandidate(init);
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
