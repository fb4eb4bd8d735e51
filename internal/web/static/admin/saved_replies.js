// The admin's saved replies tab (docs/api.md, SAVED_REPLY): texts the agents insert in their reply box by typing
// "/" and the shortcut (desk/saved_replies.js).

import { h } from '/static/shared/dom.js';
import { patch, post } from '/static/shared/api.js';
import { field, formMessage } from '/static/shared/forms.js';
import { MasterDetail } from './master_detail.js';

const SHORTCUT = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const MAX_BODY = 4000;

export class SavedRepliesPanel {
  #md;

  constructor() {
    this.#md = new MasterDetail({
      id: 'saved-replies-title',
      title: 'Saved replies',
      label: 'Saved replies',
      newText: 'New saved reply',
      newTestid: 'admin-new-saved-reply',
      emptyText: 'No saved reply yet. Agents insert a saved reply by typing "/" and its shortcut in the reply box.',
      describe: (r) => [`/${r.shortcut}`, r.body.length > 60 ? `${r.body.slice(0, 60)}…` : r.body],
      renderEditor: (r) => [this.#form(r)],
    });
    this.element = this.#md.element;
  }

  async load() {
    await this.#md.load({ path: '/api/admin/saved-replies', key: 'saved_replies', what: 'saved replies' });
  }

  #form(reply) {
    const fields = {
      shortcut: field({ label: 'Shortcut', name: 'shortcut', value: reply ? reply.shortcut : '', required: true, testid: 'admin-saved-reply-shortcut',
        hint: 'Letters, digits, "-" and "_", without spaces. An agent types "/" and the shortcut to insert the text.' }),
      body: field({ label: 'Text', name: 'body', kind: 'textarea', rows: '5', value: reply ? reply.body : '', required: true,
        testid: 'admin-saved-reply-body', hint: 'Plain text, as the visitor will read it. The agent can change it before sending.' }),
    };
    const message = formMessage();
    const save = h('button', { type: 'submit', class: 'button button--primary', testid: 'admin-save' }, reply ? 'Save' : 'Create saved reply');
    const actions = [save];
    if (reply) {
      actions.push(this.#md.deleteButton({ item: reply, testid: 'admin-delete-saved-reply', message,
        question: `Delete the saved reply /${reply.shortcut}?`, path: `/api/admin/saved-replies/${encodeURIComponent(reply.id)}`,
        done: `/${reply.shortcut} is deleted.` }));
    }
    return this.#md.editorForm({
      label: reply ? `Saved reply /${reply.shortcut}` : 'New saved reply',
      title: reply ? `/${reply.shortcut}` : 'New saved reply',
      children: [fields.shortcut.element, fields.body.element],
      message,
      actions,
      onSubmit: async () => {
        const body = {
          shortcut: fields.shortcut.input.value.trim().replace(/^\//, '').toLowerCase(),
          body: fields.body.input.value.trim(),
        };
        const errors = {};
        if (!SHORTCUT.test(body.shortcut)) errors.shortcut = 'Use 1 to 32 letters, digits, "-" or "_", without spaces.';
        if (!body.body || [...body.body].length > MAX_BODY) errors.body = `Write a text of 1 to ${MAX_BODY} characters.`;
        const saved = await this.#md.submit({ fields, errors, message, button: save, send: () => (reply
          ? patch(`/api/admin/saved-replies/${encodeURIComponent(reply.id)}`, body)
          : post('/api/admin/saved-replies', body)) });
        if (saved) this.#md.message.success(`/${saved.shortcut} is saved. Agents see it the next time they type "/" in the reply box.`);
      },
    });
  }
}
