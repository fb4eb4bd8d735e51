// CallPanel: the agent's side of a video call (docs/protocol.md, "Video calls"). It owns the agent's camera and
// microphone from the ring's preview (desk/incoming_call.js) to the end of the call, connects to the relay once the
// call is live (shared/call_client.js; again after a reload, from the hello ack's `calls`), and draws the call in
// the conversation view: the visitor's video in the middle, the agent's own small at the bottom right, camera and
// microphone toggles and a red hang-up that ends the video only (the header's "End conversation" ends everything).
// While the agent reads another conversation, a bar leads back to the call. Only the desk tab that answered the
// call connects (shared/call_tab.js); another tab of the same agent offers to continue the call there.
//
// A call an invitation led to (an escalation, or a bot's handover: desk/escalation.js) rings nowhere: it goes live
// at once. The tab that sent the invitation connects it; failing that, the tab that shows its conversation, a moment
// later, unless another tab took it meanwhile; failing that, any tab of the agent, a little later still.

import { h } from '/static/shared/dom.js';
import { errorMessage } from '/static/shared/i18n.js';
import { CallLink } from '/static/shared/call_link.js';
import { callRecord } from '/static/shared/call_events.js';
import { hangupButton, setPressed, toggleButton } from '/static/shared/call_controls.js';
import { CallTab } from '/static/shared/call_tab.js';
import { LocalMedia, mediaErrorKind } from '/static/shared/local_media.js';
import { VideoTile } from '/static/shared/video_tile.js';
import { QualityIndicator, worseTier } from '/static/shared/quality.js';
import { t } from './i18n.js';

const ACTIVE = new Set(['queued', 'ringing', 'live']);
const EXPECT_MS = 20000; // how long an accepted video offer keeps the devices while its call goes live
// How long a tab waits before it takes an invited call that no other tab took: the tab showing the conversation
// first, then any tab (a random part, so that two tabs rarely take it at once; hidden tabs last).
const CLAIM_VIEWING_MS = 150;
const CLAIM_OTHER_MS = 700;
const CLAIM_JITTER_MS = 500;
const CLAIM_HIDDEN_MS = 1000;

export class CallPanel {
  #client;
  #account;
  #notify;
  #onLive;
  #labelFor;
  #invitedCall;
  #claimedElsewhere = new Set(); // calls another desk tab of the agent took
  #claimChecked = new Set(); // invited calls this tab already decided about
  #claimTimer = null;
  #media = null;
  #mediaReady = Promise.resolve();
  #mediaState = 'idle'; // 'idle' | 'starting' | 'ready' | 'error'
  #mediaError = '';
  #listeners = new Set();
  #previews = 0; // incoming calls showing the preview
  #expectTimer = null;
  #expected = null; // {conversationId, until}: the agent just accepted that conversation's call in this tab
  #tab = new CallTab('parley.desk.call');
  #elsewhere = false;
  #moving = false; // "Continue here": the call connects in this tab only if the server lets it
  #call = null;
  #hungUp = new Set();
  #link;
  #visitorMedia = { camera: true, mic: true };
  #qualityBadge;
  #audioOnly;
  #viewing = null;
  #remote;
  #self;
  #audio;
  #status;
  #statusText;
  #reconnect;
  #enableSound;
  #camera;
  #mic;
  #hangup;
  #returnText;
  #back;
  #continue;

  /**
   * client: the RealtimeClient. notify(text, kind): a toast. onLive(conversationId): a call just went live (the desk
   * shows its conversation). labelFor(conversationId): the visitor's label. invitedCall(conversationId): whether its
   * call comes from an invitation, {sentHere} (sent from this tab), or null.
   */
  constructor({ client, account, notify, onLive, labelFor, invitedCall = () => null }) {
    this.#invitedCall = invitedCall;
    this.#tab.onMoved((callId) => {
      this.#claimedElsewhere.add(callId);
      this.#movedAway(callId);
    });
    this.#client = client;
    this.#link = new CallLink({ client, onChange: () => this.#render() });
    this.#account = account;
    this.#notify = notify;
    this.#onLive = onLive;
    this.#labelFor = labelFor;

    this.#remote = new VideoTile({ testid: 'remote-video', label: 'The visitor\'s video', cameraOffText: 'Camera off',
      micOffText: 'Microphone off', cameraOffTestid: 'remote-camera-off', micOffTestid: 'remote-mic-off', className: 'call-panel__remote' });
    this.#self = new VideoTile({ testid: 'self-video', label: 'Your video', mirror: true, cameraOffText: 'Camera off',
      micOffText: 'Microphone off', className: 'call-panel__self video-tile--small' });
    this.#self.setName(account.name || account.email);
    this.#audio = h('audio', { class: 'call-panel__audio', testid: 'remote-audio', autoplay: true });
    this.#statusText = h('span');
    this.#reconnect = h('button', { type: 'button', class: 'button button--quiet', testid: 'call-reconnect', hidden: true,
      onclick: () => this.#connect() }, 'Reconnect');
    this.#status = h('p', { class: 'call-panel__status', role: 'status' }, this.#statusText, ' ', this.#reconnect);
    this.#enableSound = h('button', { type: 'button', class: 'button button--primary call-panel__enable-sound', testid: 'enable-sound',
      hidden: true, onclick: () => this.#playAudio() }, 'Turn on the visitor\'s sound');

    const pressed = (button) => button.getAttribute('aria-pressed') === 'true';
    this.#camera = toggleButton({ testid: 'toggle-camera', label: 'Camera', iconOn: 'camera', iconOff: 'camera_off',
      onclick: () => this.#setCamera(!pressed(this.#camera)) });
    this.#mic = toggleButton({ testid: 'toggle-mic', label: 'Microphone', iconOn: 'mic', iconOff: 'mic_off',
      onclick: () => this.#media?.setMic(!pressed(this.#mic)) });
    this.#hangup = hangupButton({ label: 'Hang up (the conversation goes on)', onclick: () => this.#hangUp() });

    this.#qualityBadge = new QualityIndicator({ className: 'call-panel__quality', labels: { high: 'Good connection',
      low: 'Weak connection: lower video quality', audio: 'Very weak connection: audio only' } });
    this.#audioOnly = h('p', { class: 'call-panel__banner', role: 'status', testid: 'audio-only-banner', hidden: true },
      'Your connection is weak: audio only for now');

    this.element = h('section', { class: 'call-panel', testid: 'call-panel', 'aria-label': 'Video call', hidden: true,
      dataset: { callState: '' } },
    h('div', { class: 'call-panel__stage' }, this.#remote.element, this.#self.element, this.#qualityBadge.element,
      this.#audioOnly, this.#status, this.#enableSound, this.#audio),
    h('div', { class: 'call-controls call-panel__controls', role: 'toolbar', 'aria-label': 'Call controls' },
      this.#camera, this.#mic, this.#hangup));

    this.#returnText = h('span');
    this.#back = h('button', { type: 'button', class: 'button button--primary', testid: 'return-to-call',
      onclick: () => this.#call && this.#onLive(this.#call.conversation_id) }, 'Back to the call');
    this.#continue = h('button', { type: 'button', class: 'button button--primary', testid: 'call-continue-here',
      onclick: () => this.#continueHere() }, 'Continue the call here');
    this.returnBar = h('div', { class: 'call-return', role: 'status', hidden: true }, this.#returnText, this.#back, this.#continue);
  }

  /** The conversation the view shows: the panel is there only when it is the call's. */
  setViewing(id) {
    this.#viewing = id;
    this.#render();
  }

  /** The hello ack's `calls` (this agent's calls under way): a reloaded desk comes back to its call. */
  applyHello(data) {
    if (!Array.isArray(data.calls)) return; // a server without video calls
    const call = data.calls.find((c) => this.#isMine(c) && ACTIVE.has(c.state));
    if (call) {
      this.#link.resume(call);
      this.applyCall(call, { fromHello: true });
      this.#link.conn?.sendMediaState(); // a change the socket lost on its way
    } else if (this.#call) {
      this.#finish(); // it ended while the socket was down
    }
  }

  /** A `call` frame (fromHello: the hello ack's, for a call that may have gone live long ago). */
  applyCall(call, { fromHello = false } = {}) {
    if (!call || !call.call_id || !this.#isMine(call)) return;
    const mine = this.#call && this.#call.call_id === call.call_id;
    if (!ACTIVE.has(call.state)) {
      if (mine) this.#finish();
      return;
    }
    if (call.state !== 'live') return; // queued, ringing: the offer card is the desk's side of it
    if (this.#hungUp.has(call.call_id)) {
      this.#client.request('call.hangup', { call_id: call.call_id }).catch(() => {});
      return;
    }
    if (this.#call && !mine) this.#finish();
    const expected = this.#expected && this.#expected.conversationId === call.conversation_id && Date.now() < this.#expected.until;
    let here = mine ? !this.#elsewhere : expected || this.#tab.holds(call.call_id);
    let claimIn = 0;
    if (!here && !mine && !fromHello && !this.#claimChecked.has(call.call_id)) {
      // Just live, answered in no tab: an invited call?
      this.#claimChecked.add(call.call_id);
      const invited = this.#invitedCall(call.conversation_id);
      if (invited && !this.#claimedElsewhere.has(call.call_id)) {
        if (invited.sentHere) here = true;
        else if (this.#viewing === call.conversation_id) claimIn = CLAIM_VIEWING_MS;
        else claimIn = CLAIM_OTHER_MS + Math.random() * CLAIM_JITTER_MS + (document.visibilityState === 'hidden' ? CLAIM_HIDDEN_MS : 0);
      }
    }
    this.#call = call;
    if (call.visitor_media) this.#visitorMedia = { ...this.#visitorMedia, ...call.visitor_media };
    if (!here) {
      this.#elsewhere = true;
      if (claimIn) this.#claimSoon(call.call_id, claimIn);
      this.#render();
      return;
    }
    this.#elsewhere = false;
    this.#expected = null;
    if (!this.#moving) this.#tab.claim(call.call_id);
    clearTimeout(this.#expectTimer);
    if (this.#mediaState === 'idle') this.#startMedia();
    if (this.#link.needs(call)) {
      this.#connect();
      this.#onLive(call.conversation_id);
    }
    this.#render();
  }

  applyCandidate(d) {
    this.#link.applyCandidate(d);
  }

  /** A call.quality frame: the relay's target for our video (shared/quality.js). */
  applyQuality(d) {
    this.#link.applyQuality(d);
  }

  /** A call.media frame: the visitor's camera or microphone changed. */
  applyMedia(d) {
    if (!this.#call || (d.call_id && d.call_id !== this.#call.call_id) || d.side === 'agent') return;
    if (typeof d.camera === 'boolean') this.#visitorMedia.camera = d.camera;
    if (typeof d.mic === 'boolean') this.#visitorMedia.mic = d.mic;
    this.#render();
  }

  /** A conversation event: the call's end, or the conversation's. */
  applyEvent(ev) {
    if (!this.#call || ev.conversation_id !== this.#call.conversation_id) return;
    // Only this call's end: a resumed conversation may replay the ends of earlier calls.
    if (ev.type === 'ended' || (ev.type === 'call_ended' && callRecord(ev).call_id === this.#call.call_id)) this.#finish();
  }

  // --- The devices, shared with the ring's preview (desk/incoming_call.js) ---

  get media() {
    return this.#media;
  }

  /** {state: 'idle' | 'starting' | 'ready' | 'error', error: a mediaErrorKind}. */
  get mediaStatus() {
    return { state: this.#mediaState, error: this.#mediaError };
  }

  /** fn() when the devices or their state change. */
  onMedia(fn) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** A ringing call shows the preview: the devices are asked for (the browser asks the agent the first time). */
  holdPreview() {
    this.#previews++;
    if (this.#mediaState === 'idle') this.#startMedia();
  }

  /** A ringing call went away; accepted means its call should go live soon, so the devices are kept a while. */
  releasePreview({ accepted = false } = {}) {
    this.#previews = Math.max(0, this.#previews - 1);
    if (accepted) {
      clearTimeout(this.#expectTimer);
      this.#expectTimer = setTimeout(() => this.#releaseIfIdle(), EXPECT_MS);
      return;
    }
    this.#releaseIfIdle();
  }

  /** The agent pressed Accept on conversationId's video call in this tab: its call connects here. */
  expect(conversationId) {
    this.#expected = { conversationId, until: Date.now() + EXPECT_MS };
  }

  retryMedia() {
    this.#startMedia();
  }

  /** Signed out: everything stops. */
  destroy() {
    this.#release();
    this.#stopMedia();
    clearTimeout(this.#expectTimer);
    clearTimeout(this.#claimTimer);
  }

  // Takes the invited call callId in this tab after delay ms, unless another tab took it meanwhile.
  #claimSoon(callId, delay) {
    clearTimeout(this.#claimTimer);
    this.#claimTimer = setTimeout(() => {
      const call = this.#call;
      if (!call || call.call_id !== callId || !this.#elsewhere || this.#claimedElsewhere.has(callId)) return;
      this.#elsewhere = false;
      this.applyCall(call);
    }, delay);
  }

  #isMine(call) {
    return !call.agent_id || call.agent_id === this.#account.id;
  }

  #startMedia() {
    this.#media?.stop();
    const media = new LocalMedia();
    this.#media = media;
    this.#mediaState = 'starting';
    this.#mediaError = '';
    media.on(() => {
      if (media !== this.#media) return;
      this.#self.refresh();
      this.#mediaChanged();
    });
    this.#mediaReady = media.start({ camera: true }).then(
      () => {
        if (media === this.#media) this.#mediaState = 'ready';
      },
      (err) => {
        if (media !== this.#media) return;
        this.#mediaState = 'error';
        this.#mediaError = mediaErrorKind(err);
        if (this.#call) {
          this.#notify('Your camera and microphone are not available: the visitor can\'t see or hear you. Allow them in the '
            + 'browser\'s site settings, then reload the desk.', 'warning');
        }
      },
    ).finally(() => this.#mediaChanged());
    this.#mediaChanged();
  }

  #mediaChanged() {
    for (const fn of [...this.#listeners]) fn();
    this.#render();
  }

  #releaseIfIdle() {
    if (this.#previews > 0 || this.#call) return;
    this.#stopMedia();
  }

  #stopMedia() {
    this.#media?.stop();
    this.#media = null;
    this.#mediaState = 'idle';
    this.#mediaError = '';
    this.#mediaChanged();
  }

  async #connect() {
    const call = this.#call;
    if (!call) return;
    if (!this.#media) this.#startMedia();
    const media = this.#media;
    try {
      // Connected even without devices: the agent still sees and hears the visitor. "Continue here" moves the call
      // from the other tab.
      const conn = await this.#link.connect({ call, media, ready: this.#mediaReady, takeOver: this.#moving,
        show: (c) => {
          this.#remote.setStream(c.remoteVideo);
          this.#self.setStream(media.stream);
          this.#audio.srcObject = c.remoteAudio;
          this.#render();
        } });
      if (!conn) return;
      this.#moving = false;
      this.#tab.claim(call.call_id);
      this.#remote.refresh();
      this.#audio.srcObject = null;
      this.#audio.srcObject = conn.remoteAudio;
      this.#playAudio();
    } catch (err) {
      if (this.#moving) {
        this.#moving = false;
        this.#backElsewhere(call);
        this.#notify('The call could not move to this tab: try again, or go back to your other desk tab.', 'warning');
        return;
      }
      if (err && err.code === 'disconnected') return; // the next hello connects again
      console.warn('parley: the video call could not connect', err);
      this.#link.connection = 'failed';
      this.#render();
    }
  }

  async #setCamera(on) {
    if (!this.#media) return;
    const result = await this.#media.setCamera(on);
    const error = this.#media?.cameraError;
    if (on && !result && error) {
      this.#notify(`The camera could not be started${error === 'busy' ? ': another application is using it' : ''}.`, 'warning');
    }
  }

  // Moves the call to this tab. It connects here first; only then does this tab take it (and the other tab let go),
  // since the server may refuse a second connection while the other tab still holds the call.
  #continueHere() {
    const call = this.#call;
    if (!call || !this.#elsewhere) return;
    this.#moving = true;
    this.#elsewhere = false;
    this.#link.close();
    this.applyCall(call);
  }

  // Another desk tab took the call: this one lets go of the devices, and offers to take it back.
  #movedAway(callId) {
    const call = this.#call;
    if (!call || call.call_id !== callId || this.#elsewhere) return;
    this.#tab.release(callId);
    this.#backElsewhere(call);
  }

  #backElsewhere(call) {
    this.#release();
    this.#call = call;
    this.#elsewhere = true;
    if (this.#previews === 0) this.#stopMedia();
    this.#render();
  }

  #hangUp() {
    const call = this.#call;
    if (!call) return;
    this.#hungUp.add(call.call_id);
    this.#client.request('call.hangup', { call_id: call.call_id }).catch((err) => {
      if (err.code !== 105 && err.code !== 111 && err.code !== 'disconnected') this.#notify(`Hanging up failed: ${errorMessage(t, err)}`, 'warning');
    });
    this.#finish();
  }

  #finish() {
    if (this.#call && !this.#elsewhere) this.#tab.release(this.#call.call_id);
    this.#elsewhere = false;
    this.#release();
    this.#releaseIfIdle();
    this.#render();
  }

  #release() {
    this.#link.close();
    this.#call = null;
    this.#visitorMedia = { camera: true, mic: true };
    this.#remote.setStream(null);
    this.#self.setStream(null);
    this.#audio.srcObject = null;
    this.#enableSound.hidden = true;
  }

  // Browsers refuse sound without a click after a reload: then a button asks for that click.
  #playAudio() {
    this.#audio.play().then(() => (this.#enableSound.hidden = true), (err) => {
      if (err && err.name === 'NotAllowedError') this.#enableSound.hidden = false;
    });
  }

  #render() {
    const call = this.#call;
    this.element.dataset.callState = call ? call.state : '';
    const here = Boolean(call) && !this.#elsewhere && call.conversation_id === this.#viewing;
    this.element.hidden = !here;
    this.returnBar.hidden = !call || here;
    if (!call) return;
    const label = this.#labelFor(call.conversation_id) || 'the visitor';
    this.#returnText.textContent = this.#elsewhere
      ? `Your video call with ${label} is open in another desk tab.`
      : `Video call with ${label} in progress.`;
    this.#back.hidden = this.#elsewhere;
    this.#continue.hidden = !this.#elsewhere;
    this.#remote.setName(label);
    this.#remote.setCamera(this.#visitorMedia.camera !== false);
    this.#remote.setMic(this.#visitorMedia.mic !== false);
    const media = this.#media;
    const camera = Boolean(media && media.camera);
    const mic = Boolean(media && media.mic);
    this.#self.setCamera(camera);
    this.#self.setMic(mic || this.#mediaState !== 'ready');
    setPressed(this.#camera, camera);
    setPressed(this.#mic, mic);
    this.#camera.disabled = this.#mic.disabled = this.#mediaState !== 'ready';
    const failed = this.#link.connection === 'failed';
    this.#status.hidden = this.#link.connection === 'connected';
    this.#statusText.textContent = failed ? 'The video connection was lost.' : 'Connecting the video…';
    this.#reconnect.hidden = !failed;
    this.#qualityBadge.set(worseTier(this.#link.quality.tier, this.#link.quality.peerTier));
    this.#audioOnly.hidden = this.#link.quality.tier !== 'audio';
  }
}
