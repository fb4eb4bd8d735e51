// Texts the desk takes from shared modules (transcript, call events, media help, realtime errors). The desk itself
// is in English.

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
    'transcript.call_started': '{name} answered the video call',
    'transcript.call_ended': 'Video call ended',
    'transcript.call_by_visitor': 'hung up by the visitor',
    'transcript.call_by_agent': 'hung up by the agent',
    'transcript.call_by_system': 'ended by the server',
    'transcript.call_reason_conversation_ended': 'the conversation was ended',
    'transcript.call_reason_failed': 'the connection failed',
    'transcript.call_reason_abandoned': 'the visitor left before an answer',
    'transcript.call_reason_expired': 'nobody answered in time',
    'transcript.call_reason_refused': 'no agent could take it',
    'media.denied': 'The browser blocked the camera and microphone for the desk. To allow them:',
    'media.denied_step1': 'Click the camera or padlock icon in the address bar.',
    'media.denied_step2': 'Allow the camera and the microphone for this site.',
    'media.denied_step3': 'Press “Try again”.',
    'media.no_device': 'No microphone was found. Plug one in, then try again.',
    'media.busy': 'The camera or microphone is used by another application. Close it, then try again.',
    'media.failed': 'The camera and microphone could not be started.',
    'media.retry': 'Try again',
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
