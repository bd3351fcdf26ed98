// The shop's shared kit: navigation (go, back, login redirects), failure reports, screen plumbing
// (topbar, loading, empty, busy, put), payment start, price-chain rows and countdowns. The core screens
// (screens/*.js) and the feature modules (features/*.js) import it; it imports no screen and no feature,
// so app.js (the router) can load them all without a cycle.

import { ApiError, api, serverNow, setToken } from './api.js';
import { AUTH_CODES, ICONS, errorText, fmtCountdown, h, icon, price, toast, yuan } from './ui.js';

// ---- navigation --------------------------------------------------------------------------------

let depth = 0; // how many shop screens lie behind this one in the tab's history
let lastDepth = -1;
let replacing = false;
let render = () => {}; // the router's, set by wire()
let features = [];

/** Plug the router in: its render (go() to the address already shown renders afresh) and the features. */
export function wire(opts) {
  render = opts.render;
  features = opts.features;
}

/** Number each history entry, so 返回 goes back inside the shop and never out of it. */
export function trackDepth() {
  const st = history.state;
  if (st && typeof st.depth === 'number') depth = st.depth;
  else {
    depth = replacing ? Math.max(0, lastDepth) : lastDepth + 1;
    history.replaceState({ ...(st || {}), depth }, '');
  }
  replacing = false;
  lastDepth = depth;
}

export function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const i = raw.indexOf('?');
  return { path: i < 0 ? raw : raw.slice(0, i), query: new URLSearchParams(i < 0 ? '' : raw.slice(i + 1)) };
}

/** Sections that features add to a screen (each hook returns a node, a list of nodes, or nothing). */
export function featureSections(hook, ...args) {
  return features.flatMap((f) => {
    const made = f[hook] ? f[hook](...args) : null;
    return made ? [].concat(made) : [];
  });
}

/** What features add to a request body (e.g. checkoutBody → {points: 300}), merged in feature order. */
export function featureFields(hook, ...args) {
  return Object.assign({}, ...features.map((f) => (f[hook] ? f[hook](...args) || {} : {})));
}

/** Tell every feature that has `hook` something happened (e.g. checkoutQuote with the new preview). */
export function featureNotify(hook, ...args) {
  for (const f of features) if (f[hook]) f[hook](...args);
}

/** Replace an element's children, skipping null/false (conditional pieces). */
export function put(el, ...kids) {
  el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
}

export function go(hash, replace = false) {
  if (location.hash === hash) {
    render(); // the same address fires no hashchange: show it afresh
    return;
  }
  if (replace) {
    replacing = true;
    location.replace(hash);
  } else location.hash = hash;
}

export function goLogin(next, replace = false) {
  const n = next || parseHash().path;
  go('#/login' + (n && n !== '/login' ? '?next=' + encodeURIComponent(n) : ''), replace);
}

export function back(fallback = '#/') {
  if (depth > 0) history.back();
  else go(fallback, true);
}

/** Report an API failure: a login problem sends the shopper to log in, anything else is a toast. */
export function fail(err, ctx) {
  if (!(err instanceof ApiError)) {
    console.error(err); // eslint-disable-line no-console
    toast('出错了，请稍后重试');
    return;
  }
  if (AUTH_CODES.has(err.code) || err.status === 401) {
    setToken(null);
    toast(err.code === 'TOKEN_EXPIRED' ? '登录已过期，请重新登录' : '请先登录');
    const { path, query } = parseHash();
    if (!ctx || ctx.alive()) goLogin(path + (query.toString() ? '?' + query : ''), true);
    return;
  }
  toast(errorText(err), 'error');
}

/** Replace the search part of the hash without a re-render (filters, tabs). */
export function setHashQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  history.replaceState(history.state, '', '#' + path + (s ? '?' + s : ''));
}

// ---- shared pieces -----------------------------------------------------------------------------

export function topbar(title, { backTo = '#/', right = null } = {}) {
  return h('header.topbar',
    h('button.topbar-back', { type: 'button', 'aria-label': '返回', onclick: () => back(backTo) }, icon(ICONS.back)),
    h('h1.topbar-title', title),
    h('div.topbar-right', right));
}

export function loading() {
  return h('div.loading', h('div.spinner'), h('span', '加载中…'));
}

export function empty(text, action) {
  return h('div.empty', h('div.empty-art', icon(ICONS.box)), h('p', text), action || null);
}

export function busy(button, fn) {
  return async (...args) => {
    if (button.disabled) return;
    button.disabled = true;
    button.classList.add('busy');
    try {
      await fn(...args);
    } finally {
      button.disabled = false;
      button.classList.remove('busy');
    }
  };
}

/** The client hash of a cashier URL from the gateway (sandbox: /shop/#/cashier/{id}). */
function cashierHash(pay) {
  const url = pay && pay.gateway && pay.gateway.cashier_url;
  if (typeof url === 'string' && url.startsWith('/shop/#/cashier/')) return url.slice('/shop/'.length);
  return `#/cashier/${pay.payment_id}`;
}

export async function startPayment(orderId, replace = false) {
  const pay = await api(`/orders/${orderId}/pay`, { body: { method: 'gateway' } });
  go(cashierHash(pay), replace);
}

/** The price-chain rows. Goods and shipping add; any other step is shown as the saving it is. */
export function stepRows(steps) {
  return (steps || []).map((st) => {
    const adds = st.kind === 'goods' || st.kind === 'shipping';
    const amount = adds ? price(st.amount_fen) : h('span.price.price-red', '-¥' + yuan(Math.abs(st.amount_fen)));
    return h('div.step', { dataset: { kind: st.kind } }, h('span', st.label), amount);
  });
}

/** Tick a deadline into `el` every second; onEnd runs once when it runs out. */
export function countdown(ctx, iso, el, text, onEnd) {
  const end = Date.parse(iso);
  if (Number.isNaN(end)) return;
  let ended = false;
  const tick = () => {
    const left = end - serverNow();
    el.textContent = left > 0 ? text(fmtCountdown(left)) : '支付已超时';
    if (left <= 0 && !ended) {
      ended = true;
      if (onEnd) onEnd();
    }
  };
  tick();
  const t = setInterval(tick, 1000);
  ctx.onLeave(() => clearInterval(t));
}
