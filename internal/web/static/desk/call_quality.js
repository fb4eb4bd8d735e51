// The call-quality card under a "Video call ended" message in the desk's transcript: for each leg (what the visitor
// and the agent sent to the relay), the average bitrate, packet loss and round-trip time of the call
// (docs/protocol.md, the call_ended event's LEG). Text only.

import { h } from '/static/shared/dom.js';
import { callRecord } from '/static/shared/call_events.js';

const LEGS = [['visitor', 'Visitor'], ['agent', 'Agent']];

/** The card for a call_ended event (null for any other event, or when the record has no legs). */
export function callQualityCard(ev) {
  if (!ev || ev.type !== 'call_ended') return null;
  const legs = callRecord(ev).legs;
  if (!legs || typeof legs !== 'object') return null;
  const rows = LEGS.filter(([key]) => legs[key] && typeof legs[key] === 'object').map(([key, label]) => {
    const leg = legs[key];
    return h('tr', { dataset: { leg: key, quality: verdict(leg) } },
      h('th', { scope: 'row', text: label }),
      cell('bitrate', number(leg.bitrate_kbps, 0, ' kb/s')),
      cell('loss', number(leg.loss_pct, 1, ' %')),
      cell('rtt', number(leg.rtt_ms, 0, ' ms')),
      cell('jitter', number(leg.jitter_ms, 0, ' ms')));
  });
  if (!rows.length) return null;
  return h('div', { class: 'call-quality', testid: 'call-quality' }, h('table', { class: 'call-quality__table' },
    h('caption', { text: 'Call quality (averages)' }),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: 'Sent by' }),
      h('th', { scope: 'col', text: 'Bitrate' }),
      h('th', { scope: 'col', text: 'Loss' }),
      h('th', { scope: 'col', text: 'RTT' }),
      h('th', { scope: 'col', text: 'Jitter' }))),
    h('tbody', null, rows)));
}

function cell(metric, text) {
  return h('td', { dataset: { metric }, text });
}

function number(value, digits, unit) {
  const n = Number(value);
  if (value === null || value === undefined || !Number.isFinite(n)) return '—';
  return `${n.toFixed(digits)}${unit}`;
}

// A rough verdict for the row's color: what a person would notice in a call.
function verdict(leg) {
  const loss = Number(leg.loss_pct) || 0;
  const rtt = Number(leg.rtt_ms) || 0;
  if (loss > 5 || rtt > 400) return 'poor';
  if (loss > 2 || rtt > 200) return 'fair';
  return 'good';
}
