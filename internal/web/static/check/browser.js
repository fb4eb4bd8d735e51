// The browser check: what this browser is, whether it is on the supported list (issue 6: Chrome, Firefox, Opera
// and Edge Chromium in their last two versions, and Safari on iOS), and whether it has what a video call needs
// (RTCPeerConnection, getUserMedia, a secure context). The lobby (widget/video_lobby.js) runs it too.

// When a known release came out, and the browser's release cadence (four weeks for all four). From these the page
// estimates the current stable version, so "the last two versions" doesn't go stale with a hard-coded table.
const RELEASES = {
  chrome: { version: 120, date: Date.UTC(2023, 11, 5) },
  edge: { version: 120, date: Date.UTC(2023, 11, 7) },
  opera: { version: 106, date: Date.UTC(2023, 11, 19) },
  firefox: { version: 121, date: Date.UTC(2023, 11, 19) },
};
const CADENCE_MS = 28 * 24 * 3600 * 1000;
// The last two versions, plus slack: the cadence skips a release now and then (the year's end), and a new version
// reaches people over a few weeks.
const SUPPORTED_SPAN = 1 + 2;

/** The newest stable version of family expected at time now (an estimate, see RELEASES). */
export function expectedVersion(family, now = Date.now()) {
  const r = RELEASES[family];
  if (!r) return 0;
  return r.version + Math.max(0, Math.floor((now - r.date) / CADENCE_MS));
}

function major(ua, re) {
  const m = ua.match(re);
  return m ? Number(m[1]) : 0;
}

/**
 * What the browser is, from navigator.userAgentData when the browser has it (Chromium-based ones), else from the
 * user agent string: {family, name, version, platform}. family is chrome, edge, opera, firefox, ios (any iOS
 * browser: they all run Safari's engine), safari (desktop), ie, edge_legacy or other.
 */
export function identify(nav = navigator) {
  const ua = String(nav.userAgent || '');
  const data = nav.userAgentData;
  const platform = (data && data.platform) || (/Android/.test(ua) ? 'Android' : /iPhone|iPad|iPod/.test(ua) ? 'iOS'
    : /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '');
  if (/MSIE |Trident\//.test(ua)) return { family: 'ie', name: 'Internet Explorer', version: major(ua, /(?:MSIE |rv:)(\d+)/), platform };
  if (/Edge\/\d+/.test(ua)) return { family: 'edge_legacy', name: 'Edge (legacy)', version: major(ua, /Edge\/(\d+)/), platform };
  // An iPad asking for the desktop site says it is a Mac: its touch screen gives it away.
  const ios = /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && nav.maxTouchPoints > 1);
  if (ios) {
    const app = /CriOS/.test(ua) ? 'Chrome' : /FxiOS/.test(ua) ? 'Firefox' : /EdgiOS/.test(ua) ? 'Edge' : 'Safari';
    return { family: 'ios', name: `${app} on iOS`, version: major(ua, /OS (\d+)_/) || major(ua, /Version\/(\d+)/), platform: 'iOS' };
  }
  const brands = (data && Array.isArray(data.brands)) ? data.brands : [];
  const brand = (re) => brands.find((b) => re.test(b.brand));
  // Chromium's other browsers (Samsung Internet, Yandex...) name themselves next to "Chromium": not on the list.
  const otherBrand = brand(/Samsung|Yandex|YaBrowser|UCBrowser/);
  if (otherBrand) return { family: 'other', name: otherBrand.brand, version: Number(otherBrand.version) || 0, platform };
  const fromBrands = brand(/Microsoft Edge/) ? ['edge', 'Edge', brand(/Microsoft Edge/)]
    : brand(/^Opera/) ? ['opera', 'Opera', brand(/^Opera/)]
      : brand(/Google Chrome|^Chromium$|HeadlessChrome/) ? ['chrome', 'Chrome', brand(/Google Chrome|^Chromium$|HeadlessChrome/)] : null;
  if (fromBrands) {
    const [family, name, b] = fromBrands;
    return { family, name: b.brand === 'Chromium' ? 'Chromium' : name, version: Number(b.version) || 0, platform };
  }
  if (/Edg(?:A|iOS)?\/\d+/.test(ua)) return { family: 'edge', name: 'Edge', version: major(ua, /Edg(?:A|iOS)?\/(\d+)/), platform };
  if (/OPR\/\d+/.test(ua)) return { family: 'opera', name: 'Opera', version: major(ua, /OPR\/(\d+)/), platform };
  if (/Firefox\/\d+/.test(ua)) return { family: 'firefox', name: 'Firefox', version: major(ua, /Firefox\/(\d+)/), platform };
  if (/(?:Chrome|Chromium)\/\d+/.test(ua) && !/SamsungBrowser|YaBrowser|UCBrowser/.test(ua)) {
    return { family: 'chrome', name: /Chromium\//.test(ua) ? 'Chromium' : 'Chrome', version: major(ua, /(?:Chrome|Chromium)\/(\d+)/), platform };
  }
  if (/Safari\/\d+/.test(ua) && /Version\/\d+/.test(ua)) return { family: 'safari', name: 'Safari', version: major(ua, /Version\/(\d+)/), platform };
  const other = ua.match(/(SamsungBrowser|YaBrowser|UCBrowser)\/(\d+)/);
  const names = { SamsungBrowser: 'Samsung Internet', YaBrowser: 'Yandex Browser', UCBrowser: 'UC Browser' };
  if (other) return { family: 'other', name: names[other[1]], version: Number(other[2]), platform };
  return { family: 'other', name: 'Unknown browser', version: 0, platform };
}

/**
 * The browser check: {status: pass | warn | fail, reason, browser, features}. reason names the first problem:
 * insecure, no_webrtc, no_media, unsupported_browser (IE, old Edge: they can't make calls), not_listed (works,
 * but not on the supported list), outdated (older than the last two versions), or '' when all is well.
 */
export function checkBrowser({ nav = navigator, win = window, now = Date.now() } = {}) {
  const browser = identify(nav);
  const features = {
    secure: Boolean(win.isSecureContext),
    webrtc: typeof win.RTCPeerConnection === 'function',
    media: Boolean(nav.mediaDevices && typeof nav.mediaDevices.getUserMedia === 'function'),
  };
  let reason = '';
  if (browser.family === 'ie' || browser.family === 'edge_legacy') reason = 'unsupported_browser';
  else if (!features.webrtc) reason = 'no_webrtc';
  else if (!features.secure) reason = 'insecure';
  else if (!features.media) reason = 'no_media';
  else if (browser.family === 'other' || browser.family === 'safari') reason = 'not_listed';
  else if (RELEASES[browser.family] && browser.version < expectedVersion(browser.family, now) - SUPPORTED_SPAN) reason = 'outdated';
  const status = reason === '' ? 'pass' : reason === 'not_listed' || reason === 'outdated' ? 'warn' : 'fail';
  return { status, reason, browser, features };
}
