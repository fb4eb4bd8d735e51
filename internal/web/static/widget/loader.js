/*
 * Parley widget loader, served at /widget.js. Websites embed it with:
 *   <script src="https://PARLEY_HOST/widget.js" data-site="SITE_ID" async></script>
 * (optional data-lang="fr" or "en" forces the language; otherwise the site's language, or the browser's).
 * A site whose visitor is signed in may say who they are, signed by its backend with the site's identity secret
 * (docs/api.md, "Identifying signed-in visitors"): data-visitor-email, data-visitor-name and data-visitor-hash on
 * the tag, or window.Parley.identify({email, name, hash}) later (a single-page site's sign-in).
 *
 * A classic script, not a module. It adds one <parley-widget> element whose open shadow root holds the launcher
 * button, the call badge and the chat iframe (/widget/frame), isolated from the page's CSS. The only global is
 * window.Parley ({open(), minimize(), identify()}), which also stops a second copy from loading.
 *
 * While a video call is under way and the chatbox is minimized, the call badge next to the launcher says so (the
 * iframe stays alive, so the call and its sound go on); a click on it, or on the launcher, brings the chatbox back.
 *
 * postMessage contract (both sides check the other's origin and window):
 *   loader → frame: {parley: 'init', open: bool, page, identity} (answering the frame's 'ready', and on the iframe's
 *                   load; identity is {email, name, hash} or null),
 *                   {parley: 'identify', identity} when the page calls Parley.identify,
 *                   {parley: 'open'} when the visitor opens the chatbox,
 *                   {parley: 'page', page} when the page's address or title changes (history navigation in a
 *                   single-page site; checked every 2 s and on popstate and hashchange). page is {url, title}: the
 *                   agent sees which page the visitor is on.
 *                   {parley: 'invite.accept'} when the visitor opens the proactive invitation shown beside the
 *                   launcher (sent before 'open'), {parley: 'invite.dismiss'} when they close it.
 *   frame → loader: {parley: 'ready'}, {parley: 'minimize'}, {parley: 'unread', count: n},
 *                   {parley: 'call', state: 'queued' | 'ringing' | 'live' | null}, {parley: 'layout', large: bool},
 *                   {parley: 'invite', invitation: {message, name} | null}: a proactive invitation to show beside the
 *                   launcher while the chatbox is closed (null takes it away).
 */
(() => {
  'use strict';

  if (window.Parley) return;

  const script = document.currentScript || document.querySelector('script[data-site][src*="/widget.js"]');
  if (!script) {
    console.error('Parley: cannot find the widget <script> tag.');
    return;
  }
  const site = script.getAttribute('data-site');
  if (!site) {
    console.error('Parley: the widget <script> tag needs a data-site="SITE_ID" attribute.');
    return;
  }
  const origin = new URL(script.src, location.href).origin;
  const openKey = `parley.open.${site}`;

  const TEXTS = {
    en: {
      open: 'Open the chat', unread: 'Open the chat ({n} unread)', title: 'Chat',
      callLive: 'Video call', callLiveLabel: 'Video call in progress: open the chat',
      callWaiting: 'Video call…', callWaitingLabel: 'Waiting for your video call: open the chat',
      inviteOpen: 'Answer in the chat', inviteClose: 'Close',
    },
    fr: {
      open: 'Ouvrir la discussion', unread: 'Ouvrir la discussion ({n} non lus)', title: 'Discussion',
      callLive: 'Appel vidéo', callLiveLabel: 'Appel vidéo en cours : ouvrir la discussion',
      callWaiting: 'Appel vidéo…', callWaitingLabel: 'En attente de votre appel vidéo : ouvrir la discussion',
      inviteOpen: 'Répondre dans la discussion', inviteClose: 'Fermer',
    },
  };

  const CSS = `
    :host {
      all: initial;
      position: fixed;
      right: 0;
      bottom: 0;
      width: 0;
      height: 0;
      z-index: 2147483000;
    }
    .launcher {
      position: fixed;
      right: 20px;
      bottom: 20px;
      display: grid;
      place-items: center;
      width: 60px;
      height: 60px;
      padding: 0;
      border: 0;
      border-radius: 50%;
      background: #2657d9;
      color: #fff;
      box-shadow: 0 6px 20px rgb(16 24 40 / 0.25);
      cursor: pointer;
      transition: transform 0.15s ease;
    }
    .launcher:hover { transform: scale(1.06); background: #1d46b3; }
    .launcher:focus-visible { outline: 3px solid #9db5f5; outline-offset: 3px; }
    .launcher[hidden], .frame[hidden] { display: none; }
    .badge {
      position: absolute;
      top: -3px;
      right: -3px;
      box-sizing: border-box;
      min-width: 22px;
      height: 22px;
      padding: 0 6px;
      border: 2px solid #fff;
      border-radius: 11px;
      background: #d92d20;
      color: #fff;
      font: 700 12px/18px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
      text-align: center;
    }
    .call-badge {
      position: fixed;
      right: 90px;
      bottom: 32px;
      display: flex;
      align-items: center;
      gap: 8px;
      height: 36px;
      padding: 0 14px 0 12px;
      border: 0;
      border-radius: 18px;
      background: #1a7f37;
      color: #fff;
      box-shadow: 0 6px 20px rgb(16 24 40 / 0.25);
      font: 600 14px/1 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
      cursor: pointer;
    }
    .call-badge[data-state="queued"], .call-badge[data-state="ringing"] { background: #2657d9; }
    .call-badge:hover { filter: brightness(0.92); }
    .call-badge:focus-visible { outline: 3px solid #9db5f5; outline-offset: 3px; }
    .call-badge[hidden] { display: none; }
    .call-badge__dot {
      width: 9px;
      height: 9px;
      border-radius: 50%;
      background: #fff;
      animation: parley-call-pulse 1.6s ease-in-out infinite;
    }
    @keyframes parley-call-pulse { 50% { opacity: 0.35; } }
    .invite {
      position: fixed;
      right: 20px;
      bottom: 92px;
      box-sizing: border-box;
      width: 300px;
      max-width: calc(100vw - 40px);
      border-radius: 14px;
      background: #fff;
      color: #1c2024;
      box-shadow: 0 8px 28px rgb(16 24 40 / 0.22);
      font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
    }
    .invite[hidden] { display: none; }
    .invite__open {
      display: block;
      box-sizing: border-box;
      width: 100%;
      padding: 14px 40px 14px 16px;
      border: 0;
      border-radius: 14px;
      background: none;
      color: inherit;
      font: inherit;
      text-align: left;
      cursor: pointer;
    }
    .invite__open:focus-visible, .invite__close:focus-visible { outline: 3px solid #9db5f5; outline-offset: 2px; }
    .invite__name { display: block; margin-bottom: 4px; font-weight: 700; }
    .invite__text { display: block; white-space: pre-wrap; overflow-wrap: anywhere; }
    .invite__cta { display: block; margin-top: 8px; color: #2657d9; font-weight: 600; }
    .invite__close {
      position: absolute;
      top: 6px;
      right: 6px;
      width: 28px;
      height: 28px;
      border: 0;
      border-radius: 50%;
      background: none;
      color: #5f6b7a;
      font: 700 18px/1 system-ui, sans-serif;
      cursor: pointer;
    }
    .invite__close:hover { background: #f1f3f6; }
    .frame {
      position: fixed;
      right: 20px;
      bottom: 20px;
      width: 380px;
      height: 600px;
      max-width: calc(100vw - 40px);
      max-height: calc(100vh - 40px);
      border: 0;
      border-radius: 14px;
      background: #fff;
      box-shadow: 0 12px 40px rgb(16 24 40 / 0.28);
      color-scheme: light;
    }
    .frame.frame--large {
      width: 960px;
      height: 720px;
    }
    @media (max-width: 480px), (max-height: 520px) {
      .frame, .frame.frame--large {
        inset: 0;
        width: 100%;
        height: 100%;
        max-width: none;
        max-height: none;
        border-radius: 0;
      }
    }
    @media (prefers-reduced-motion: reduce) {
      .launcher { transition: none; }
      .call-badge__dot { animation: none; }
    }
    @media print { :host { display: none; } }
  `;

  let ui = null;
  const state = { open: false, unread: 0, call: null, large: false, invite: null, identity: readIdentity(
    script.getAttribute('data-visitor-email'), script.getAttribute('data-visitor-name'), script.getAttribute('data-visitor-hash')) };
  const CALL_STATES = ['queued', 'ringing', 'live'];

  window.Parley = Object.freeze({
    open: () => ui && setOpen(true),
    minimize: () => ui && setOpen(false),
    identify: (who) => {
      state.identity = readIdentity(who && who.email, who && who.name, who && who.hash);
      if (!state.identity) console.error('Parley.identify needs {email, name, hash}: see "Identifying signed-in visitors" in Parley\'s docs.');
      else if (ui) post({ parley: 'identify', identity: state.identity });
    },
  });

  // An identity as the page gives it, or null: the server checks the hash.
  function readIdentity(email, name, hash) {
    if (typeof email !== 'string' || !email || typeof hash !== 'string' || !hash) return null;
    return { email, name: typeof name === 'string' ? name : '', hash };
  }

  fetch(`${origin}/api/widget/config?site=${encodeURIComponent(site)}`, { mode: 'cors', credentials: 'omit' })
    .then(async (res) => {
      if (res.ok) return res.json();
      let code = '';
      try {
        code = (await res.json()).error.code;
      } catch { /* no JSON body */ }
      throw Object.assign(new Error(code || `HTTP ${res.status}`), { status: res.status, code });
    })
    .then((config) => whenBody(() => mount((config && config.site) || {})))
    .catch((err) => console.error(explain(err)));

  function explain(err) {
    if (err.code === 'origin_not_allowed' || err.status === 403) {
      return `Parley: this website (${location.origin}) is not an allowed origin of site "${site}". ` +
        'Add it to the site\'s allowed origins in Parley\'s admin. The chat is not shown.';
    }
    if (err.code === 'site_not_found' || err.status === 404) {
      return `Parley: no site "${site}" on ${origin}. Check the data-site attribute of the widget <script> tag. ` +
        'The chat is not shown.';
    }
    return `Parley: cannot load the widget configuration of site "${site}" from ${origin} (${err.message}). ` +
      `If ${location.origin} is not among the site's allowed origins, the browser blocks this request. ` +
      'The chat is not shown.';
  }

  function whenBody(fn) {
    if (document.body) fn();
    else document.addEventListener('DOMContentLoaded', fn, { once: true });
  }

  // data-lang, else the site's language when the admin forces one, else the browser's (fr-* → fr, else en).
  function chooseLanguage(siteLanguage) {
    const supported = (value) => {
      const lang = String(value || '').toLowerCase().slice(0, 2);
      return lang === 'en' || lang === 'fr' ? lang : null;
    };
    return supported(script.getAttribute('data-lang')) || supported(siteLanguage) || supported(navigator.language) || 'en';
  }

  function mount(siteConfig) {
    const lang = chooseLanguage(siteConfig.language);
    const text = TEXTS[lang];

    const host = document.createElement('parley-widget');
    const root = host.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = CSS;

    const frame = document.createElement('iframe');
    frame.className = 'frame';
    frame.hidden = true;
    frame.title = siteConfig.name ? `${text.title}: ${siteConfig.name}` : text.title;
    frame.allow = 'camera; microphone; autoplay';
    frame.src = `${origin}/widget/frame?site=${encodeURIComponent(site)}&lang=${lang}`;

    const launcher = document.createElement('button');
    launcher.type = 'button';
    launcher.className = 'launcher';
    launcher.setAttribute('data-testid', 'launcher');
    launcher.setAttribute('aria-expanded', 'false');
    launcher.append(chatIcon());
    launcher.addEventListener('click', () => setOpen(true));

    const callBadge = document.createElement('button');
    callBadge.type = 'button';
    callBadge.className = 'call-badge';
    callBadge.hidden = true;
    callBadge.setAttribute('data-testid', 'call-badge');
    const dot = document.createElement('span');
    dot.className = 'call-badge__dot';
    dot.setAttribute('aria-hidden', 'true');
    const callText = document.createElement('span');
    callBadge.append(dot, callText);
    callBadge.addEventListener('click', () => setOpen(true));

    // A proactive invitation (docs/api.md, "Proactive invitations"): what the site wrote goes in as text only.
    const invite = document.createElement('div');
    invite.className = 'invite';
    invite.hidden = true;
    invite.setAttribute('data-testid', 'invitation');
    invite.setAttribute('role', 'status');
    const inviteOpen = document.createElement('button');
    inviteOpen.type = 'button';
    inviteOpen.className = 'invite__open';
    inviteOpen.setAttribute('data-testid', 'invitation-open');
    const inviteName = document.createElement('span');
    inviteName.className = 'invite__name';
    const inviteText = document.createElement('span');
    inviteText.className = 'invite__text';
    const inviteCta = document.createElement('span');
    inviteCta.className = 'invite__cta';
    inviteCta.textContent = text.inviteOpen;
    inviteOpen.append(inviteName, inviteText, inviteCta);
    inviteOpen.addEventListener('click', () => {
      state.invite = null;
      post({ parley: 'invite.accept' });
      setOpen(true);
    });
    const inviteClose = document.createElement('button');
    inviteClose.type = 'button';
    inviteClose.className = 'invite__close';
    inviteClose.setAttribute('data-testid', 'invitation-dismiss');
    inviteClose.setAttribute('aria-label', text.inviteClose);
    inviteClose.title = text.inviteClose;
    inviteClose.textContent = '×';
    inviteClose.addEventListener('click', () => {
      state.invite = null;
      render();
      post({ parley: 'invite.dismiss' });
    });
    invite.append(inviteOpen, inviteClose);

    root.append(style, frame, invite, callBadge, launcher);
    document.body.appendChild(host);
    ui = { frame, launcher, text, badge: null, callBadge, callText, invite, inviteName, inviteText };

    frame.addEventListener('load', () => post({ parley: 'init', open: state.open, page: currentPage(), identity: state.identity }));
    window.addEventListener('message', onMessage);
    let lastPage = JSON.stringify(currentPage());
    const pageMoved = () => {
      const page = currentPage();
      if (JSON.stringify(page) === lastPage) return;
      lastPage = JSON.stringify(page);
      post({ parley: 'page', page });
    };
    window.addEventListener('popstate', pageMoved);
    window.addEventListener('hashchange', pageMoved);
    setInterval(pageMoved, 2000);

    let wasOpen = false;
    try {
      wasOpen = sessionStorage.getItem(openKey) === '1';
    } catch { /* storage refused */ }
    setOpen(wasOpen, { restoring: true });
  }

  function onMessage(e) {
    if (e.origin !== origin || !ui || e.source !== ui.frame.contentWindow) return;
    const data = e.data;
    if (!data || typeof data !== 'object') return;
    if (data.parley === 'ready') post({ parley: 'init', open: state.open, page: currentPage(), identity: state.identity });
    else if (data.parley === 'minimize') setOpen(false);
    else if (data.parley === 'unread') {
      const count = Number(data.count);
      state.unread = Number.isInteger(count) && count > 0 ? count : 0;
      render();
    } else if (data.parley === 'call') {
      state.call = CALL_STATES.includes(data.state) ? data.state : null;
      render();
    } else if (data.parley === 'layout') {
      state.large = data.large === true;
      render();
    } else if (data.parley === 'invite') {
      const inv = data.invitation;
      state.invite = inv && typeof inv.message === 'string' && inv.message
        ? { message: inv.message.slice(0, 500), name: typeof inv.name === 'string' ? inv.name.slice(0, 200) : '' }
        : null;
      render();
    }
  }

  function setOpen(open, { restoring = false } = {}) {
    const changed = state.open !== open;
    state.open = open;
    try {
      if (open) sessionStorage.setItem(openKey, '1');
      else sessionStorage.removeItem(openKey);
    } catch { /* storage refused: the chatbox just starts minimized on the next page */ }
    render();
    if (open) post({ parley: 'open' });
    if (changed && !restoring) (open ? ui.frame : ui.launcher).focus();
  }

  function render() {
    const { frame, launcher, text, callBadge, callText, invite, inviteName, inviteText } = ui;
    frame.hidden = !state.open;
    if (state.open) state.invite = null;
    invite.hidden = !state.invite;
    if (state.invite) {
      inviteName.textContent = state.invite.name;
      inviteName.hidden = !state.invite.name;
      inviteText.textContent = state.invite.message;
    }
    frame.classList.toggle('frame--large', state.large);
    callBadge.hidden = state.open || !state.call;
    if (state.call) {
      const live = state.call === 'live';
      callBadge.setAttribute('data-state', state.call);
      callBadge.setAttribute('aria-label', live ? text.callLiveLabel : text.callWaitingLabel);
      callText.textContent = live ? text.callLive : text.callWaiting;
    }
    launcher.hidden = state.open;
    launcher.setAttribute('aria-expanded', String(state.open));
    const showBadge = !state.open && state.unread > 0;
    launcher.setAttribute('aria-label', showBadge ? text.unread.replace('{n}', state.unread) : text.open);
    if (showBadge) {
      if (!ui.badge) {
        ui.badge = document.createElement('span');
        ui.badge.className = 'badge';
        ui.badge.setAttribute('data-testid', 'unread-badge');
        ui.badge.setAttribute('aria-hidden', 'true');
        launcher.append(ui.badge);
      }
      ui.badge.textContent = state.unread > 99 ? '99+' : String(state.unread);
    } else if (ui.badge) {
      ui.badge.remove();
      ui.badge = null;
    }
  }

  function currentPage() {
    return { url: location.href, title: document.title };
  }

  function post(message) {
    if (ui && ui.frame.contentWindow) ui.frame.contentWindow.postMessage(message, origin);
  }

  function chatIcon() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '28');
    svg.setAttribute('height', '28');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('fill', 'currentColor');
    path.setAttribute('d', 'M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2zM6 9h12v2H6zm8 5H6v-2h8zm4-6H6V6h12z');
    svg.append(path);
    return svg;
  }
})();
