// CallWindow: the live video call in the chatbox. The agent's video fills it (remote-video), the visitor's own is
// small at the bottom right (self-video), and the controls sit below: camera, microphone, the agent's sound,
// enlarge, and a red hang-up that ends the video only. The chat stays usable below (or beside, when enlarged).
// It only draws what widget/visitor_call.js tells it; data-call-state carries the CALL state for tests.

import { h } from '/static/shared/dom.js';
import { hangupButton, setPressed, toggleButton } from '/static/shared/call_controls.js';
import { VideoTile } from '/static/shared/video_tile.js';
import { QualityIndicator, worseTier } from '/static/shared/quality.js';

export class CallWindow {
  #t;
  #remote;
  #self;
  #audio;
  #status;
  #statusText;
  #reconnect;
  #enableSound;
  #camera;
  #mic;
  #sound;
  #enlarge;
  #hangup;
  #quality;
  #audioOnly;

  /**
   * Callbacks: onToggleCamera(on), onToggleMic(on), onToggleSound(on), onEnlarge(large), onHangup(), onReconnect().
   */
  constructor({ t, onToggleCamera, onToggleMic, onToggleSound, onEnlarge, onHangup, onReconnect }) {
    this.#t = t;
    this.#remote = new VideoTile({ testid: 'remote-video', label: t('call.agent_video'), cameraOffText: t('call.camera_off'),
      micOffText: t('call.mic_off'), cameraOffTestid: 'remote-camera-off', micOffTestid: 'remote-mic-off', className: 'call__remote' });
    this.#self = new VideoTile({ testid: 'self-video', label: t('call.your_video'), mirror: true, cameraOffText: t('call.camera_off'),
      micOffText: t('call.mic_off'), className: 'call__self video-tile--small' });
    this.#self.setName(t('transcript.you'));
    this.#audio = h('audio', { class: 'call__audio', testid: 'remote-audio', autoplay: true });

    this.#statusText = h('span');
    this.#reconnect = h('button', { type: 'button', class: 'link-button', testid: 'call-reconnect', onclick: onReconnect, hidden: true },
      t('call.reconnect'));
    this.#status = h('p', { class: 'call__status', role: 'status', hidden: true }, this.#statusText, ' ', this.#reconnect);
    this.#enableSound = h('button', { type: 'button', class: 'button call__enable-sound', testid: 'enable-sound', hidden: true,
      onclick: () => this.#playAudio() }, t('call.enable_sound'));

    const pressed = (button) => button.getAttribute('aria-pressed') === 'true';
    this.#camera = toggleButton({ testid: 'toggle-camera', label: t('call.camera'), iconOn: 'camera', iconOff: 'camera_off',
      onclick: () => onToggleCamera(!pressed(this.#camera)) });
    this.#mic = toggleButton({ testid: 'toggle-mic', label: t('call.mic'), iconOn: 'mic', iconOff: 'mic_off',
      onclick: () => onToggleMic(!pressed(this.#mic)) });
    this.#sound = toggleButton({ testid: 'toggle-agent-sound', label: t('call.agent_sound'), iconOn: 'sound', iconOff: 'sound_off',
      onclick: () => onToggleSound(!pressed(this.#sound)) });
    this.#enlarge = toggleButton({ testid: 'enlarge', label: t('call.enlarge'), iconOn: 'shrink', iconOff: 'enlarge', pressed: false,
      onclick: () => onEnlarge(!pressed(this.#enlarge)) });
    this.#enlarge.classList.add('call-button--neutral');
    this.#hangup = hangupButton({ label: t('call.hangup'), onclick: onHangup });
    this.#quality = new QualityIndicator({ className: 'call__quality',
      labels: { high: t('call.quality.high'), low: t('call.quality.low'), audio: t('call.quality.audio') } });
    this.#audioOnly = h('p', { class: 'call__banner', role: 'status', testid: 'audio-only-banner', hidden: true },
      t('call.audio_only'));

    this.element = h('section', { class: 'call', testid: 'call-window', 'aria-label': t('call.title'), hidden: true, dataset: { callState: '' } },
      h('div', { class: 'call__stage' }, this.#remote.element, this.#self.element, this.#quality.element, this.#audioOnly,
        this.#status, this.#enableSound, this.#audio),
      h('div', { class: 'call-controls call__controls', role: 'toolbar', 'aria-label': t('call.title') },
        this.#camera, this.#mic, this.#sound, this.#enlarge, this.#hangup));
  }

  /** The CALL state (data-call-state follows it whether the window is shown or not), and whether to show it. */
  setState(state, shown) {
    this.element.dataset.callState = state || '';
    this.element.hidden = !shown;
  }

  /** The agent's video and sound (MediaStreams), and our own. */
  setStreams({ remoteVideo, remoteAudio, local }) {
    this.#remote.setStream(remoteVideo);
    this.#self.setStream(local);
    if (this.#audio.srcObject !== remoteAudio) {
      this.#audio.srcObject = remoteAudio;
      if (remoteAudio) this.#playAudio();
    }
  }

  refreshSelf() {
    this.#self.refresh();
  }

  /** Attaches the agent's streams again, once the connection has put its tracks in them. */
  refreshRemote() {
    this.#remote.refresh();
    const audio = this.#audio.srcObject;
    this.#audio.srcObject = null;
    this.#audio.srcObject = audio;
    this.#playAudio();
  }

  /**
   * view: {agentName, camera, mic, cameraAllowed, sound, large, agentCamera, agentMic, connection ('connecting' |
   * 'connected' | 'failed'), tier, peerTier (our publishing tier and the agent's: 'high' | 'low' | 'audio')}.
   */
  render(view) {
    const t = this.#t;
    this.#remote.setName(view.agentName || t('transcript.agent'));
    this.#remote.setCamera(view.agentCamera !== false);
    this.#remote.setMic(view.agentMic !== false);
    this.#self.setCamera(view.camera);
    this.#self.setMic(view.mic);
    setPressed(this.#camera, view.camera);
    // The site doesn't use the visitor's camera: no camera control at all (docs/protocol.md, CAMERA).
    this.#camera.hidden = !view.cameraAllowed;
    setPressed(this.#mic, view.mic);
    setPressed(this.#sound, view.sound);
    this.#audio.muted = !view.sound;
    setPressed(this.#enlarge, view.large);
    const failed = view.connection === 'failed';
    this.#status.hidden = view.connection === 'connected';
    this.#statusText.textContent = t(failed ? 'call.failed' : 'call.connecting');
    this.#reconnect.hidden = !failed;
    // The indicator shows the worse of the two directions; the banner only our own audio-only tier.
    this.#quality.set(worseTier(view.tier || 'high', view.peerTier || 'high'));
    this.#audioOnly.hidden = view.tier !== 'audio';
  }

  /** Stops showing any media. */
  clear() {
    this.setStreams({ remoteVideo: null, remoteAudio: null, local: null });
    this.#enableSound.hidden = true;
  }

  // Browsers refuse sound without a click after a reload: then a button asks for that click.
  #playAudio() {
    const audio = this.#audio;
    if (!audio.srcObject) return;
    audio.play().then(() => (this.#enableSound.hidden = true), (err) => {
      if (err && err.name === 'NotAllowedError') this.#enableSound.hidden = false;
    });
  }
}
