// The top bar of the desk and the admin app: the app's name, links, the signed-in person, "Change password" and
// "Log out".

import { h } from './dom.js';
import { openPasswordDialog } from './password_dialog.js';

/** links: [{href, text, testid, newTab}]. status: an element shown in the bar (the desk's connection state). */
export function topbar({ app, account, links = [], status = null, onLogout }) {
  const logout = h('button', { type: 'button', class: 'button button--quiet', testid: 'logout' }, 'Log out');
  logout.addEventListener('click', async () => {
    logout.disabled = true;
    try {
      await onLogout();
    } finally {
      logout.disabled = false;
    }
  });
  return h('header', { class: 'topbar' },
    h('span', { class: 'brand' }, 'Parley'),
    h('span', { class: 'topbar__app', text: app }),
    h('nav', { class: 'topbar__links', 'aria-label': 'Applications' },
      links.map((link) => h('a', { href: link.href, text: link.text, testid: link.testid,
        target: link.newTab ? '_blank' : null, rel: link.newTab ? 'noopener' : null }))),
    h('span', { class: 'topbar__spacer' }),
    status,
    h('span', { class: 'topbar__who' },
      h('span', { class: 'topbar__name', text: account.name || account.email }),
      h('span', { class: 'topbar__role', text: account.role === 'admin' ? 'Admin' : account.supervisor ? 'Supervisor' : 'Agent' })),
    h('button', { type: 'button', class: 'button button--quiet', testid: 'change-password', onclick: openPasswordDialog }, 'Change password'),
    logout);
}
