// The pre-call check page (served at /check; issue 6, "The pre-call check"). It runs every check at once and shows
// each as a row (data-testid="check-result", data-check, and data-status once done), a summary on top, the tier
// the bandwidth allows (check-tier) and a plain-text report to copy for support. The lobby links here, and so does
// the desk.

import { h } from '/static/shared/dom.js';
import { copyText } from '/static/shared/clipboard.js';
import { createTranslator, pickLanguage } from '/static/shared/i18n.js';
import { checkBrowser } from './browser.js';
import { devicesCheck } from './devices.js';
import { messages } from './i18n.js';
import { echoSession, fetchConfig, socketCheck, tierFor, turnCheck, turnServersOf } from './network.js';

const CHECKS = ['browser', 'websocket', 'udp', 'tcp', 'turn', 'bandwidth', 'camera', 'microphone'];
// The bandwidth test: how long the busy picture is sent, and the most it may use (above the high tier's 500 kb/s).
const MEASURE_MS = 2800;
const MAX_KBPS = 800;
const SLOW_RTT_MS = 300;

const params = new URLSearchParams(location.search);
const lang = pickLanguage(params.get('lang'), ...(navigator.languages || []), navigator.language);
const t = createTranslator(messages, lang);
document.documentElement.lang = lang;
document.title = t('title');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
};
const localHost = ['localhost', '127.0.0.1', '[::1]'].includes(location.hostname);

class CheckPage {
  #rows = new Map();
  #results = new Map();
  #summary;
  #tier;
  #report;
  #copy;
  #again;
  #copied;
  #startedAt = 0;
  #totalMs = 0;
  #tierValue = '';
  #browser = null;

  constructor(root) {
    for (const name of CHECKS) {
      const status = h('span', { class: 'check-row__status' });
      const detail = h('p', { class: 'check-row__detail' });
      const row = h('li', { class: 'check-row', testid: 'check-result', dataset: { check: name } },
        h('span', { class: 'check-row__name', text: t(`check.${name}`) }), status, detail);
      this.#rows.set(name, { row, status, detail });
    }
    this.#summary = h('p', { class: 'check-summary', testid: 'check-summary', role: 'status' });
    this.#tier = h('p', { class: 'check-tier', testid: 'check-tier' });
    this.#copy = h('button', { type: 'button', class: 'button button--primary', testid: 'copy-report', onclick: () => this.#copyReport() }, t('copy'));
    this.#again = h('button', { type: 'button', class: 'button', testid: 'check-again', onclick: () => this.run() }, t('again'));
    this.#copied = h('p', { class: 'check-copied', role: 'status', hidden: true });
    this.#report = h('pre', { class: 'check-report', testid: 'check-report' });
    root.replaceChildren(h('main', { class: 'check' },
      h('h1', { text: t('title') }),
      h('p', { class: 'check-intro', text: t('intro') }),
      this.#summary, this.#tier,
      h('ul', { class: 'check-list' }, [...this.#rows.values()].map((r) => r.row)),
      h('div', { class: 'check-actions' }, this.#copy, this.#again),
      this.#copied,
      h('details', { class: 'check-details' }, h('summary', { text: t('report.show') }), this.#report)));
  }

  async run() {
    if (this.#startedAt && !this.#totalMs) return; // already running
    this.#startedAt = performance.now();
    this.#totalMs = 0;
    this.#results.clear();
    this.#tierValue = '';
    this.#copy.disabled = this.#again.disabled = true;
    this.#copied.hidden = true;
    for (const name of CHECKS) this.#set(name, null);
    this.#render();

    const browser = checkBrowser();
    this.#browser = browser;
    this.#done('browser', browser.status, this.#browserText(browser));

    const jobs = [
      this.#timed('websocket', () => socketCheck()).then((r) => this.#websocket(r)),
      this.#timed('camera', () => devicesCheck()).then((r) => this.#devices(r)),
    ];
    if (browser.features.webrtc) {
      jobs.push(fetchConfig().then((config) => this.#network(config)));
    } else {
      for (const name of ['udp', 'tcp', 'turn', 'bandwidth']) this.#done(name, 'fail', t('unavailable'));
      this.#tierValue = 'fail';
    }
    await Promise.all(jobs);
    this.#totalMs = Math.round(performance.now() - this.#startedAt);
    this.#copy.disabled = this.#again.disabled = false;
    this.#render();
  }

  async #timed(name, fn) {
    const start = performance.now();
    const result = await fn();
    result.ms = Math.round(performance.now() - start);
    return result;
  }

  #browserText({ reason, browser }) {
    const p = { name: browser.name, version: browser.version || '', platform: browser.platform || '?' };
    return t(reason ? `browser.${reason}` : 'browser.ok', p);
  }

  #websocket(r) {
    if (!r.ok && !r.rtts.length) return this.#done('websocket', 'fail', t('ws.failed'), r);
    const p = { median: median(r.rtts), min: Math.min(...r.rtts), max: Math.max(...r.rtts) };
    if (!r.secure && !localHost) return this.#done('websocket', 'warn', t('ws.insecure', p), r);
    if (!r.ok || p.median > SLOW_RTT_MS) return this.#done('websocket', 'warn', t('ws.slow', p), r);
    return this.#done('websocket', 'pass', t('ws.ok', p), r);
  }

  #devices(r) {
    const cam = r.camera;
    const mic = r.microphone;
    const text = (kind, d) => {
      if (d.ok) return t(d.label ? `${kind}.ok` : `${kind}.ok_nolabel`, d);
      return d.error === 'unavailable' ? t('unavailable') : t(`${kind}.${d.error || 'failed'}`);
    };
    // A visitor without a camera still takes the call with the microphone: never a failure.
    this.#done('camera', cam.ok ? 'pass' : 'warn', text('camera', cam), { ...cam, ms: r.ms });
    this.#done('microphone', mic.ok ? 'pass' : 'fail', text('microphone', mic), { ...mic, ms: r.ms });
  }

  async #network(config) {
    const notChecked = (name) => this.#done(name, 'warn', t('not_checked'), { checked: false });
    // TURN: the relayed addresses it gives (over UDP, over TLS), and a session with the echo leg through it.
    const turnServers = turnServersOf(config);
    const turn = Promise.all([
      this.#timed('turn', () => turnCheck(config)),
      turnServers.length ? echoSession({ transport: 'udp', iceServers: turnServers, connectTimeoutMs: 3500 }) : { checked: false },
    ]).then(([r, echo]) => {
      if (!r.checked) return notChecked('turn');
      const protocols = r.protocols.map((p) => p.toUpperCase()).join(', ');
      const data = { ...r, path: echo.path, connectMs: echo.connectMs };
      if (!r.protocols.length && !echo.connected) return this.#done('turn', 'fail', t('turn.failed'), data);
      if (echo.checked && !echo.connected) return this.#done('turn', 'warn', t('turn.no_media', { protocols }), data);
      const full = (!r.wantUDP || r.protocols.includes('udp')) && (!r.wantTLS || r.protocols.some((p) => p !== 'udp'));
      const text = echo.connected ? t('turn.connected', { protocols, ms: echo.connectMs }) : t('turn.ok', { protocols });
      return this.#done('turn', full ? 'pass' : 'warn', full ? text : `${text} ${t('turn.partial', { protocols })}`, data);
    });
    if (!config) {
      notChecked('udp');
      notChecked('tcp');
      notChecked('bandwidth');
      await turn;
      return;
    }
    const udpPort = config.media?.udp_port ?? config.udp_port ?? '?';
    const tcpPort = config.media?.tcp_port ?? config.tcp_port ?? '?';
    const path = (name, transport, port, r) => {
      if (!r.checked) return notChecked(name);
      if (!r.connected) return this.#done(name, 'fail', t(`${name}.failed`, { port }), r);
      return this.#done(name, 'pass', t(`${name}.ok`, { port, ms: r.connectMs }), r);
    };
    // UDP carries the bandwidth test: it is the path calls take whenever they can.
    const udp = echoSession({ transport: 'udp', measureMs: MEASURE_MS, maxKbps: MAX_KBPS });
    const tcpOff = typeof tcpPort === 'number' && tcpPort <= 0; // 0: ICE-TCP is off (docs/api.md)
    const tcp = tcpOff ? Promise.resolve({ checked: false }) : echoSession({ transport: 'tcp' });
    const [u, c] = await Promise.all([udp, tcp, turn]);
    path('udp', 'udp', udpPort, u);
    path('tcp', 'tcp', tcpPort, c);
    if (!u.checked) {
      notChecked('bandwidth');
    } else if (!u.connected || u.kbps === null) {
      this.#tierValue = c.connected ? '' : 'fail';
      this.#done('bandwidth', c.connected ? 'warn' : 'fail', t('bandwidth.failed'), u);
    } else {
      this.#tierValue = tierFor(u.kbps);
      const status = this.#tierValue === 'high' ? 'pass' : this.#tierValue === 'fail' ? 'fail' : 'warn';
      this.#done('bandwidth', status, `${t('bandwidth.ok', { kbps: u.kbps })} ${t('tier.label')} ${t(`tier.${this.#tierValue}`)}`, u);
    }
  }

  #done(name, status, text, data = {}) {
    this.#results.set(name, { status, text, data });
    this.#set(name, status, text);
    this.#render();
  }

  #set(name, status, text = '') {
    const { row, status: badge, detail } = this.#rows.get(name);
    if (status) row.dataset.status = status;
    else delete row.dataset.status;
    row.classList.toggle('check-row--running', !status);
    badge.textContent = t(status ? `status.${status}` : 'status.running');
    detail.textContent = text;
  }

  // The overall verdict: a call is impossible when the browser, the signalling or the microphone fails, when no
  // media path works at all, or when the bandwidth can't carry audio.
  #overall() {
    const st = (name) => this.#results.get(name)?.status;
    const blocking = ['browser', 'websocket', 'microphone', 'bandwidth'].some((n) => st(n) === 'fail')
      || ['udp', 'tcp', 'turn'].every((n) => st(n) === 'fail');
    if (blocking) return 'fail';
    return CHECKS.some((n) => st(n) !== 'pass') ? 'warn' : 'pass';
  }

  #render() {
    const done = this.#results.size === CHECKS.length && this.#totalMs > 0;
    const overall = done ? this.#overall() : '';
    this.#summary.textContent = done ? t(`summary.${overall}`) : t('running');
    this.#summary.className = `check-summary${overall ? ` check-summary--${overall}` : ''}`;
    if (overall) this.#summary.dataset.status = overall;
    else delete this.#summary.dataset.status;
    this.#tier.hidden = !done;
    if (this.#tierValue) this.#tier.dataset.tier = this.#tierValue;
    else delete this.#tier.dataset.tier;
    this.#tier.textContent = `${t('tier.label')} ${t(this.#tierValue ? `tier.${this.#tierValue}` : 'tier.unknown')}`;
    this.#report.textContent = done ? this.#reportText(overall) : '';
  }

  #reportText(overall) {
    const b = this.#browser;
    const lines = [
      `${t('report.title')}: ${new Date().toISOString()}`,
      `page: ${location.origin}${location.pathname}`,
      `browser: ${b.browser.name} ${b.browser.version || '?'} on ${b.browser.platform || '?'}`,
      `user agent: ${navigator.userAgent}`,
      `features: secure context ${b.features.secure}, WebRTC ${b.features.webrtc}, getUserMedia ${b.features.media}`,
      `summary: ${overall} (${t(`summary.${overall}`)})`,
      `tier: ${this.#tierValue || 'not measured'}`,
      `total time: ${this.#totalMs} ms`,
      '',
    ];
    for (const name of CHECKS) {
      const r = this.#results.get(name);
      const d = r.data || {};
      const facts = [];
      if (Number.isFinite(d.ms)) facts.push(`${d.ms} ms`);
      if (d.rtts && d.rtts.length) facts.push(`rtt ${d.rtts.join('/')} ms`);
      if (d.path) facts.push(`path ${d.path.protocol || '?'} ${d.path.candidateType || ''}${d.path.rtt !== null ? `, rtt ${d.path.rtt} ms` : ''}`);
      if (Number.isFinite(d.connectMs)) facts.push(`connected in ${d.connectMs} ms`);
      if (Number.isFinite(d.kbps)) facts.push(`received ${d.kbps} kb/s, sent ${d.sentKbps} kb/s`);
      if (d.protocols && d.protocols.length) facts.push(`relay over ${d.protocols.join(', ')}`);
      if (d.error) facts.push(`error ${d.error}`);
      lines.push(`[${r.status}] ${name}: ${r.text}${facts.length ? ` (${facts.join('; ')})` : ''}`);
    }
    return lines.join('\n');
  }

  async #copyReport() {
    const ok = await copyText(this.#report.textContent);
    this.#copied.hidden = false;
    this.#copied.textContent = t(ok ? 'copied' : 'copy_failed');
    if (!ok) this.#report.parentElement.open = true;
  }
}

new CheckPage(document.getElementById('app')).run();
