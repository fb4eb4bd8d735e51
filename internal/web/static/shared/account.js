// The signed-in agent or admin (docs/api.md, "Sessions").

import { get, post, setCsrfToken } from './api.js';

/** The signed-in account, or null when there is no session. */
export async function currentAccount() {
  try {
    const data = await get('/api/auth/me');
    setCsrfToken(data.csrf_token);
    return data.account;
  } catch (err) {
    if (err.status === 401) return null;
    throw err;
  }
}

export async function logIn(email, password) {
  const data = await post('/api/auth/login', { email, password });
  setCsrfToken(data.csrf_token);
  return data.account;
}

export async function logOut() {
  try {
    await post('/api/auth/logout');
  } finally {
    setCsrfToken('');
  }
}

export function changePassword(currentPassword, newPassword) {
  return post('/api/auth/password', { current_password: currentPassword, new_password: newPassword });
}
