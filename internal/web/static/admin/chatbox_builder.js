// The admin's chatbox builder: how a site's chatbox behaves for its visitors. Its video tab holds the camera policy
// (docs/api.md, SITE's video.camera): whether the visitor's camera may be used at all, and whether calls start
// with it off.

import { h } from '/static/shared/dom.js';
import { patch } from '/static/shared/api.js';
import { checkbox, formMessage, showSubmitError } from '/static/shared/forms.js';
import { siteBuilder } from './site_picker.js';

export class ChatboxBuilderPanel {
  #picker;
  #message;
  #body;
  #frame;

  constructor() {
    this.#frame = siteBuilder({ id: 'chatbox-title', title: 'Chatbox builder',
      intro: 'How the chatbox of a site behaves for its visitors.', show: (site) => this.#show(site) });
    ({ picker: this.#picker, message: this.#message, body: this.#body, element: this.element } = this.#frame);
  }

  load() {
    return this.#frame.load();
  }

  #show(site) {
    this.#message.clear();
    if (!site) {
      this.#body.replaceChildren(this.#frame.noSite());
      return;
    }
    // One tab for now: the chatbox's other settings will get their own.
    const tabs = h('div', { class: 'subtabs', role: 'tablist', 'aria-label': 'Chatbox settings' },
      h('button', { type: 'button', role: 'tab', class: 'subtabs__tab', id: 'chatbox-tab-video', 'aria-selected': 'true',
        'aria-controls': 'chatbox-video' }, 'Video'));
    this.#body.replaceChildren(tabs, this.#videoForm(site));
  }

  #videoForm(site) {
    const camera = site.video.camera;
    const allowed = checkbox({
      label: 'Allow visitor\'s camera for video conversations',
      name: 'allowed',
      checked: camera.allowed,
      testid: 'admin-allow-visitor-camera',
      hint: 'Off: the visitor\'s camera is never asked for. Visitors talk with their microphone and see the agent; the agent sees a placeholder instead of their video.',
    });
    const offByDefault = checkbox({
      label: 'Disable visitor camera by default',
      name: 'off_by_default',
      checked: camera.off_by_default,
      testid: 'admin-camera-off-by-default',
      hint: 'Visitors start their calls with the camera off, and may turn it on during the call.',
    });
    const summary = h('p', { class: 'builder__summary', role: 'status' });
    const update = () => {
      const allow = allowed.input.checked;
      offByDefault.input.disabled = !allow;
      summary.textContent = !allow
        ? 'Visitors are asked only for their microphone. They hear and see the agent, and the agent hears them. The video notification tells them that their camera is not needed.'
        : offByDefault.input.checked
          ? 'Visitors are asked only for their microphone when they join. Their camera stays off until they turn it on. The video notification tells them that their camera is not needed.'
          : 'Visitors are asked for their camera and microphone when they join, and the agent sees them from the start.';
    };
    allowed.input.addEventListener('change', update);
    offByDefault.input.addEventListener('change', update);
    update();

    const message = formMessage();
    const save = h('button', { type: 'submit', class: 'button button--primary', testid: 'admin-save' }, 'Save');
    const form = h('form', { class: 'card', id: 'chatbox-video', role: 'tabpanel', 'aria-labelledby': 'chatbox-tab-video', novalidate: true },
      h('h3', { text: `Video · ${site.name}` }),
      allowed.element,
      offByDefault.element,
      summary,
      h('p', { class: 'field__hint' }, 'The reassurance message is written in the ',
        h('a', { href: '#notification', text: 'notification builder', onclick: openTab('notification') }), '. Visitors get a change when they next load a page; calls under way keep their camera as it is.'),
      message.element,
      h('div', { class: 'form-actions' }, save));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      message.clear();
      save.disabled = true;
      try {
        const saved = await patch(`/api/admin/sites/${encodeURIComponent(site.id)}`, {
          video: { camera: { allowed: allowed.input.checked, off_by_default: offByDefault.input.checked } },
        });
        this.#picker.replace(saved);
        message.success(`The camera settings of ${saved.name} are saved.`);
      } catch (err) {
        showSubmitError({}, message, err);
      } finally {
        save.disabled = false;
      }
    });
    return form;
  }
}

/** A click handler that shows another tab of the admin app (admin/admin.js names its tab buttons tab-ID). */
export function openTab(id) {
  return (e) => {
    const tab = document.getElementById(`tab-${id}`);
    if (!tab) return;
    e.preventDefault();
    tab.click();
  };
}
