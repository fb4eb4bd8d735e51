// The devices part of the pre-call check: the microphone and the camera, asked for as a call would (getUserMedia),
// then released at once. A missing camera is only a warning: a visitor can take a call with the microphone alone.

import { mediaErrorKind } from '/static/shared/local_media.js';

function describe(track) {
  if (!track) return null;
  const s = track.getSettings ? track.getSettings() : {};
  return { label: track.label || '', width: s.width || 0, height: s.height || 0 };
}

/** {microphone: {ok, error, label}, camera: {ok, error, label, width, height}}; error is a mediaErrorKind. */
export async function devicesCheck() {
  const out = { microphone: { ok: false, error: 'failed' }, camera: { ok: false, error: 'failed' } };
  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') {
    out.microphone.error = out.camera.error = 'unavailable';
    return out;
  }
  const take = async (constraints) => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia(constraints);
      const info = { audio: describe(stream.getAudioTracks()[0]), video: describe(stream.getVideoTracks()[0]) };
      stream.getTracks().forEach((t) => t.stop());
      return { info };
    } catch (err) {
      return { error: mediaErrorKind(err) };
    }
  };
  // Both at once (one permission prompt); when that fails, each alone, to tell which device is the problem.
  let both = await take({ audio: true, video: true });
  if (both.error && both.error !== 'denied') {
    const [mic, cam] = [await take({ audio: true }), await take({ video: true })];
    both = { info: { audio: mic.info && mic.info.audio, video: cam.info && cam.info.video }, micError: mic.error, camError: cam.error };
  }
  if (both.error) {
    out.microphone.error = out.camera.error = both.error;
    return out;
  }
  const { audio, video } = both.info;
  out.microphone = audio ? { ok: true, error: '', ...audio } : { ok: false, error: both.micError || 'no_device' };
  out.camera = video ? { ok: true, error: '', ...video } : { ok: false, error: both.camError || 'no_device' };
  return out;
}
