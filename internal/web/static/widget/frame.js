// The widget frame's entry point (widget/frame.html, served at /widget/frame?site=ID&lang=xx).

import { createTranslator, pickLanguage } from '/static/shared/i18n.js';
import { messages } from './i18n.js';
import { ParentBridge } from './bridge.js';
import { VisitorSession } from './session.js';
import { SavedConversation } from './saved_conversation.js';
import { VisitorChat } from './visitor_chat.js';

const params = new URLSearchParams(location.search);
const site = params.get('site') || '';
const lang = pickLanguage(params.get('lang'), navigator.language);
const t = createTranslator(messages, lang);
document.documentElement.lang = lang;

// First, so that the loader's 'init' answer finds its listener.
const bridge = new ParentBridge();

const chat = new VisitorChat({
  root: document.getElementById('app'),
  site,
  lang,
  t,
  session: new VisitorSession(site),
  saved: new SavedConversation(site),
  bridge,
});
chat.start();

fetch(`/api/widget/config?site=${encodeURIComponent(site)}`, { credentials: 'same-origin' })
  .then((res) => (res.ok ? res.json() : null))
  .then((config) => {
    if (!config) return;
    if (config.site) chat.setTitle(config.site.name);
    chat.setFileLimit(config.max_file_bytes);
    chat.setInvitations(config.invitations);
  })
  .catch(() => { /* the default title stays */ });
