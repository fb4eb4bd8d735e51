// Files in a chat, shared by the widget and the desk: the paperclip button that picks them (and a picture pasted or
// dropped into the chat), and how a message that carries one is shown (docs/api.md, "Files in a chat").
//
// A file is read with the viewer's own credentials (the visitor's token, the agent's session) through readFile,
// which returns a Blob; it is shown from a blob: URL. Pictures (PNG, JPEG, GIF, WebP) are shown in the message;
// any other file is a link that downloads it. Nothing in a file is ever run or rendered as a page.

import { h, icon } from './dom.js';

/** The texts of this module, for the widget's and the desk's catalogs. */
export const fileMessages = {
  en: {
    'files.attach': 'Send a file',
    'files.sending': 'Sending {name}…',
    'files.download': 'Download {name}',
    'files.unavailable': 'This file can no longer be read',
    'files.too_large': '{name} is too large: files up to {max} can be sent',
    'files.off': 'Files cannot be sent here',
    'files.failed_file_too_large': 'the file is too large',
    'files.failed_rate_limited': 'too many files at once; try again in a moment',
    'files.failed_conversation_closed': 'the conversation has ended',
    'files.failed_files_disabled': 'files cannot be sent here',
    'files.failed_network': 'no connection',
  },
  fr: {
    'files.attach': 'Envoyer un fichier',
    'files.sending': 'Envoi de {name}…',
    'files.download': 'Télécharger {name}',
    'files.unavailable': 'Ce fichier ne peut plus être lu',
    'files.too_large': '{name} est trop volumineux : les fichiers jusqu’à {max} peuvent être envoyés',
    'files.off': 'Impossible d’envoyer des fichiers ici',
    'files.failed_file_too_large': 'le fichier est trop volumineux',
    'files.failed_rate_limited': 'trop de fichiers à la fois ; réessayez dans un instant',
    'files.failed_conversation_closed': 'la conversation est terminée',
    'files.failed_files_disabled': 'impossible d’envoyer des fichiers ici',
    'files.failed_network': 'pas de connexion',
  },
};

const PICTURES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** Whether a message event carries a file (data.attachment). */
export function attachmentOf(ev) {
  const a = ev && ev.data && ev.data.attachment;
  return a && typeof a.id === 'string' && a.id ? a : null;
}

/** A size in bytes as people read it: "830 B", "14 KB", "2.4 MB". */
export function formatSize(bytes, lang) {
  const n = Number(bytes) || 0;
  const fmt = (v, digits) => v.toLocaleString(lang, { maximumFractionDigits: digits });
  if (n < 1000) return `${n} B`;
  if (n < 1000 * 1000) return `${fmt(n / 1000, 0)} KB`;
  return `${fmt(n / 1000 / 1000, 1)} MB`;
}

/**
 * The element a message shows for its file a: the picture (once read) or the file's name and size, each a link
 * that downloads it. readFile(id) returns a Promise of the file's Blob.
 */
export function renderAttachment({ t, lang, attachment: a, readFile }) {
  const picture = PICTURES.has(a.type);
  const link = h('a', {
    class: 'attachment__link',
    testid: 'attachment-download',
    href: '#',
    download: a.name,
    title: t('files.download', { name: a.name }),
  });
  const el = h('div', { class: 'attachment', testid: 'attachment', dataset: { kind: picture ? 'image' : 'file', name: a.name } }, link);
  let url = null;
  const load = () => {
    if (!url) {
      url = readFile(a.id).then((blob) => URL.createObjectURL(blob));
      url.catch(() => {
        url = null;
        el.dataset.state = 'failed';
        link.title = t('files.unavailable');
      });
    }
    return url;
  };
  const label = h('span', { class: 'attachment__label' },
    h('span', { class: 'attachment__name', text: a.name }),
    h('span', { class: 'attachment__size', text: formatSize(a.size, lang) }));
  if (picture) {
    const img = h('img', { class: 'attachment__image', testid: 'attachment-image', alt: a.name });
    link.append(img, label);
    load().then((src) => {
      img.src = src;
      link.href = src;
    }, () => {});
  } else {
    link.append(icon('file', 28), label);
  }
  // A file is read when it is first opened; the link then downloads it from its blob: URL.
  link.addEventListener('click', (e) => {
    if (link.getAttribute('href') !== '#') return;
    e.preventDefault();
    load().then((src) => {
      link.href = src;
      link.click();
    }, () => {});
  });
  return el;
}

/**
 * The paperclip button and its hidden file input. onFiles(files) gets the files chosen. maxBytes: 0 hides the
 * button (the server takes no files).
 */
export function attachButton({ t, onFiles, maxBytes = 0 }) {
  const input = h('input', {
    type: 'file',
    class: 'attach__input',
    testid: 'attach-input',
    multiple: true,
    hidden: true,
    tabindex: '-1',
    onchange: () => {
      const files = [...input.files];
      input.value = '';
      if (files.length) onFiles(files);
    },
  });
  const button = h('button', {
    type: 'button',
    class: 'composer__attach',
    testid: 'attach-file',
    'aria-label': t('files.attach'),
    title: t('files.attach'),
    hidden: !maxBytes,
    onclick: () => input.click(),
  }, icon('attach', 22));
  return {
    elements: [input, button],
    button,
    /** Shows or hides the button: the widget learns the server's limit after it is built. */
    setMax(bytes) {
      maxBytes = Number(bytes) || 0;
      button.hidden = !maxBytes;
    },
    get maxBytes() {
      return maxBytes;
    },
    set disabled(v) {
      button.disabled = v;
    },
  };
}

/** Files pasted (a screenshot) or dropped onto target are given to onFiles, when accept() says files are taken. */
export function acceptFiles(target, { onFiles, accept }) {
  target.addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files || [])];
    if (!files.length || !accept()) return;
    e.preventDefault();
    onFiles(files);
  });
  target.addEventListener('dragover', (e) => {
    if (accept() && [...(e.dataTransfer?.types || [])].includes('Files')) e.preventDefault();
  });
  target.addEventListener('drop', (e) => {
    const files = [...(e.dataTransfer?.files || [])];
    if (!files.length || !accept()) return;
    e.preventDefault();
    onFiles(files);
  });
}

/** Why a file was not sent, in plain words, from the API's error code. */
export function fileErrorText(t, code) {
  const key = `files.failed_${code}`;
  const text = t(key);
  return text === key ? t('error.default') : text;
}
