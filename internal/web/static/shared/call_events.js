// The words for a video call's conversation events (docs/protocol.md, "Conversation events for calls"), shown as
// system messages by shared/transcript.js in the widget and the desk.

/** The call-quality record of a call_ended event: its `data` (or, from a server that flattens it, the event). */
export function callRecord(ev) {
  return ev && ev.data && typeof ev.data === 'object' ? ev.data : ev || {};
}

/** "45 s", "3 min 12 s", "1 h 5 min" (the same abbreviations in English and French). */
export function formatDuration(ms) {
  const s = Math.round(Number(ms) / 1000);
  if (!Number.isFinite(s) || s < 0) return '';
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const m = Math.round(s / 60);
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`;
}

/** "Ana answered the video call". */
export function callStartedText(t, ev) {
  return t('transcript.call_started', { name: ev.author_name || t('transcript.agent') });
}

/**
 * "Video call ended · 3 min 12 s · hung up by the visitor". The catalog says who hung up from the viewer's side
 * (transcript.call_by_visitor, _agent, _system) and why a call ended otherwise (transcript.call_reason_REASON).
 */
export function callEndedText(t, ev) {
  const rec = callRecord(ev);
  const parts = [t('transcript.call_ended')];
  if (Number(rec.duration_ms) > 0) parts.push(formatDuration(rec.duration_ms));
  const key = rec.reason && rec.reason !== 'hangup' ? `transcript.call_reason_${rec.reason}` : `transcript.call_by_${rec.ended_by}`;
  const why = t(key);
  if (why !== key) parts.push(why);
  return parts.join(' · ');
}
