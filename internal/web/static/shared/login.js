// The sign-in form of the desk and the admin app.

import { h } from './dom.js';
import { currentAccount, logIn } from './account.js';
import { field, formMessage } from './forms.js';

/** The signed-in account: the current session's, or the one the person signs in with. */
export async function signedInAccount(root, options) {
  let account = null;
  try {
    account = await currentAccount();
  } catch (err) {
    return showLogin(root, { ...options, notice: err.message });
  }
  return account || showLogin(root, options);
}

/**
 * Replaces root's content with the sign-in form and resolves with the account once signed in.
 * title names the app; notice is shown above the form (for example "Your session has ended").
 */
export function showLogin(root, { title, notice = '' } = {}) {
  return new Promise((resolve) => {
    const email = field({ label: 'Email', name: 'email', type: 'email', testid: 'login-email', autocomplete: 'username', required: true });
    const password = field({
      label: 'Password', name: 'password', type: 'password', testid: 'login-password', autocomplete: 'current-password', required: true,
    });
    const message = formMessage();
    const submit = h('button', { type: 'submit', class: 'button button--primary button--wide', testid: 'login-submit' }, 'Sign in');
    const form = h('form', { class: 'login__form', novalidate: true }, email.element, password.element, message.element, submit);

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      message.clear();
      if (!email.input.value.trim() || !password.input.value) {
        message.error('Enter your email and your password.');
        return;
      }
      submit.disabled = true;
      try {
        resolve(await logIn(email.input.value.trim(), password.input.value));
      } catch (err) {
        message.error(err.status === 401 ? 'Wrong email or password.' : err.message);
        password.input.select();
      } finally {
        submit.disabled = false;
      }
    });

    root.replaceChildren(h('main', { class: 'login' },
      h('div', { class: 'login__card' },
        h('p', { class: 'brand' }, 'Parley'),
        h('h1', { class: 'login__title', text: title }),
        notice ? h('p', { class: 'notice', role: 'status', text: notice }) : null,
        form)));
    email.input.focus();
  });
}
