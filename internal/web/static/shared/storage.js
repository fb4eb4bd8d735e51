// localStorage holding JSON, that keeps working in memory when the browser refuses storage (private modes,
// blocked third-party storage in the widget iframe).

const memory = new Map();

function backend() {
  try {
    const store = window.localStorage;
    const probe = '__parley_probe__';
    store.setItem(probe, '1');
    store.removeItem(probe);
    return store;
  } catch {
    return null;
  }
}

const store = backend();

export const storage = {
  get(key) {
    const raw = memory.has(key) ? memory.get(key) : store?.getItem(key);
    if (raw === null || raw === undefined) return null;
    try {
      return JSON.parse(raw);
    } catch {
      return null;
    }
  },
  set(key, value) {
    const raw = JSON.stringify(value);
    try {
      if (store) store.setItem(key, raw);
      else memory.set(key, raw);
    } catch {
      memory.set(key, raw); // quota exceeded: keep it for this page at least
    }
  },
  remove(key) {
    try {
      store?.removeItem(key);
    } catch { /* storage went away: nothing to remove */ }
    memory.delete(key);
  },
};
