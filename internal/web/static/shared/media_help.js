// What to tell someone whose camera or microphone could not be started (shared/local_media.js, mediaErrorKind),
// with a "Try again" button. The words come from the app's catalog: media.denied (with media.denied_step1…3),
// media.no_device, media.busy, media.failed and media.retry.

import { h } from './dom.js';

/** A block explaining kind ('denied', 'no_device', 'busy', 'failed'), whose button calls onRetry. */
export function mediaHelp(t, kind, onRetry, { retryTestid = 'media-retry' } = {}) {
  const steps = kind === 'denied'
    ? h('ol', null, ['media.denied_step1', 'media.denied_step2', 'media.denied_step3'].map((key) => h('li', { text: t(key) })))
    : null;
  const known = ['denied', 'no_device', 'busy'].includes(kind) ? kind : 'failed';
  return h('div', { class: 'media-help', role: 'alert', testid: 'media-error', dataset: { error: known } },
    h('p', { text: t(`media.${known}`) }),
    steps,
    h('button', { type: 'button', class: 'button', testid: retryTestid, onclick: onRetry }, t('media.retry')));
}
