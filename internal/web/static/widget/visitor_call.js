// VisitorCall: the visitor's side of a video call (docs/protocol.md, "Video calls"), inside the conversation that
// widget/visitor_chat.js shows.
//
//   invitation   while the latest `video` frame says available (and video wasn't used in this conversation): "Join
//                the video conversation", or why this browser can't; or an agent's invitation (escalation, or a
//                bot's handover), whatever the `video` frame says (widget/escalation_invite.js);
//   lobby        the devices and the self-preview, then "Join now" (call.request; with the invitation's id when
//                an agent invited the visitor: the call is then live at once);
//   waiting      the call is `queued` or `ringing`: the self-preview, while the waiting room says where the visitor
//                stands ("Leave the queue" hangs up);
//   live         the call window, connected to the relay (shared/call_client.js); a reload connects again;
//   elsewhere    the call belongs to another tab of the visitor (shared/call_tab.js): "Continue here" moves it;
//   ended        everything is released, and the chat goes on.
//
// The host page learns the call's state through the bridge ({parley: 'call', state}), to show its call badge while
// the chatbox is minimized, and the layout ({parley: 'layout', large}) to enlarge the frame.

import { h } from '/static/shared/dom.js';
import { errorMessage } from '/static/shared/i18n.js';
import { newId } from '/static/shared/realtime.js';
import { CallLink } from '/static/shared/call_link.js';
import { callRecord } from '/static/shared/call_events.js';
import { CallTab } from '/static/shared/call_tab.js';
import { LocalMedia, mediaErrorKind, webrtcSupport } from '/static/shared/local_media.js';
import { CallWindow } from './call_window.js';
import { EscalationInvite } from './escalation_invite.js';
import { VideoLobby } from './video_lobby.js';
import { VideoNotification, siteNotification } from './video_notification.js';

const ACTIVE = new Set(['queued', 'ringing', 'live']);
const REFUSED_KEYS = { no_agent: 'call.refused_no_agent', queue_full: 'call.refused_queue_full', used: 'call.refused_used', closed: 'call.refused_closed' };

export class VisitorCall {
  #t;
  #client;
  #bridge;
  #conversation;
  #adopt;
  #notice;
  #onChange;
  #onLayout;
  #tab;
  #support = webrtcSupport();
  #video = null; // the latest `video` frame
  #inviteHidden = false;
  #invitation; // an agent's invitation to video (widget/escalation_invite.js)
  #lobbyInvite = null; // the INVITE the lobby is open for (null: the visitor asked for video themselves)
  #open; // the chatbox is open (not minimized)
  #onAttention;
  #used = new Set(); // conversations whose video call took place
  #call = null; // the CALL under way
  #hungUp = new Set(); // calls this page hung up, in case the server still calls them live after a reconnect
  #phase = null; // null | 'lobby' | 'waiting' | 'live' | 'elsewhere'
  #media = null;
  #mediaReady = Promise.resolve();
  #mediaState = 'starting';
  #mediaError = '';
  #cameraWanted = true;
  #pinned = null; // the camera policy the devices were started with: a change during the call doesn't apply to it
  #joining = false;
  #moving = false; // "Continue here": the call connects in this tab only if the server lets it
  #link;
  #agentMedia = { camera: true, mic: true };
  #sound = true;
  #large = false;
  #posted;
  #notification;
  #lobby;
  #window;
  #elsewhere;

  /**
   * site: the site's public id. client: the RealtimeClient. conversation(): {id, ended} of the conversation shown.
   * adopt(id): a call.request opened conversation id. notice(text): a short message in the chatbox. onChange(): the
   * call's waiting state changed (the waiting room follows it). onLayout(large): the call window was enlarged or
   * shrunk. onAttention(): whether an agent's invitation waits for an answer changed (see `inviting`).
   */
  constructor({ t, site, client, bridge, conversation, adopt, notice, onChange, onLayout, onAttention = () => {} }) {
    this.#t = t;
    this.#tab = new CallTab(`parley.call.${site}`);
    this.#tab.onMoved((callId) => this.#movedAway(callId));
    this.#client = client;
    this.#link = new CallLink({ client, onChange: () => this.#render() });
    this.#bridge = bridge;
    this.#conversation = conversation;
    this.#adopt = adopt;
    this.#notice = notice;
    this.#onChange = onChange;
    this.#onLayout = onLayout;
    this.#onAttention = onAttention;
    this.#open = !bridge.embedded;

    this.#notification = new VideoNotification({
      t,
      onJoin: () => this.#openLobby(),
      onHide: () => {
        this.#inviteHidden = true;
        this.#render();
      },
    });
    this.#lobby = new VideoLobby({
      t,
      onJoin: () => this.#join(),
      onCancel: () => this.#finish(),
      onRetry: () => this.#startMedia(),
      onToggleCamera: (on) => this.#setCamera(on),
    });
    this.#window = new CallWindow({
      t,
      onToggleCamera: (on) => this.#setCamera(on),
      onToggleMic: (on) => this.#media?.setMic(on),
      onToggleSound: (on) => {
        this.#sound = on;
        this.#render();
      },
      onEnlarge: (large) => this.#setLarge(large),
      onHangup: () => this.#hangup(),
      onReconnect: () => this.#connect(),
    });
    this.#elsewhere = h('div', { class: 'call-elsewhere', role: 'status', hidden: true },
      h('p', { text: t('call.elsewhere') }),
      h('button', { type: 'button', class: 'button', testid: 'call-continue-here', onclick: () => this.#continueHere() },
        t('call.continue_here')));
    /** The lobby, the waiting stage and the call window: above the transcript. */
    this.stage = h('div', { class: 'call-stage', hidden: true }, this.#lobby.element, this.#window.element, this.#elsewhere);
    /** The invitation: above the input. */
    this.#invitation = new EscalationInvite({
      t,
      client,
      notice,
      onJoin: (invite) => this.#openLobby(invite),
      onChange: () => this.#onAttention(),
    });
    this.offer = h('div', { class: 'video-offers' }, this.#invitation.element, this.#notification.element);
    document.addEventListener('visibilitychange', () => this.#render());
    this.#render();
  }

  /** 'queued' or 'ringing' while the visitor waits for an agent to answer, else null. */
  get waiting() {
    return this.#phase === 'waiting' ? this.#call.state : null;
  }

  get live() {
    return this.#phase === 'live';
  }

  /** An agent's invitation to video waits for the visitor's answer (the launcher draws attention to it). */
  get inviting() {
    return this.#invitation.shown;
  }

  /** The chatbox was opened or minimized: a bot's handover to video opens the lobby only in an open chatbox. */
  setOpen(open) {
    this.#open = open;
    this.#render();
  }

  /** A `call.invite` frame, or the hello ack's `invite` (null: none waits). */
  applyInvite(inv) {
    this.#invitation.apply(inv, this.#conversation().id);
    const lobby = this.#lobbyInvite;
    if (lobby && this.#phase === 'lobby' && !this.#joining) {
      if (inv && inv.invite_id === lobby.invite_id && inv.state === 'used') {
        this.#finish(); // the visitor joined from another tab: the `call` frames take it from here
      } else if (this.#invitation.ended(lobby)) {
        this.#notice(this.#t(inv && inv.state === 'expired' ? 'invite.expired' : 'invite.gone'));
        this.#finish();
      }
    }
    this.#render();
  }

  /** The hello ack: its `call` is the call under way in the visitor's open conversation (a reload comes back to it). */
  applyHello(data) {
    if (!('call' in data)) return; // a server without video calls
    const call = data.call;
    if (call && call.call_id) {
      // A connection that did not survive the reconnect is made again (the relay replaces the old leg).
      this.#link.resume(call);
      this.applyCall(call);
      this.#link.conn?.sendMediaState(); // a change the socket lost on its way
    } else if (this.#call) {
      this.#finish({ ...this.#call, state: 'ended' }); // it ended while the socket was down
    }
    if ('invite' in data) this.applyInvite(data.invite || null); // the invitation waiting in the open conversation
  }

  /** A `video` frame. */
  applyVideo(video) {
    // The camera policy is the site's: a frame without it keeps the last one known.
    this.#video = video ? { ...video, camera: video.camera || this.#video?.camera } : null;
    const id = this.#conversation().id;
    if (video && video.reason === 'used' && id) this.#used.add(id);
    this.#render();
  }

  /** A CALL, from a `call` frame, an ack or the hello ack. */
  applyCall(call) {
    if (!call || !call.call_id) return;
    const mine = this.#call && this.#call.call_id === call.call_id;
    const convId = this.#conversation().id;
    if (!mine && convId && call.conversation_id && call.conversation_id !== convId) return; // another conversation's
    if (!ACTIVE.has(call.state)) {
      if (mine) this.#finish(call);
      else if (Number(call.answered_at) > 0 && call.conversation_id) this.#used.add(call.conversation_id);
      this.#render();
      return;
    }
    if (this.#hungUp.has(call.call_id)) {
      this.#client.request('call.hangup', { call_id: call.call_id }).catch(() => {});
      return;
    }
    if (this.#call && !mine) this.#release(); // a different call replaces ours
    const here = mine ? this.#phase !== 'elsewhere' : this.#joining || this.#tab.holds(call.call_id);
    this.#call = call;
    if (!convId && call.conversation_id) this.#adopt(call.conversation_id);
    if (call.agent_media) this.#agentMedia = { ...this.#agentMedia, ...call.agent_media };
    if (!here) {
      this.#phase = 'elsewhere';
      this.#render();
      this.#onChange();
      return;
    }
    if (!this.#moving) this.#tab.claim(call.call_id);
    if (!this.#media) {
      // Back after a reload: the camera as the visitor left it.
      const camera = call.visitor_media && typeof call.visitor_media.camera === 'boolean' ? call.visitor_media.camera : undefined;
      this.#startMedia(camera);
    }
    this.#phase = call.state === 'live' ? 'live' : 'waiting';
    if (call.state === 'live' && this.#link.needs(call)) this.#connect();
    this.#render();
    this.#onChange();
  }

  /** A call.candidate frame: one of the relay's candidates for our leg. */
  applyCandidate(d) {
    this.#link.applyCandidate(d);
  }

  /** A call.quality frame: the relay's target for our video (shared/quality.js). */
  applyQuality(d) {
    this.#link.applyQuality(d);
  }

  /** A call.media frame: the agent's camera or microphone changed. */
  applyMedia(d) {
    if (!this.#call || (d.call_id && d.call_id !== this.#call.call_id) || d.side === 'visitor') return;
    if (typeof d.camera === 'boolean') this.#agentMedia.camera = d.camera;
    if (typeof d.mic === 'boolean') this.#agentMedia.mic = d.mic;
    this.#render();
  }

  /** A conversation event: a call_ended one means no more video in that conversation. */
  applyEvent(ev) {
    if (ev.type !== 'call_ended') return;
    this.#used.add(ev.conversation_id);
    // Only this call's end: a reload replays the conversation, with the ends of its earlier calls.
    const rec = callRecord(ev);
    if (this.#call && rec.call_id === this.#call.call_id) this.#finish({ ...this.#call, state: 'ended' });
    else this.#render();
  }

  /** The conversation shown changed, or ended. */
  conversationChanged() {
    const { id, ended } = this.#conversation();
    if (this.#phase && (ended || (this.#call && this.#call.conversation_id && this.#call.conversation_id !== id))) this.#finish();
    else this.#render();
  }

  /** "Leave the queue" while waiting for video hangs up. Returns whether it did. */
  leaveQueue() {
    if (this.#phase !== 'waiting') return false;
    this.#hangup();
    return true;
  }

  // Moves the call to this tab. A live call connects here first; only then does this tab take it (and the other
  // tab let go), since the server may refuse a second connection while the other tab still holds the call.
  #continueHere() {
    const call = this.#call;
    if (!call || this.#phase !== 'elsewhere') return;
    this.#moving = call.state === 'live';
    if (!this.#moving) this.#tab.claim(call.call_id);
    this.#phase = 'waiting';
    this.applyCall(call);
  }

  // Another tab of the visitor took the call: this one lets go of the devices, and offers to take it back.
  #movedAway(callId) {
    const call = this.#call;
    if (!call || call.call_id !== callId || this.#phase === 'elsewhere') return;
    this.#tab.release(callId);
    this.#backElsewhere(call);
  }

  #backElsewhere(call) {
    this.#release();
    this.#call = call;
    this.#phase = 'elsewhere';
    this.#setLarge(false);
    this.#render();
    this.#onChange();
  }

  // invite: the agent's accepted invitation the lobby leads to (none when the visitor asked for video).
  #openLobby(invite = null) {
    if (this.#phase || this.#support) return;
    this.#phase = 'lobby';
    this.#lobbyInvite = invite;
    this.#startMedia();
    this.#render();
  }

  // Asks for the devices: the camera too when the site's policy allows it, and it isn't off by default (or the
  // visitor's choice before a reload says otherwise).
  #startMedia(camera) {
    const policy = this.#policy();
    this.#pinned = policy; // a retry keeps it
    this.#media?.stop();
    const media = new LocalMedia({ cameraAllowed: policy.allowed !== false });
    this.#media = media;
    this.#cameraWanted = media.cameraAllowed && (camera ?? !policy.off_by_default);
    this.#mediaState = 'starting';
    this.#mediaError = '';
    media.on(() => {
      if (media !== this.#media) return;
      this.#lobby.refresh();
      this.#window.refreshSelf();
      this.#render();
    });
    this.#mediaReady = media.start({ camera: this.#cameraWanted }).then(
      () => {
        if (media === this.#media) this.#mediaState = 'ready';
      },
      (err) => {
        if (media !== this.#media) return;
        this.#mediaState = 'error';
        this.#mediaError = mediaErrorKind(err);
        if (this.#phase === 'live' || this.#phase === 'waiting') this.#notice(this.#t('call.media_blocked'));
      },
    ).finally(() => this.#render());
    this.#render();
  }

  async #join() {
    if (this.#joining || this.#mediaState !== 'ready' || this.#phase !== 'lobby') return;
    this.#joining = true;
    this.#render();
    const { id, ended } = this.#conversation();
    const data = { client_msg_id: newId() };
    if (id && !ended) data.conversation_id = id;
    const invite = this.#lobbyInvite;
    if (invite) Object.assign(data, { conversation_id: invite.conversation_id || data.conversation_id, invite_id: invite.invite_id });
    try {
      const ack = await this.#client.request('call.request', data, { persistent: true });
      const call = ack.call && { ...ack.call, conversation_id: ack.call.conversation_id || ack.conversation_id };
      if (this.#phase === null && call && ACTIVE.has(call.state)) {
        // The visitor went back to the chat meanwhile.
        this.#client.request('call.hangup', { call_id: call.call_id }).catch(() => {});
        return;
      }
      if (ack.conversation_id && !this.#conversation().id) this.#adopt(ack.conversation_id);
      if (call) this.applyCall(call);
    } catch (err) {
      if (invite && err.code === 112) {
        // The agent has no room for a call right now: still in the lobby, "Join now" again.
        this.#notice(this.#t('invite.agent_busy', { name: invite.agent_name || this.#t('transcript.agent') }));
      } else if (invite && (err.code === 105 || err.code === 110 || err.code === 111)) {
        this.#notice(this.#t('invite.gone'));
        this.#finish();
      } else if (err.code === 110) {
        const reason = this.#video && this.#video.reason;
        this.#notice(this.#t(REFUSED_KEYS[reason] || 'call.refused'));
        if (reason === 'used' && id) this.#used.add(id);
        this.#finish();
      } else if (err.code !== 111) {
        this.#notice(errorMessage(this.#t, err)); // still in the lobby: "Join now" again
      }
    } finally {
      this.#joining = false;
      this.#render();
    }
  }

  async #connect() {
    const call = this.#call;
    if (!call || call.state !== 'live') return;
    const media = this.#media;
    try {
      // Connected even without devices: the visitor still sees and hears the agent. "Continue here" moves the call
      // from the other tab.
      const conn = await this.#link.connect({ call, media, ready: this.#mediaReady, takeOver: this.#moving,
        show: (c) => {
          this.#window.setStreams({ remoteVideo: c.remoteVideo, remoteAudio: c.remoteAudio, local: media.stream });
          this.#render();
        } });
      if (!conn) return;
      this.#moving = false;
      this.#tab.claim(call.call_id);
      this.#window.refreshRemote();
    } catch (err) {
      if (this.#moving) {
        this.#moving = false;
        this.#backElsewhere(call);
        this.#notice(this.#t('call.still_elsewhere'));
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
    if (on && !result && this.#media?.cameraError) this.#notice(this.#t('call.camera_error'));
    this.#render();
  }

  #setLarge(large) {
    if (this.#large === large) return;
    this.#large = large;
    this.#bridge.post({ parley: 'layout', large });
    this.#onLayout(large);
    this.#render();
  }

  #hangup() {
    const call = this.#call;
    if (!call) {
      this.#finish();
      return;
    }
    this.#hungUp.add(call.call_id);
    this.#client.request('call.hangup', { call_id: call.call_id })
      .then((ack) => ack.call && this.applyCall(ack.call))
      .catch((err) => {
        if (err.code !== 105 && err.code !== 111 && err.code !== 'disconnected') this.#notice(errorMessage(this.#t, err));
      });
    this.#finish({ ...call, state: 'ended', ended_by: 'visitor', reason: 'hangup' });
  }

  // The end of the lobby or of the call: everything is released. A call that was answered uses up video in its
  // conversation (docs/protocol.md: after call_ended, call.request is refused).
  #finish(call = this.#call) {
    if (call && (this.#phase === 'live' || Number(call.answered_at) > 0) && call.conversation_id) this.#used.add(call.conversation_id);
    if (call && this.#phase !== 'elsewhere') this.#tab.release(call.call_id);
    this.#release();
    this.#phase = null;
    this.#lobbyInvite = null;
    this.#setLarge(false);
    this.#render();
    this.#onChange();
  }

  #release() {
    this.#link.close();
    this.#media?.stop();
    this.#media = null;
    this.#pinned = null;
    this.#call = null;
    this.#agentMedia = { camera: true, mic: true };
    this.#window.clear();
  }

  // The site's camera policy (CAMERA). Once the devices are started it stays as it was for this call: an admin who
  // allows the camera during a call doesn't turn it on, and one who forbids it doesn't take away the visitor's
  // control of a camera that is on.
  #policy() {
    return this.#pinned || (this.#call && this.#call.camera) || (this.#video && this.#video.camera) || {};
  }

  #render() {
    const t = this.#t;
    const { id, ended } = this.#conversation();
    const video = this.#video;
    const used = (video && video.reason === 'used') || (id && this.#used.has(id));
    // An agent's invitation comes first, whatever the `video` frame says (after a call, it is the only way back).
    this.#invitation.render({ convId: id, ended, busy: Boolean(this.#phase), open: this.#open, unsupported: this.#support,
      reassurance: siteNotification(t, null, this.#policy(), document.documentElement.lang || 'en').reassurance });
    const offered = Boolean(video && video.available === true && !used && !ended && !this.#phase && !this.#inviteHidden
      && !this.#invitation.shown);
    const policy = this.#policy();
    // The frame's document says the widget's language (widget/frame.js).
    const lang = document.documentElement.lang || 'en';
    this.#notification.render({
      show: offered ? (this.#support ? 'unsupported' : 'offer') : null,
      unsupported: this.#support,
      ...siteNotification(t, video && video.notification, policy, lang),
    });

    const media = this.#media;
    const camera = Boolean(media && media.camera);
    const mic = Boolean(media && media.mic);
    this.#lobby.render({
      phase: this.#phase === 'lobby' || this.#phase === 'waiting' ? this.#phase : null,
      stream: media && media.stream,
      media: this.#mediaState,
      error: this.#mediaError,
      camera,
      mic: media ? mic || this.#mediaState !== 'ready' : true,
      cameraAllowed: policy.allowed !== false,
      cameraWanted: this.#cameraWanted,
      cameraError: media && media.cameraError,
      joining: this.#joining,
      callState: this.#call && this.#call.state,
      invitedBy: this.#lobbyInvite ? this.#lobbyInvite.agent_name || t('transcript.agent') : null,
    });
    this.#window.setState(this.#call ? this.#call.state : '', this.#phase === 'live');
    if (this.#phase === 'live') {
      this.#window.render({
        agentName: this.#call.agent_name,
        camera,
        mic,
        cameraAllowed: policy.allowed !== false,
        sound: this.#sound,
        large: this.#large,
        agentCamera: this.#agentMedia.camera,
        agentMic: this.#agentMedia.mic,
        connection: this.#link.connection,
        tier: this.#link.quality.tier,
        peerTier: this.#link.quality.peerTier,
      });
    }
    this.#elsewhere.hidden = this.#phase !== 'elsewhere';
    this.stage.hidden = !this.#phase;
    this.stage.dataset.phase = this.#phase || '';

    const state = this.#call && ACTIVE.has(this.#call.state) ? this.#call.state : null;
    if (state !== this.#posted) {
      this.#posted = state;
      this.#bridge.post({ parley: 'call', state });
    }
  }
}
