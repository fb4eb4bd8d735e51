// The "Change password" dialog (POST /api/auth/password).

import { h } from './dom.js';
import { changePassword } from './account.js';
import { field, formMessage, showFieldErrors } from './forms.js';

/** Builds the dialog, appends it to document.body and opens it. It removes itself when closed. */
export function openPasswordDialog() {
  const fields = {
    current_password: field({ label: 'Current password', name: 'current_password', type: 'password', autocomplete: 'current-password', required: true }),
    new_password: field({ label: 'New password', name: 'new_password', type: 'password', autocomplete: 'new-password', required: true }),
    confirm: field({ label: 'New password, again', name: 'confirm', type: 'password', autocomplete: 'new-password', required: true }),
  };
  const message = formMessage();
  const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Change password');
  const cancel = h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, 'Cancel');

  const form = h('form', { class: 'dialog__form', novalidate: true },
    h('h2', { class: 'dialog__title', text: 'Change password' }),
    Object.values(fields).map((f) => f.element),
    message.element,
    h('div', { class: 'dialog__actions' }, cancel, submit));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.clear();
    showFieldErrors(fields, {});
    const current = fields.current_password.input.value;
    const next = fields.new_password.input.value;
    if (!current) return fields.current_password.setError('Enter your current password.');
    if (!next) return fields.new_password.setError('Enter a new password.');
    if (next !== fields.confirm.input.value) return fields.confirm.setError('The two new passwords differ.');
    submit.disabled = true;
    try {
      await changePassword(current, next);
      form.reset();
      message.success('Your password has been changed. Your other sessions have been signed out.');
      cancel.textContent = 'Close';
    } catch (err) {
      const rest = showFieldErrors(fields, err.fields);
      if (err.code === 'invalid_credentials' || (err.status === 401 && err.code !== 'unauthenticated')) {
        fields.current_password.setError('This is not your current password.');
      } else if (Object.keys(err.fields).length === 0 || rest.length) {
        message.error(rest.length ? rest.join(' ') : err.message);
      }
    } finally {
      submit.disabled = false;
    }
  });

  const dialog = h('dialog', { class: 'dialog', 'aria-label': 'Change password' }, form);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
