// The admin app (served at /admin/): agents, routing groups, sites, the chatbox and notification builders, bots, the
// agents' saved replies, and reports.
// Sign-in and the top bar are shared with the desk.

import { h } from '/static/shared/dom.js';
import { onUnauthenticated } from '/static/shared/api.js';
import { logOut } from '/static/shared/account.js';
import { signedInAccount, showLogin } from '/static/shared/login.js';
import { topbar } from '/static/shared/topbar.js';
import { AgentsPanel } from './agents.js';
import { BotsPanel } from './bots.js';
import { ChatboxBuilderPanel } from './chatbox_builder.js';
import { GroupsPanel } from './groups.js';
import { ReportsPanel } from './reports.js';
import { SavedRepliesPanel } from './saved_replies.js';
import { InvitationsPanel } from './invitations.js';
import { WebhooksPanel } from './webhooks.js';
import { NotificationBuilderPanel } from './notification_builder.js';
import { SitesPanel } from './sites.js';

const APP = 'Admin';
const SESSION_ENDED = 'Your session has ended. Please sign in again.';
const TABS = [
  { id: 'agents', text: 'Agents', panel: (account) => new AgentsPanel(account) },
  { id: 'groups', text: 'Groups', panel: () => new GroupsPanel() },
  { id: 'sites', text: 'Sites', panel: () => new SitesPanel() },
  { id: 'chatbox', text: 'Chatbox builder', panel: () => new ChatboxBuilderPanel() },
  { id: 'notification', text: 'Notification builder', panel: () => new NotificationBuilderPanel() },
  { id: 'bots', text: 'Bots', panel: () => new BotsPanel() },
  { id: 'invitations', text: 'Invitations', panel: () => new InvitationsPanel() },
  { id: 'saved-replies', text: 'Saved replies', panel: () => new SavedRepliesPanel() },
  { id: 'webhooks', text: 'Webhooks', panel: () => new WebhooksPanel() },
  { id: 'reports', text: 'Reports', panel: () => new ReportsPanel() },
];
const root = document.getElementById('app');

function run(account) {
  let finished = false;
  const finish = (notice) => {
    if (finished) return;
    finished = true;
    onUnauthenticated(null);
    showLogin(root, { title: APP, notice }).then(run);
  };
  onUnauthenticated(() => finish(SESSION_ENDED));
  const bar = topbar({
    app: APP,
    account,
    links: [{ href: '/desk/', text: 'Desk' }],
    onLogout: async () => {
      try {
        await logOut();
      } catch { /* the session is over either way */ }
      finish('');
    },
  });

  if (account.role !== 'admin') {
    root.replaceChildren(bar, h('main', { class: 'admin' },
      h('div', { class: 'card admin-denied' },
        h('h1', { text: 'Admins only' }),
        h('p', { text: 'This page is for administrators, and your account is an agent account.' }),
        h('p', null, h('a', { href: '/desk/', text: 'Go to the desk' })))));
    return;
  }

  const main = h('main', { class: 'admin', id: 'admin-panel', role: 'tabpanel' });
  const tabs = TABS.map((tab) => h('button', {
    type: 'button',
    role: 'tab',
    class: 'tabs__tab',
    id: `tab-${tab.id}`,
    'aria-controls': 'admin-panel',
    onclick: () => show(tab.id),
  }, tab.text));

  // Only the chosen tab's panel is in the page, so every control on screen is the one a test or a person means.
  function show(id) {
    const tab = TABS.find((t) => t.id === id) || TABS[0];
    history.replaceState(null, '', `#${tab.id}`);
    tabs.forEach((button, i) => button.setAttribute('aria-selected', String(TABS[i] === tab)));
    main.setAttribute('aria-labelledby', `tab-${tab.id}`);
    const panel = tab.panel(account);
    main.replaceChildren(panel.element);
    panel.load();
  }

  root.replaceChildren(bar, h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Administration' }, tabs), main);
  show(location.hash.slice(1));
}

signedInAccount(root, { title: APP }).then(run);
