// The admin's notification builder: how a site's video notification looks and what it says (docs/api.md, SITE's
// video.notification), in English and French, and the reassurance message shown with it when the camera policy
// restricts the visitor's camera (video.camera.reassurance). A live preview draws the widget's own notification
// (widget/video_notification.js, with the widget's styles in an iframe), so it looks exactly as visitors will see it.
// Every text is shown with textContent: nothing typed here is ever read as HTML.

import { h } from '/static/shared/dom.js';
import { patch } from '/static/shared/api.js';
import { createTranslator } from '/static/shared/i18n.js';
import { checkbox, field, formMessage } from '/static/shared/forms.js';
import { messages } from '/static/widget/i18n.js';
import { VideoNotification, siteNotification } from '/static/widget/video_notification.js';
import { openTab } from './chatbox_builder.js';
import { siteBuilder } from './site_picker.js';

const LANGUAGES = [['en', 'English'], ['fr', 'French']];
const FORMATS = [
  ['button', 'Compact button', 'The button alone: it takes little room above the chat.'],
  ['card', 'Card', 'A title, a text and the button.'],
];
// The texts of a language, with the widget's catalog key that gives the built-in text.
const TEXTS = [
  { name: 'title', label: 'Title', kind: 'input', builtIn: 'video.title', what: 'title' },
  { name: 'text', label: 'Text', kind: 'textarea', builtIn: 'video.text', what: 'text' },
  { name: 'button', label: 'Button label', kind: 'input', builtIn: 'video.join', what: 'button label' },
];
const DEFAULT_LIMITS = { title: 80, text: 300, button: 40, reassurance: 300 };

export class NotificationBuilderPanel {
  #picker;
  #message;
  #body;
  #frame;

  constructor() {
    this.#frame = siteBuilder({ id: 'notification-title', title: 'Notification builder', intro: 
      'The invitation to join the video conversation, shown in the chatbox when an agent can take a call.',
      show: (site) => this.#show(site) });
    ({ picker: this.#picker, message: this.#message, body: this.#body, element: this.element } = this.#frame);
  }

  load() {
    return this.#frame.load();
  }

  #show(site) {
    this.#message.clear();
    this.#body.replaceChildren(site ? this.#form(site) : this.#frame.noSite());
  }

  #form(site) {
    const video = site.video;
    const limits = { ...DEFAULT_LIMITS, ...video.limits };
    const builtIn = Object.fromEntries(LANGUAGES.map(([lang]) => [lang, createTranslator(messages, lang)]));
    const fields = {}; // by the API's field name: video.notification.texts.fr.title, video.camera.reassurance.en
    const checks = []; // [key, field, max, what]

    const textField = (key, { label, kind, max, what, value, placeholder, testid }) => {
      const f = field({ label, name: key, kind, value, placeholder, testid, rows: kind === 'textarea' ? '3' : null, spellcheck: 'true' });
      const count = h('span', { class: 'char-count', 'aria-hidden': 'true' });
      const counted = () => {
        const n = [...f.input.value.trim()].length;
        count.textContent = `${n}/${max}`;
        count.classList.toggle('char-count--over', n > max);
      };
      f.input.addEventListener('input', counted);
      counted();
      f.input.after(count);
      fields[key] = f;
      checks.push([key, f, max, what]);
      return f;
    };

    // The format.
    const formatInputs = FORMATS.map(([value]) => h('input', { type: 'radio', name: 'format', value, checked: value === video.notification.format,
      testid: `admin-notification-format-${value}` }));
    const formatError = h('p', { class: 'field__error', hidden: true });
    const format = h('fieldset', { class: 'field field--checks', testid: 'admin-notification-format' },
      h('legend', { text: 'Format' }),
      h('div', { class: 'checks checks--stacked' }, FORMATS.map(([, label, hint], i) =>
        h('label', { class: 'check' }, formatInputs[i], h('span', null, h('strong', { text: label }), ' ', h('span', { class: 'muted', text: hint }))))),
      formatError);
    fields['video.notification.format'] = {
      setError(text) {
        formatError.textContent = text || '';
        formatError.hidden = !text;
      },
    };
    const chosenFormat = () => (formatInputs.find((input) => input.checked) || formatInputs[0]).value;

    // The texts, by language.
    const languages = LANGUAGES.map(([lang, name]) => {
      const saved = video.notification.texts[lang] || {};
      return h('fieldset', { class: 'card card--inset builder__language', lang },
        h('legend', { text: name }),
        TEXTS.map((x) => textField(`video.notification.texts.${lang}.${x.name}`, {
          label: x.label + (x.name === 'button' ? '' : ' (card only)'),
          kind: x.kind,
          max: limits[x.name],
          what: `${name} ${x.what}`,
          value: saved[x.name] || '',
          placeholder: builtIn[lang](x.builtIn),
          testid: `admin-notification-${x.name}-${lang}`,
        }).element));
    });

    // The reassurance message.
    const reassurance = h('fieldset', { class: 'card card--inset' },
      h('legend', { text: 'Reassurance message' }),
      h('p', { class: 'field__hint' }, 'Shown with the notification when the camera is not allowed or off by default (see the ',
        h('a', { href: '#chatbox', text: 'chatbox builder', onclick: openTab('chatbox') }), ').'),
      LANGUAGES.map(([lang, name]) => textField(`video.camera.reassurance.${lang}`, {
        label: name,
        kind: 'textarea',
        max: limits.reassurance,
        what: `${name} reassurance message`,
        value: video.camera.reassurance[lang] || '',
        placeholder: builtIn[lang]('video.reassurance'),
        testid: `admin-reassurance-${lang}`,
      }).element));

    const value = (key) => fields[key].input.value.trim();
    const draft = () => ({
      notification: {
        format: chosenFormat(),
        texts: Object.fromEntries(LANGUAGES.map(([lang]) => [lang,
          Object.fromEntries(TEXTS.map((x) => [x.name, value(`video.notification.texts.${lang}.${x.name}`)]))])),
      },
      reassurance: Object.fromEntries(LANGUAGES.map(([lang]) => [lang, value(`video.camera.reassurance.${lang}`)])),
    });

    // The live preview.
    const camera = video.camera;
    const preview = new Preview({
      restricted: camera.allowed === false || camera.off_by_default === true,
      draft,
    });

    const message = formMessage();
    const save = h('button', { type: 'submit', class: 'button button--primary', testid: 'admin-save' }, 'Save');
    const form = h('form', { class: 'card', novalidate: true, 'aria-label': `Video notification of ${site.name}` },
      h('h3', { text: `Video notification · ${site.name}` }),
      h('p', { class: 'field__hint', text: 'Leave a text empty to show the built-in one (in grey), which follows the visitor\'s language.' }),
      format,
      h('div', { class: 'builder__languages' }, languages),
      reassurance,
      message.element,
      h('div', { class: 'form-actions' }, save));
    form.addEventListener('input', () => preview.draw());
    form.addEventListener('change', () => preview.draw());

    const showErrors = (errors) => {
      for (const f of Object.values(fields)) f.setError('');
      const unmatched = [];
      for (const [key, text] of Object.entries(errors || {})) {
        if (fields[key]) fields[key].setError(text);
        else unmatched.push(text);
      }
      return unmatched;
    };

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      message.clear();
      const errors = {};
      for (const [key, f, max, what] of checks) {
        const n = [...f.input.value.trim()].length;
        if (n > max) errors[key] = `The ${what} is too long: at most ${max} characters, it has ${n}.`;
      }
      showErrors(errors);
      if (Object.keys(errors).length) {
        message.error(Object.values(errors).join(' '));
        return;
      }
      const d = draft();
      save.disabled = true;
      try {
        const saved = await patch(`/api/admin/sites/${encodeURIComponent(site.id)}`, {
          video: { notification: d.notification, camera: { reassurance: d.reassurance } },
        });
        this.#picker.replace(saved);
        // The texts as saved (trimmed).
        for (const [lang] of LANGUAGES) {
          for (const x of TEXTS) fields[`video.notification.texts.${lang}.${x.name}`].input.value = saved.video.notification.texts[lang][x.name] || '';
          fields[`video.camera.reassurance.${lang}`].input.value = saved.video.camera.reassurance[lang] || '';
        }
        preview.draw();
        message.success(`The video notification of ${saved.name} is saved. Visitors see it when they next load a page.`);
      } catch (err) {
        const unmatched = showErrors(err.fields);
        message.error(Object.keys(err.fields || {}).length
          ? ['Some texts can\'t be saved. Check the fields marked in red.', ...unmatched].join(' ')
          : err.message);
      } finally {
        save.disabled = false;
      }
    });

    return h('div', { class: 'builder__layout' }, form, preview.element);
  }
}

// Preview: the widget's notification as the draft makes it, in an iframe with the widget's styles, in the
// language chosen above it.
class Preview {
  #frame;
  #lang = 'en';
  #restricted;
  #draft;
  #note = null;
  #noteLang = '';

  constructor({ restricted, draft }) {
    this.#draft = draft;
    const languages = LANGUAGES.map(([lang, name]) => h('label', { class: 'check' },
      h('input', { type: 'radio', name: 'preview-language', value: lang, checked: lang === this.#lang,
        onchange: () => {
          this.#lang = lang;
          this.draw();
        } }),
      h('span', { text: name })));
    const restrictedBox = checkbox({ label: 'Camera restricted: show the reassurance message', name: 'preview-restricted',
      checked: restricted, testid: 'admin-preview-restricted' });
    this.#restricted = restrictedBox.input;
    this.#restricted.addEventListener('change', () => this.draw());
    this.#frame = h('iframe', { class: 'preview__frame', src: '/static/admin/notification_preview.html', title: 'Preview of the video notification',
      testid: 'admin-notification-preview' });
    this.#frame.addEventListener('load', () => {
      this.#note = null; // a new document
      this.draw();
    });
    this.element = h('aside', { class: 'card preview', 'aria-label': 'Preview' },
      h('h3', { text: 'Preview' }),
      h('fieldset', { class: 'field field--checks' }, h('legend', { text: 'Language' }), h('div', { class: 'checks' }, languages)),
      restrictedBox.element,
      h('div', { class: 'preview__chatbox' }, this.#frame),
      h('p', { class: 'field__hint', text: 'The notification shows in the chatbox, above the message input, when an agent can take a video call.' }));
  }

  draw() {
    const doc = this.#frame.contentDocument;
    const app = doc && doc.getElementById('app');
    if (!app) return; // not loaded yet: the load event draws it
    const lang = this.#lang;
    const t = createTranslator(messages, lang);
    if (!this.#note || this.#noteLang !== lang) {
      this.#note = new VideoNotification({ t, onJoin: () => {}, onHide: () => {} });
      this.#noteLang = lang;
      doc.documentElement.lang = lang;
      const composer = h('div', { class: 'preview-composer', 'aria-hidden': 'true' },
        h('span', { class: 'preview-composer__input', text: t('chat.placeholder') }));
      app.replaceChildren(this.#note.element, composer);
    }
    const d = this.#draft();
    const camera = { allowed: !this.#restricted.checked, off_by_default: false, reassurance: d.reassurance };
    this.#note.render({ show: 'offer', ...siteNotification(t, d.notification, camera, lang) });
    this.#frame.style.height = `${Math.ceil(app.getBoundingClientRect().height)}px`;
  }
}
