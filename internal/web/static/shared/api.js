// HTTP API client for the desk and the admin app (docs/api.md). It sends the session cookie, and the CSRF token
// on every request that changes something. A Blob body (a file) is sent as it is.

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields || {};
  }
}

let csrfToken = '';
let onSessionLost = null;

/** Remembers the csrf_token given by login or me (in memory only). */
export function setCsrfToken(token) {
  csrfToken = token || '';
}

/** fn() is called when a request other than the auth ones gets 401: the session is gone. */
export function onUnauthenticated(fn) {
  onSessionLost = fn;
}

export async function request(method, path, body) {
  const raw = body instanceof Blob;
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = raw ? 'application/octet-stream' : 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined || raw ? body : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'Parley cannot be reached. Check your connection and try again.');
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch { /* an empty or non-JSON body */ }
  if (res.ok) return data;
  const e = (data && data.error) || {};
  const err = new ApiError(res.status, e.code || `http_${res.status}`, e.message || res.statusText, e.fields || (data && data.fields));
  if (res.status === 401 && !path.startsWith('/api/auth/') && onSessionLost) onSessionLost(err);
  throw err;
}

export const get = (path) => request('GET', path);
/** Reads a file (GET) as a Blob. */
export async function getBlob(path) {
  const res = await fetch(path, { credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, `http_${res.status}`, res.statusText);
  return res.blob();
}
export const post = (path, body) => request('POST', path, body);
export const patch = (path, body) => request('PATCH', path, body);
