// The quick part of the pre-call check, which the widget's lobby runs by itself before the visitor joins
// (widget/video_lobby.js): the browser against the supported list, and whether the relay answers over UDP (one short
// echo session, only when the server offers the check API). The lobby already handles the secure context, WebRTC
// and the devices. It warns, it never blocks: a call without UDP still goes over TCP or TURN.

import { checkBrowser } from './browser.js';
import { echoSession, fetchConfig } from './network.js';

let once = null;

/**
 * Resolves to the problems found, as {key, params} for the widget's catalog: 'check.browser_not_listed',
 * 'check.browser_outdated' or 'check.udp_blocked'. Runs once per page; later calls get the same answer.
 */
export function quickCheck() {
  once ??= run();
  return once;
}

async function run() {
  const problems = [];
  const browser = checkBrowser();
  if (browser.reason === 'not_listed' || browser.reason === 'outdated') {
    problems.push({ key: `check.browser_${browser.reason}`, params: { name: browser.browser.name } });
  }
  if (browser.status !== 'fail' && (await fetchConfig())) {
    const udp = await echoSession({ transport: 'udp', connectTimeoutMs: 2000 });
    if (udp.checked && !udp.connected) problems.push({ key: 'check.udp_blocked', params: {} });
  }
  return problems;
}
