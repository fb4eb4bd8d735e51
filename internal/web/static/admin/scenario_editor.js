// ScenarioEditor: the steps of a scenario bot (internal/bot.Scenario), edited as a form. Each step is a message or a
// transfer to a person. A message either waits for the visitor's choice among its quick replies (each leading to a
// step) or goes on to a next step by itself. Texts are written in English and French; the bot speaks the visitor's
// language and falls back to English.
//
// The server validates the scenario and has the last word; the editor only keeps the shape right (branches pick
// existing steps, renaming a step renames the branches to it). Everything typed stays text.

import { h } from '/static/shared/dom.js';

const LANGS = [['en', 'English'], ['fr', 'French']];
const KINDS = [['message', 'Message'], ['transfer', 'Transfer to a person']];
const MAX_TEXT = 1000;
const MAX_LABEL = 80;
const MAX_QUICK_REPLIES = 10;

/** A scenario to start from: a greeting with one choice, and a transfer. */
export function starterScenario() {
  return {
    start: 'welcome',
    steps: [
      {
        id: 'welcome',
        kind: 'message',
        text: { en: 'Hello! How can we help you today?', fr: 'Bonjour ! Comment pouvons-nous vous aider ?' },
        quick_replies: [{ id: 'agent', label: { en: 'Talk to a person', fr: 'Parler à un conseiller' }, next: 'handover' }],
      },
      { id: 'handover', kind: 'transfer', text: { en: 'An agent will answer you in a moment.', fr: 'Un conseiller vous répond dans un instant.' } },
    ],
  };
}

/** Folds a text as the server does for the video phrases: lower case, no accents, single spaces. */
export function fold(text) {
  return String(text || '').normalize('NFD').replace(/\p{Mn}/gu, '').replace(/[\u2018\u2019\u02bc]/g, '\'')
    .toLowerCase().replace(/\s+/g, ' ').trim();
}

export class ScenarioEditor {
  #sc;
  #phrases;
  #steps;
  #start;
  #error;

  /** scenario: the bot's scenario (copied). videoPhrases: the configured phrases, for the live video hint. */
  constructor(scenario, { videoPhrases = [] } = {}) {
    this.#sc = normalize(scenario || starterScenario());
    this.#phrases = videoPhrases.map(fold).filter(Boolean);
    this.#start = h('select', { id: `scenario-start-${Math.random().toString(36).slice(2)}`, testid: 'admin-bot-start' });
    this.#start.addEventListener('change', () => (this.#sc.start = this.#start.value));
    this.#steps = h('div', { class: 'scenario__steps' });
    this.#error = h('p', { class: 'field__error scenario__error', role: 'alert', hidden: true, testid: 'admin-bot-scenario-error' });
    const fallback = LANGS.map(([lang, name]) => h('label', { class: 'scenario__text' },
      h('span', { text: `In ${name}` }),
      h('input', {
        type: 'text',
        maxlength: String(MAX_TEXT),
        value: this.#sc.fallback[lang] || '',
        placeholder: lang === 'fr' ? 'Merci de choisir l\'une des options ci-dessous.' : 'Please choose one of the options below.',
        oninput: (e) => (this.#sc.fallback[lang] = e.target.value),
      })));
    this.element = h('div', { class: 'scenario' },
      h('div', { class: 'field' }, h('label', { for: this.#start.id, text: 'First step' }), this.#start,
        h('p', { class: 'field__hint', text: 'The bot plays it as soon as the visitor opens the chat.' })),
      this.#steps,
      h('div', { class: 'form-actions form-actions--start' },
        h('button', { type: 'button', class: 'button', testid: 'admin-bot-add-step', onclick: () => this.#addStep() }, 'Add a step')),
      h('details', { class: 'scenario__fallback' },
        h('summary', { text: 'When the visitor writes instead of choosing' }),
        h('p', { class: 'field__hint', text: 'The bot says this and shows the choices again. Empty: a default text.' }),
        fallback),
      this.#error);
    this.#render();
  }

  /** The scenario as the API takes it: trimmed texts, no empty languages. */
  get value() {
    const texts = (t) => Object.fromEntries(Object.entries(t || {}).map(([k, v]) => [k, v.trim()]).filter(([, v]) => v));
    const sc = {
      start: this.#sc.start,
      steps: this.#sc.steps.map((st) => {
        const out = { id: st.id.trim(), kind: st.kind, text: texts(st.text) };
        if (st.kind === 'message') {
          if (st.next) out.next = st.next;
          else out.quick_replies = st.quick_replies.map((qr) => ({ id: qr.id, label: texts(qr.label), next: qr.next }));
        }
        return out;
      }),
    };
    const fallback = texts(this.#sc.fallback);
    if (Object.keys(fallback).length) sc.fallback = fallback;
    return sc;
  }

  /** Shows the server's problems with the scenario (one per line), or clears them. */
  setError(text) {
    this.#error.textContent = text || '';
    this.#error.hidden = !text;
  }

  #ids() {
    return this.#sc.steps.map((st) => st.id);
  }

  #stepOptions(selected, first) {
    const ids = this.#ids();
    const options = first ? [first] : [];
    for (const id of ids) options.push([id, id]);
    if (selected && !ids.includes(selected)) options.push([selected, `${selected} (missing)`]);
    return options.map(([value, text]) => h('option', { value, text, selected: value === selected }));
  }

  #render() {
    this.#start.replaceChildren(...this.#stepOptions(this.#sc.start, this.#ids().length ? null : ['', 'No step yet']));
    this.#start.value = this.#sc.start;
    this.#steps.replaceChildren(...this.#sc.steps.map((st, i) => this.#stepCard(st, i)));
  }

  #stepCard(st, index) {
    const id = h('input', {
      type: 'text',
      value: st.id,
      maxlength: '40',
      pattern: '[A-Za-z0-9_-]{1,40}',
      spellcheck: 'false',
      testid: 'admin-bot-step-id',
      'aria-label': `Step ${index + 1}: its name`,
    });
    id.addEventListener('change', () => this.#rename(st, id.value.trim()));
    const kind = h('select', { 'aria-label': `Step ${index + 1}: its kind`, testid: 'admin-bot-step-kind' },
      KINDS.map(([value, text]) => h('option', { value, text, selected: value === st.kind })));
    kind.addEventListener('change', () => {
      st.kind = kind.value;
      this.#render();
    });
    const videoHint = h('p', { class: 'field__hint scenario__video', testid: 'admin-bot-video-hint', hidden: true,
      text: 'This card contains a video phrase: when an agent takes the conversation, it moves to video by itself.' });
    const updateHint = () => (videoHint.hidden = !(st.kind === 'transfer' && this.#movesToVideo(st.text)));
    const texts = LANGS.map(([lang, name]) => h('label', { class: 'scenario__text' },
      h('span', { text: st.kind === 'transfer' ? `Transfer card in ${name}` : `Message in ${name}` }),
      h('textarea', {
        rows: '2',
        maxlength: String(MAX_TEXT),
        value: st.text[lang] || '',
        testid: `admin-bot-text-${lang}`,
        oninput: (e) => {
          st.text[lang] = e.target.value;
          updateHint();
        },
      })));
    updateHint();
    const card = h('fieldset', { class: 'scenario-step', testid: 'admin-bot-step', dataset: { step: st.id } },
      h('legend', { text: `Step ${index + 1}${st.id === this.#sc.start ? ' (first)' : ''}` }),
      h('div', { class: 'scenario-step__row' },
        h('label', { class: 'scenario__text' }, h('span', { text: 'Name' }), id),
        h('label', { class: 'scenario__text' }, h('span', { text: 'Kind' }), kind)),
      texts,
      videoHint);
    if (st.kind === 'message') card.append(...this.#messageParts(st, index));
    else card.append(h('p', { class: 'field__hint', text: 'The bot posts this card and hands the conversation to the agents.' }));
    card.append(h('div', { class: 'form-actions form-actions--start' },
      h('button', { type: 'button', class: 'button button--danger', onclick: () => this.#removeStep(st) }, 'Remove this step')));
    return card;
  }

  #messageParts(st, index) {
    const then = h('select', { 'aria-label': `Step ${index + 1}: what happens next`, testid: 'admin-bot-step-next' },
      this.#stepOptions(st.next, ['', 'Wait for the visitor to choose a quick reply']));
    then.addEventListener('change', () => {
      st.next = then.value;
      this.#render();
    });
    const parts = [h('label', { class: 'scenario__text' }, h('span', { text: 'Then' }), then)];
    if (st.next) return parts;
    const rows = st.quick_replies.map((qr, i) => {
      const next = h('select', { 'aria-label': `Quick reply ${i + 1} leads to`, testid: 'admin-bot-reply-next' },
        this.#stepOptions(qr.next, ['', 'Choose a step']));
      next.addEventListener('change', () => (qr.next = next.value));
      return h('div', { class: 'scenario-reply', testid: 'admin-bot-reply' },
        LANGS.map(([lang, name]) => h('input', {
          type: 'text',
          maxlength: String(MAX_LABEL),
          value: qr.label[lang] || '',
          placeholder: `Button in ${name}`,
          'aria-label': `Quick reply ${i + 1} in ${name}`,
          testid: `admin-bot-reply-${lang}`,
          oninput: (e) => (qr.label[lang] = e.target.value),
        })),
        h('span', { class: 'scenario-reply__arrow', text: 'leads to' }),
        next,
        h('button', {
          type: 'button',
          class: 'button',
          'aria-label': `Remove quick reply ${i + 1}`,
          onclick: () => {
            st.quick_replies.splice(i, 1);
            this.#render();
          },
        }, 'Remove'));
    });
    parts.push(h('div', { class: 'scenario-replies' },
      h('p', { class: 'scenario-replies__title', text: 'Quick replies' }),
      rows.length ? rows : h('p', { class: 'field__hint', text: 'No quick reply yet: add one, or choose a next step.' }),
      st.quick_replies.length < MAX_QUICK_REPLIES
        ? h('button', { type: 'button', class: 'button', testid: 'admin-bot-add-reply', onclick: () => this.#addReply(st) }, 'Add a quick reply')
        : null));
    return parts;
  }

  #movesToVideo(text) {
    const texts = Object.values(text || {}).map(fold);
    return this.#phrases.some((p) => texts.some((t) => t.includes(p)));
  }

  #addStep() {
    const ids = new Set(this.#ids());
    let n = this.#sc.steps.length + 1;
    while (ids.has(`step-${n}`)) n++;
    this.#sc.steps.push({ id: `step-${n}`, kind: 'message', text: { en: '', fr: '' }, quick_replies: [], next: '' });
    if (!this.#sc.start) this.#sc.start = `step-${n}`;
    this.#render();
  }

  #removeStep(st) {
    this.#sc.steps = this.#sc.steps.filter((x) => x !== st);
    if (this.#sc.start === st.id) this.#sc.start = this.#sc.steps[0] ? this.#sc.steps[0].id : '';
    this.#render();
  }

  #addReply(st) {
    const ids = new Set(st.quick_replies.map((qr) => qr.id));
    let n = st.quick_replies.length + 1;
    while (ids.has(`choice-${n}`)) n++;
    st.quick_replies.push({ id: `choice-${n}`, label: { en: '', fr: '' }, next: '' });
    this.#render();
  }

  // Renames a step and every branch that leads to it.
  #rename(st, id) {
    const old = st.id;
    if (!id || id === old) return;
    st.id = id;
    if (this.#sc.start === old) this.#sc.start = id;
    for (const other of this.#sc.steps) {
      if (other.next === old) other.next = id;
      for (const qr of other.quick_replies) if (qr.next === old) qr.next = id;
    }
    this.#render();
  }
}

// A scenario with every optional part present, so the editor never meets a missing list or text.
function normalize(sc) {
  return {
    start: sc.start || '',
    fallback: { ...(sc.fallback || {}) },
    steps: (sc.steps || []).map((st) => ({
      id: st.id || '',
      kind: st.kind === 'transfer' ? 'transfer' : 'message',
      text: { ...(st.text || {}) },
      next: st.next || '',
      quick_replies: (st.quick_replies || []).map((qr) => ({ id: qr.id || '', label: { ...(qr.label || {}) }, next: qr.next || '' })),
    })),
  };
}
