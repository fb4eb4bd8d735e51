// VideoLobby: before the call. The lobby shows the visitor's own camera (self-preview) and "Join now"; a refused
// camera or microphone is explained with the steps to allow it. Once the call is asked for, the waiting stage keeps
// the self-preview while the waiting room (widget/waiting_room.js) gives the position and the estimated wait.
// It only draws what widget/visitor_call.js tells it, besides the quick part of the pre-call check
// (check/quick_check.js), which it runs once the lobby opens: a short warning line if the call may go badly, and
// "Test my connection", the full check (/check) in a new tab.

import { h } from '/static/shared/dom.js';
import { toggleButton, setPressed } from '/static/shared/call_controls.js';
import { mediaHelp } from '/static/shared/media_help.js';
import { VideoTile } from '/static/shared/video_tile.js';
import { quickCheck } from '/static/check/quick_check.js';

export class VideoLobby {
  #t;
  #preview;
  #lobby;
  #lobbySlot;
  #lobbyText;
  #invited;
  #help;
  #camera;
  #join;
  #cancel;
  #waiting;
  #waitingSlot;
  #waitingText;
  #onRetry;
  #checkWarning;
  #checked = false;

  /** onJoin, onCancel, onRetry (ask for the devices again) and onToggleCamera(on). */
  constructor({ t, onJoin, onCancel, onRetry, onToggleCamera }) {
    this.#t = t;
    this.#onRetry = onRetry;
    this.#preview = new VideoTile({ testid: 'self-preview', label: t('call.your_video'), mirror: true,
      cameraOffText: t('call.camera_off'), micOffText: t('call.mic_off'), className: 'lobby__preview' });
    this.#preview.setName(t('transcript.you'));

    this.#lobbySlot = h('div', { class: 'lobby__slot' }, this.#preview.element);
    this.#lobbyText = h('p', { class: 'lobby__text', role: 'status' });
    this.#invited = h('p', { class: 'lobby__invited', testid: 'lobby-invited', hidden: true });
    this.#help = h('div', { class: 'lobby__help' });
    this.#checkWarning = h('p', { class: 'lobby__warning', testid: 'lobby-check-warning', role: 'status', hidden: true });
    const checkLink = h('a', { class: 'lobby__check-link', testid: 'test-connection', target: '_blank', rel: 'noopener',
      href: `/check?lang=${encodeURIComponent(document.documentElement.lang || 'en')}`, text: t('lobby.test_connection') });
    this.#camera = toggleButton({ testid: 'lobby-camera', label: t('lobby.camera'), iconOn: 'camera', iconOff: 'camera_off',
      onclick: () => onToggleCamera(this.#camera.getAttribute('aria-pressed') !== 'true') });
    this.#join = h('button', { type: 'button', class: 'button', testid: 'join-now', onclick: onJoin }, t('lobby.join'));
    this.#cancel = h('button', { type: 'button', class: 'button button--secondary', testid: 'cancel-video', onclick: onCancel },
      t('lobby.cancel'));
    this.#lobby = h('section', { class: 'lobby', testid: 'video-lobby', 'aria-labelledby': 'lobby-title', hidden: true },
      h('h2', { class: 'lobby__title', id: 'lobby-title', text: t('lobby.title') }),
      this.#invited,
      this.#lobbySlot, this.#lobbyText, this.#help, this.#checkWarning, checkLink,
      h('div', { class: 'lobby__actions' },
        this.#camera,
        this.#cancel,
        this.#join));

    this.#waitingSlot = h('div', { class: 'lobby__slot lobby__slot--waiting' });
    this.#waitingText = h('p', { class: 'lobby__text', role: 'status' });
    this.#waiting = h('section', { class: 'call-wait', testid: 'call-waiting', 'aria-label': t('call.title'), hidden: true },
      this.#waitingSlot, this.#waitingText);

    this.element = h('div', { class: 'precall' }, this.#lobby, this.#waiting);
  }

  /**
   * view: {phase: 'lobby' | 'waiting' | null, stream, media: 'starting' | 'ready' | 'error', error (a
   * mediaErrorKind), camera, mic, cameraAllowed, cameraError, joining, callState ('queued' | 'ringing'), invitedBy
   * (the name of the agent whose invitation the lobby leads to, or null)}.
   */
  render(view) {
    const t = this.#t;
    const { phase } = view;
    this.#lobby.hidden = phase !== 'lobby';
    this.#waiting.hidden = phase !== 'waiting';
    if (!phase) {
      this.#preview.setStream(null);
      return;
    }
    // Moved in one step, so the <video> keeps playing.
    const slot = phase === 'lobby' ? this.#lobbySlot : this.#waitingSlot;
    if (this.#preview.element.parentNode !== slot) slot.prepend(this.#preview.element);
    this.#preview.setStream(view.stream);
    this.#preview.setCamera(view.camera);
    this.#preview.setMic(view.mic !== false);

    if (phase === 'waiting') {
      this.#waitingText.textContent = t(view.callState === 'ringing' ? 'call.ringing' : 'call.queued');
      return;
    }
    this.#quickCheck();
    // An agent's invitation (an escalation, or a bot's handover): the agent is there, waiting.
    this.#invited.hidden = !view.invitedBy;
    this.#invited.textContent = view.invitedBy ? t('lobby.agent_ready', { name: view.invitedBy }) : '';
    const failed = view.media === 'error';
    this.#preview.element.hidden = failed;
    this.#help.replaceChildren(failed ? mediaHelp(t, view.error, this.#onRetry, { retryTestid: 'lobby-retry' }) : '');
    this.#lobbyText.hidden = failed;
    this.#lobbyText.textContent = this.#text(view);
    this.#camera.hidden = !view.cameraAllowed || view.media !== 'ready';
    setPressed(this.#camera, view.camera);
    this.#join.disabled = view.media !== 'ready' || view.joining;
    this.#cancel.disabled = view.joining; // the call.request is on its way: its answer decides
    this.#join.textContent = t(view.joining ? 'lobby.joining' : 'lobby.join');
  }

  /** The preview after its tracks changed (the camera turned on or off). */
  refresh() {
    this.#preview.refresh();
  }

  // Warns, never blocks: the visitor may join anyway.
  #quickCheck() {
    if (this.#checked) return;
    this.#checked = true;
    quickCheck().then((problems) => {
      this.#checkWarning.hidden = !problems.length;
      this.#checkWarning.textContent = problems.map((p) => this.#t(p.key, p.params)).join(' ');
    }, () => {});
  }

  #text(view) {
    const t = this.#t;
    if (view.media === 'starting') return t(view.cameraAllowed && view.cameraWanted ? 'lobby.starting' : 'lobby.starting_mic');
    if (!view.cameraAllowed) return t('lobby.camera_not_used');
    if (view.cameraError) return t('lobby.camera_unavailable');
    return t(view.camera ? 'lobby.ready' : 'lobby.camera_off');
  }
}
