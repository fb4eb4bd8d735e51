// The visitor's current conversation, remembered in localStorage per site so that a reload (or the next page of
// the website) resumes it: {id, last_seq, read_seq, contact_email, dismissed}. read_seq is the last seq the visitor
// has seen with the chatbox open; what comes after it counts as unread. contact_email is the address of a message
// the visitor left, and dismissed what they closed of the waiting room's busy panel, so that neither comes back on
// the next page.

import { storage } from '/static/shared/storage.js';

export class SavedConversation {
  #key;
  #value;

  constructor(site) {
    this.#key = `parley.conversation.${site}`;
    const saved = storage.get(this.#key);
    this.#value = saved && typeof saved.id === 'string' ? saved : null;
  }

  get id() {
    return this.#value ? this.#value.id : null;
  }

  get readSeq() {
    return this.#value ? this.#value.read_seq || 0 : 0;
  }

  /** Another remembered field of the conversation (undefined when none). */
  get(name) {
    return this.#value ? this.#value[name] : undefined;
  }

  adopt(id) {
    if (this.id === id) return;
    this.#value = { id, last_seq: 0, read_seq: 0 };
    this.#save();
  }

  update(fields) {
    if (!this.#value) return;
    const changed = Object.keys(fields).some((k) => this.#value[k] !== fields[k]);
    if (!changed) return;
    Object.assign(this.#value, fields);
    this.#save();
  }

  clear() {
    this.#value = null;
    storage.remove(this.#key);
  }

  #save() {
    storage.set(this.#key, this.#value);
  }
}
