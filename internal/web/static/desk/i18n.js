// Texts the desk takes from shared modules (transcript, realtime errors). The desk itself is in English.

import { createTranslator } from '/static/shared/i18n.js';

const messages = {
  en: {
    'transcript.label': 'Messages',
    'transcript.agent': 'Agent',
    'transcript.bot': 'Bot',
    'transcript.visitor': 'Visitor',
    'transcript.joined': '{name} joined the conversation',
    'transcript.ended': 'The conversation has ended',
    'transcript.sending': 'Sending…',
    'transcript.failed': 'Not sent: {reason}',
    'transcript.retry': 'Retry',
    'error.100': 'The server could not read this request.',
    'error.102': 'The message is too long.',
    'error.103': 'The message is empty.',
    'error.104': 'The message is too long (4,000 characters at most).',
    'error.105': 'This conversation does not exist or is not yours.',
    'error.106': 'This conversation is closed.',
    'error.109': 'Too many messages at once. Wait a moment, then retry.',
    'error.110': 'You are not allowed to do this.',
    'error.111': 'Someone else already has it, or it has ended.',
    'error.112': 'You\'re at capacity.',
    'error.500': 'The server failed. Nothing was saved; retry.',
    'error.disconnected': 'The connection was lost.',
    'error.stopped': 'The desk was closed.',
    'error.default': 'Something went wrong.',
  },
};

export const t = createTranslator(messages, 'en');
