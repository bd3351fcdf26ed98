// The shop's only door to the server: /api/v1 with a Bearer token and a device id.

const KEY_TOKEN = 'fm.token';
const KEY_DEVICE = 'fm.device';
const KEY_WXCODE = 'fm.wxcode';
const KEY_REF = 'fm.ref';

export function randomId(prefix = '') {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function stored(key, make) {
  let v = localStorage.getItem(key);
  if (!v) {
    v = make();
    localStorage.setItem(key, v);
  }
  return v;
}

export const deviceId = () => stored(KEY_DEVICE, () => randomId('h5-'));
/** A code stable on this device, so "微信一键登录" always maps to the same sandbox shopper. */
export const deviceLoginCode = () => stored(KEY_WXCODE, () => randomId('h5'));

export const getToken = () => localStorage.getItem(KEY_TOKEN);
export const setToken = (t) => (t ? localStorage.setItem(KEY_TOKEN, t) : localStorage.removeItem(KEY_TOKEN));

/** A distributor's share code from `?ref=` (before or inside the hash), kept until a login uses it. */
export function captureRef() {
  const fromSearch = new URLSearchParams(location.search).get('ref');
  const hashQuery = location.hash.includes('?') ? location.hash.slice(location.hash.indexOf('?') + 1) : '';
  const ref = fromSearch || new URLSearchParams(hashQuery).get('ref');
  if (ref && /^[A-Za-z0-9_-]{1,64}$/.test(ref)) localStorage.setItem(KEY_REF, ref);
}
export const pendingRef = () => localStorage.getItem(KEY_REF);
export const clearRef = () => localStorage.removeItem(KEY_REF);

export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** Server clock minus ours, in ms (from the HTTP Date header): countdowns follow the server. */
export let clockSkew = 0;
export const serverNow = () => Date.now() + clockSkew;

/**
 * Call /api/v1. `opts.body` is sent as JSON; `opts.idem` sets Idempotency-Key.
 * Resolves with the parsed JSON; rejects with ApiError (status 0 for a network failure).
 */
export async function api(path, opts = {}) {
  const headers = { Accept: 'application/json', 'X-Device-Id': deviceId() };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (opts.idem) headers['Idempotency-Key'] = opts.idem;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let url = '/api/v1' + path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  let res;
  try {
    res = await fetch(url, { method: opts.method || (body !== undefined ? 'POST' : 'GET'), headers, body });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', '网络不给力，请稍后重试');
  }
  const date = Date.parse(res.headers.get('date') || '');
  if (!Number.isNaN(date)) clockSkew = date - Date.now();
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = null;
    }
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ApiError(res.status, err.code || `HTTP_${res.status}`, err.message || res.statusText, err.detail);
  }
  return data;
}

// ---- events: what only the shop sees (views, shares, share links opened), sent in small batches ----

const EVENTS_MAX = 20; // the server takes up to 50 a call
let queued = [];
let flushTimer = null;

/** Send the queued events now; `leaving`: the page is going away (keepalive lets the request finish). */
export function flushEvents(leaving = false) {
  clearTimeout(flushTimer);
  flushTimer = null;
  if (!queued.length) return;
  const events = queued.splice(0, EVENTS_MAX);
  const headers = { 'Content-Type': 'application/json', 'X-Device-Id': deviceId() };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  fetch('/api/v1/events', { method: 'POST', headers, body: JSON.stringify({ events }), keepalive: leaving })
    .catch(() => {}); // a lost view is not worth a retry loop or a toast
  if (queued.length) flushEvents(leaving);
}

/** Queue a client event (`page_view`, `share`, `share_open`) with `{page, product_id, ref}`; sent within
 * a few seconds, at 20 queued, or when the page is hidden. Each carries its own id, so a resend is stored once. */
export function track(type, fields = {}) {
  const e = { type, id: randomId(), at: new Date(serverNow()).toISOString() };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null && v !== '') e[k] = v;
  queued.push(e);
  if (queued.length >= EVENTS_MAX) flushEvents();
  else if (!flushTimer) flushTimer = setTimeout(flushEvents, 4000);
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') flushEvents(true);
});
window.addEventListener('pagehide', () => flushEvents(true));
