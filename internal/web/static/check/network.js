// The network parts of the pre-call check: the signalling socket (/ws/check), ICE through TURN, and real sessions
// with the relay's echo leg (POST /api/check/echo, docs/api.md): one over UDP, one over ICE-TCP, and the bandwidth
// test, which sends a busy picture and reads what comes back. Each session is ended (DELETE) once the page is done
// with it. Every function resolves, never rejects: a failure is a result. A part the server doesn't offer is "not checked" (warn), never a pass.

const ECHO_PATH = '/api/check/echo';
const CONFIG_PATH = '/api/check/config';

// The tiers of DESIGN.md §2, applied to the bitrate that came back through the relay.
export const TIERS = [
  { tier: 'high', min: 400 },
  { tier: 'low', min: 128 },
  { tier: 'audio', min: 32 }, // below this even Opus (and its overhead) can't get through reliably
];

/** The tier a bitrate (kb/s, both ways through the relay) can carry: high, low, audio or fail. */
export function tierFor(kbps) {
  for (const { tier, min } of TIERS) if (kbps >= min) return tier;
  return 'fail';
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout(promise, ms, onTimeout) {
  let timer;
  return Promise.race([promise, new Promise((resolve) => { timer = setTimeout(() => resolve(onTimeout()), ms); })])
    .finally(() => clearTimeout(timer));
}

/**
 * The signalling socket: opens /ws/check (wss on an HTTPS page), sends `count` pings one after the other and times
 * the echoes. {ok, secure, rtts: [ms], error}.
 */
export function socketCheck({ count = 5, timeoutMs = 4000 } = {}) {
  const secure = location.protocol === 'https:';
  const url = `${secure ? 'wss' : 'ws'}://${location.host}/ws/check`;
  return new Promise((resolve) => {
    const rtts = [];
    let ws;
    let sentAt = 0;
    let done = false;
    const finish = (error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try { ws.close(1000); } catch { /* already closed */ }
      resolve({ ok: !error, secure, rtts, error: error || '' });
    };
    const timer = setTimeout(() => finish(rtts.length ? 'slow' : 'timeout'), timeoutMs);
    const ping = () => {
      sentAt = performance.now();
      ws.send(JSON.stringify({ type: 'ping', n: rtts.length }));
    };
    try {
      ws = new WebSocket(url);
    } catch {
      finish('blocked');
      return;
    }
    ws.onopen = ping;
    ws.onmessage = () => {
      rtts.push(Math.round((performance.now() - sentAt) * 10) / 10);
      if (rtts.length >= count) finish('');
      else ping();
    };
    ws.onerror = () => finish(rtts.length ? 'closed' : 'blocked');
    ws.onclose = () => finish(rtts.length >= count ? '' : 'closed');
  });
}

/** GET /api/check/config: the relay's ports and the ICE servers (TURN with short-lived credentials), or null. */
export async function fetchConfig() {
  try {
    const res = await fetch(CONFIG_PATH, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!res.ok) return null;
    return await res.json();
  } catch {
    return null;
  }
}

/** The TURN servers of a check config (RTCIceServer objects), whichever way the server names the list. */
export function turnServersOf(config) {
  if (!config) return [];
  const list = config.ice_servers || config.iceServers || (config.turn && (config.turn.ice_servers || config.turn.servers)) || [];
  return list.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }))
    .filter((s) => [].concat(s.urls || []).some((u) => /^turns?:/.test(u)));
}

/**
 * TURN: gathers relay candidates only (iceTransportPolicy "relay") against the config's TURN servers.
 * {checked, protocols: ['udp', 'tls', ...], urls, error}.
 */
export async function turnCheck(config, { timeoutMs = 3500 } = {}) {
  const servers = turnServersOf(config);
  const urls = servers.flatMap((s) => [].concat(s.urls));
  if (!servers.length) return { checked: false, protocols: [], urls, error: 'not_configured' };
  let pc;
  try {
    pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: 'relay' });
  } catch {
    return { checked: true, protocols: [], urls, error: 'bad_config' };
  }
  const protocols = new Set();
  const wantTLS = urls.some((u) => /^turns:|transport=tcp/.test(u));
  const wantUDP = urls.some((u) => /^turn:/.test(u) && !/transport=tcp/.test(u));
  const gathered = new Promise((resolve) => {
    pc.onicecandidate = (e) => {
      if (!e.candidate) return resolve();
      const c = e.candidate;
      if (c.type !== 'relay' && !/ typ relay/.test(c.candidate)) return;
      protocols.add(c.relayProtocol || (/^turns:/.test(c.url || '') ? 'tls' : 'udp'));
      if ((!wantUDP || protocols.has('udp')) && (!wantTLS || protocols.has('tls') || protocols.has('tcp'))) resolve();
    };
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
  });
  try {
    pc.createDataChannel('check');
    await pc.setLocalDescription(await pc.createOffer());
    await withTimeout(gathered, timeoutMs, () => null);
  } catch {
    /* reported below as no relay candidate */
  }
  pc.close();
  return { checked: true, protocols: [...protocols], urls, wantUDP, wantTLS, error: protocols.size ? '' : 'no_relay' };
}

// A busy picture: coarse random noise, redrawn every frame, so the encoder needs every bit it is allowed. Drawn
// small and scaled up, it costs little CPU.
function noiseTrack({ width = 640, height = 360, fps = 30 } = {}) {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  const small = document.createElement('canvas');
  small.width = 160;
  small.height = 90;
  const sctx = small.getContext('2d');
  const img = sctx.createImageData(small.width, small.height);
  ctx.imageSmoothingEnabled = false;
  const draw = () => {
    const d = img.data;
    for (let i = 0; i < d.length; i += 4) {
      d[i] = Math.random() * 256;
      d[i + 1] = Math.random() * 256;
      d[i + 2] = Math.random() * 256;
      d[i + 3] = 255;
    }
    sctx.putImageData(img, 0, 0);
    ctx.drawImage(small, 0, 0, width, height);
  };
  draw();
  const timer = setInterval(draw, 1000 / fps);
  const stream = canvas.captureStream(fps);
  const [track] = stream.getVideoTracks();
  return { track, stop: () => { clearInterval(timer); track.stop(); } };
}

// Keeps the relay's candidates of one transport in an SDP, so the session can only connect over it.
function onlyTransport(sdp, transport) {
  return sdp.split(/\r?\n/).filter((line) => {
    const m = line.match(/^a=candidate:\S+ \d+ (\S+) /i);
    return !m || m[1].toLowerCase() === transport;
  }).join('\r\n');
}

// Lets Chrome start near the test's rate instead of ramping up from 300 kb/s for the whole test (a Chrome-only
// codec parameter; other browsers ignore it).
function startBitrate(sdp, kbps) {
  return sdp.replace(/^(a=fmtp:\d+ .*)$/gm, (line) => (/x-google-start-bitrate/.test(line) ? line
    : `${line};x-google-start-bitrate=${kbps};x-google-max-bitrate=${kbps}`))
    .replace(/^(a=rtpmap:(\d+) VP8\/90000)$/gm, (line, _l, pt) => (new RegExp(`^a=fmtp:${pt} `, 'm').test(sdp) ? line
      : `${line}\r\na=fmtp:${pt} x-google-start-bitrate=${kbps};x-google-max-bitrate=${kbps}`));
}

async function echoAnswer(offer) {
  const res = await fetch(ECHO_PATH, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ sdp: offer }),
  });
  if (res.status === 404 || res.status === 405) return { missing: true };
  const data = await res.json().catch(() => ({}));
  if (!res.ok || !data.sdp) return { error: (data.error && data.error.code) || `http_${res.status}` };
  return data;
}

// Tells the server the page is done with an echo session (its connection is closed), so that it no longer counts
// among this address's running sessions: "Check again" may start new ones at once.
async function endEcho(id) {
  try {
    await fetch(`${ECHO_PATH}/${encodeURIComponent(id)}`, { method: 'DELETE', credentials: 'same-origin', keepalive: true });
  } catch {
    /* the server forgets it by itself after the session's maximum duration */
  }
}

// The transport of the selected candidate pair: {protocol, candidateType, relayProtocol, rtt}.
async function selectedPath(pc) {
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
  });
  if (!pair) stats.forEach((s) => { if (!pair && s.type === 'candidate-pair' && (s.selected || s.nominated) && s.state === 'succeeded') pair = s; });
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId) || {};
  const remote = stats.get(pair.remoteCandidateId) || {};
  return {
    protocol: remote.protocol || local.protocol || '',
    candidateType: local.candidateType || '',
    relayProtocol: local.relayProtocol || '',
    rtt: Number.isFinite(pair.currentRoundTripTime) ? Math.round(pair.currentRoundTripTime * 1000) : null,
  };
}

function received(stats) {
  let bytes = 0;
  let frames = 0;
  stats.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      bytes += s.bytesReceived || 0;
      frames += s.framesDecoded || 0;
    }
  });
  return { bytes, frames };
}

function sent(stats) {
  let bytes = 0;
  stats.forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'video') bytes += s.bytesSent || 0; });
  return bytes;
}

/**
 * One session with the relay's echo leg, its ICE limited to transport ('udp' or 'tcp'), and to TURN when iceServers
 * are given. With measureMs, it sends the busy picture at up to maxKbps for that long and measures the bitrate that
 * comes back. {checked (the server offers the echo), connected, path, connectMs, kbps, sentKbps, frames, error}.
 */
export async function echoSession({ transport, iceServers = [], maxKbps = 800, measureMs = 0, connectTimeoutMs = 2500 }) {
  const result = { checked: false, connected: false, path: null, connectMs: null, kbps: null, sentKbps: null, frames: 0, error: '' };
  const started = performance.now();
  let pc;
  let noise;
  let answer = null;
  try {
    // With iceServers (TURN), only relayed candidates: the session proves the way in through the TURN server.
    pc = new RTCPeerConnection(iceServers.length ? { iceServers, iceTransportPolicy: 'relay' } : {});
    noise = noiseTrack();
    const tr = pc.addTransceiver(noise.track, { direction: 'sendrecv', sendEncodings: [{ maxBitrate: (measureMs ? maxKbps : 100) * 1000 }] });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    // The relay answers once, without trickle: give it the candidates gathered so far (host ones come at once, a
    // TURN allocation takes a round trip or two).
    await withTimeout(new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    }), iceServers.length ? 1500 : 600, () => null);
    // Both sides limited to the transport: the relay's checks to our UDP candidates would open a UDP path too.
    answer = await echoAnswer(onlyTransport(pc.localDescription.sdp, transport));
    if (answer.missing) return { ...result, error: 'no_echo' };
    result.checked = true;
    if (answer.error) return { ...result, error: answer.error };
    let sdp = onlyTransport(answer.sdp, transport);
    if (measureMs) sdp = startBitrate(sdp, maxKbps);
    await pc.setRemoteDescription({ type: 'answer', sdp });
    const params = tr.sender.getParameters();
    if (params.encodings && params.encodings[0]) {
      params.encodings[0].maxBitrate = (measureMs ? maxKbps : 100) * 1000;
      await tr.sender.setParameters(params).catch(() => {});
    }
    const connected = await withTimeout(new Promise((resolve) => {
      const check = () => {
        if (pc.connectionState === 'connected' || pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed') resolve(true);
        else if (pc.connectionState === 'failed' || pc.iceConnectionState === 'failed') resolve(false);
      };
      pc.addEventListener('connectionstatechange', check);
      pc.addEventListener('iceconnectionstatechange', check);
      check();
    }), connectTimeoutMs, () => false);
    result.connectMs = Math.round(performance.now() - started);
    if (!connected) return { ...result, error: 'no_connection' };
    result.connected = true;
    result.path = await selectedPath(pc);
    if (!measureMs) return result;

    // The first part of the test lets the encoder and the bandwidth estimate settle; the rate is measured after it.
    const settleMs = Math.min(1000, measureMs / 3);
    await sleep(settleMs);
    const a = await pc.getStats();
    const t0 = performance.now();
    await sleep(measureMs - settleMs);
    const b = await pc.getStats();
    const seconds = (performance.now() - t0) / 1000;
    const ra = received(a);
    const rb = received(b);
    result.kbps = Math.round(((rb.bytes - ra.bytes) * 8) / 1000 / seconds);
    result.sentKbps = Math.round(((sent(b) - sent(a)) * 8) / 1000 / seconds);
    result.frames = rb.frames;
    if (answer.echo_id || answer.id) result.echoId = answer.echo_id || answer.id;
    result.path = (await selectedPath(pc)) || result.path;
    return result;
  } catch (err) {
    return { ...result, error: (err && err.name) || 'failed' };
  } finally {
    noise?.stop();
    pc?.close();
    if (answer?.echo_id) await endEcho(answer.echo_id);
  }
}
