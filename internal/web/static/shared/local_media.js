// LocalMedia: this side's microphone and camera for a video call, from the preview (the widget's lobby, the desk's
// ringing call) to the end of the call.
//
// The camera is turned off and on without renegotiation: off stops the camera's track (its light goes out), on asks
// for a new track; CallConnection puts whichever track there is on its video sender (RTCRtpSender.replaceTrack). The
// microphone is muted with track.enabled: its sender keeps the track and sends silence.

const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
// The relay's "high" tier is about 640×360 (DESIGN.md §2, quality tiers).
const VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };

/**
 * Why this browser can't make a video call here, or '' when it can: 'insecure' (not a secure context: HTTPS or
 * localhost), 'no_webrtc' (no RTCPeerConnection) or 'no_media' (no getUserMedia).
 */
export function webrtcSupport() {
  if (!window.isSecureContext) return 'insecure';
  if (typeof window.RTCPeerConnection !== 'function') return 'no_webrtc';
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') return 'no_media';
  return '';
}

/** A getUserMedia failure in a few words: 'denied', 'no_device', 'busy' or 'failed'. */
export function mediaErrorKind(err) {
  switch (err && err.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'no_device';
    case 'NotReadableError':
    case 'AbortError':
      return 'busy';
    default:
      return 'failed';
  }
}

export class LocalMedia {
  #stream = new MediaStream();
  #cameraAllowed;
  #listeners = new Set();
  #stopped = false;
  #cameraBusy = false;

  /** cameraAllowed false: the camera is never asked for (the visitor's camera policy, docs/protocol.md CAMERA). */
  constructor({ cameraAllowed = true } = {}) {
    this.#cameraAllowed = cameraAllowed;
    /** Why the camera could not be started the last time it was asked for ('' when it could). */
    this.cameraError = '';
  }

  get stream() {
    return this.#stream;
  }

  get cameraAllowed() {
    return this.#cameraAllowed;
  }

  get audioTrack() {
    return this.#stream.getAudioTracks()[0] || null;
  }

  get videoTrack() {
    return this.#stream.getVideoTracks()[0] || null;
  }

  /** The camera is sending. */
  get camera() {
    const track = this.videoTrack;
    return Boolean(track && track.readyState === 'live');
  }

  /** The microphone is sending. */
  get mic() {
    const track = this.audioTrack;
    return Boolean(track && track.readyState === 'live' && track.enabled);
  }

  /** fn() after every change of tracks or of their state. Returns a function that removes it. */
  on(fn) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Asks for the microphone, and for the camera too when camera is true and allowed. Rejects with the getUserMedia
   * error when the microphone can't be had; a camera that is missing or busy only leaves the camera off (cameraError
   * says why).
   */
  async start({ camera = true } = {}) {
    const wantVideo = camera && this.#cameraAllowed;
    this.cameraError = '';
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: AUDIO, video: wantVideo ? VIDEO : false });
    } catch (err) {
      // A refusal covers both devices; asking again for the microphone alone would only prompt a second time.
      if (!wantVideo || mediaErrorKind(err) === 'denied') throw err;
      stream = await navigator.mediaDevices.getUserMedia({ audio: AUDIO });
      this.cameraError = mediaErrorKind(err);
    }
    if (this.#stopped) {
      stream.getTracks().forEach((track) => track.stop());
      throw new DOMException('the media were released', 'AbortError');
    }
    const mic = this.audioTrack ? this.audioTrack.enabled : true;
    this.#clear();
    stream.getTracks().forEach((track) => this.#adopt(track));
    if (this.audioTrack) this.audioTrack.enabled = mic;
    this.#changed();
  }

  /** Turns the camera on (a new track) or off (its track is stopped). Resolves to whether it is on. */
  async setCamera(on) {
    if (!on) {
      for (const track of this.#stream.getVideoTracks()) {
        track.stop();
        this.#stream.removeTrack(track);
      }
      this.#changed();
      return false;
    }
    if (!this.#cameraAllowed || this.#stopped) return false;
    if (this.camera || this.#cameraBusy) return this.camera;
    this.#cameraBusy = true;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: VIDEO });
      const [track] = stream.getVideoTracks();
      if (this.#stopped) {
        track.stop();
        return false;
      }
      this.cameraError = '';
      for (const old of this.#stream.getVideoTracks()) this.#stream.removeTrack(old);
      this.#adopt(track);
    } catch (err) {
      this.cameraError = mediaErrorKind(err);
    } finally {
      this.#cameraBusy = false;
    }
    this.#changed();
    return this.camera;
  }

  setMic(on) {
    const track = this.audioTrack;
    if (track) track.enabled = on;
    this.#changed();
    return this.mic;
  }

  /** Releases the devices for good. */
  stop() {
    this.#stopped = true;
    this.#clear();
    this.#changed();
    this.#listeners.clear();
  }

  #adopt(track) {
    this.#stream.addTrack(track);
    // A device unplugged, or a camera taken by another app, ends the track: show it as off.
    track.addEventListener('ended', () => {
      if (this.#stream.getTracks().includes(track)) {
        this.#stream.removeTrack(track);
        this.#changed();
      }
    });
  }

  #clear() {
    for (const track of this.#stream.getTracks()) {
      track.stop();
      this.#stream.removeTrack(track);
    }
  }

  #changed() {
    for (const fn of [...this.#listeners]) {
      try {
        fn();
      } catch (err) {
        console.error('parley: media listener failed', err);
      }
    }
  }
}
