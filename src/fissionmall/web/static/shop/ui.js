// Small DOM helpers, money, Chinese labels, toast and bottom sheet.

/**
 * h('div.card', {onclick}, child, ...): build an element. Strings become text nodes (never HTML).
 * Attributes: `class`, `dataset`, `on*` handlers, booleans (`disabled`), anything else via setAttribute.
 */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = [el.className, v].filter(Boolean).join(' ');
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVG = 'http://www.w3.org/2000/svg';
/** A one-path inline icon. */
export function icon(d, cls = 'icon') {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}
export const ICONS = {
  back: 'M15.5 4.5 8 12l7.5 7.5-1.4 1.4L5.2 12l8.9-8.9z',
  search: 'M10.5 3a7.5 7.5 0 0 1 5.9 12.1l4.3 4.3-1.4 1.4-4.3-4.3A7.5 7.5 0 1 1 10.5 3zm0 2a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11z',
  pin: 'M12 2a7 7 0 0 1 7 7c0 5-7 13-7 13S5 14 5 9a7 7 0 0 1 7-7zm0 4.5a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5z',
  home: 'M3 10.5 12 3l9 7.5V20a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z',
  order: 'M6 3h12a1 1 0 0 1 1 1v17l-3-2-2 2-2-2-2 2-2-2-3 2V4a1 1 0 0 1 1-1zm3 5v2h6V8zm0 4v2h6v-2z',
  wallet: 'M4 6h15a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V7a1 1 0 0 1 1-1zm12 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zM5 3h11v2H5z',
  pay: 'M3 6a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2zm2 3v2h14V9zm2 5v2h4v-2z',
  box: 'M12 2 3 6.5v11L12 22l9-4.5v-11zm0 2.2 6.3 3.1L12 10.5 5.7 7.3zM5 9l6 3v7.6l-6-3z',
  truck: 'M2 5h12v10h1.5l1.5-5h3l2 4v4h-2a2.5 2.5 0 0 1-5 0H9a2.5 2.5 0 0 1-5 0H2zm4.5 12a1 1 0 1 0 0 2 1 1 0 0 0 0-2zm10 0a1 1 0 1 0 0 2 1 1 0 0 0 0-2z',
  check: 'M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20zm4.3 6.3L10.5 14l-2.8-2.8-1.4 1.4 4.2 4.2 7.2-7.1z',
  clock: 'M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20zm1 5h-2v6l5 3 1-1.7-4-2.3z',
  refund: 'M12 3a9 9 0 1 1-8.5 6h2.2A7 7 0 1 0 12 5v3L7 4l5-4zm-1 5h2v1.1c1.3.3 2.3 1.2 2.4 2.4h-2c-.1-.5-.6-.8-1.4-.8-.9 0-1.4.3-1.4.8 0 .5.5.7 1.7 1 1.8.4 3.2 1 3.2 2.6 0 1.2-1 2.1-2.5 2.4V18h-2v-1.5c-1.5-.3-2.5-1.2-2.6-2.6h2c.1.6.7 1 1.7 1 .9 0 1.4-.3 1.4-.9 0-.5-.5-.7-1.8-1-1.8-.4-3.1-1-3.1-2.6 0-1.2.9-2 2.4-2.3z',
  chevron: 'm9 4.5 7.5 7.5L9 19.5l-1.4-1.4 6.1-6.1-6.1-6.1z',
  wechat: 'M9 4C5.1 4 2 6.6 2 9.8c0 1.8 1 3.4 2.6 4.5L4 16.5l2.6-1.3c.7.2 1.5.3 2.4.3h.6A5 5 0 0 1 9.5 14c0-3.1 3-5.6 6.7-5.6h.6C16.1 5.9 12.9 4 9 4zM6.6 7.3a.9.9 0 1 1 0 1.8.9.9 0 0 1 0-1.8zm4.8 0a.9.9 0 1 1 0 1.8.9.9 0 0 1 0-1.8zM16.2 9.6c-3.2 0-5.7 2-5.7 4.6s2.5 4.6 5.7 4.6c.6 0 1.2-.1 1.8-.2l2 1-.5-1.7c1.5-.9 2.5-2.2 2.5-3.7 0-2.6-2.6-4.6-5.8-4.6zm-2 2.5a.8.8 0 1 1 0 1.5.8.8 0 0 1 0-1.5zm4 0a.8.8 0 1 1 0 1.5.8.8 0 0 1 0-1.5z',
};

/** Integer fen to "12.30", integer math only. */
export function yuan(fen) {
  const f = Math.trunc(Number(fen) || 0);
  const sign = f < 0 ? '-' : '';
  const a = Math.abs(f);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/** A price: small ¥, big yuan, small fen. */
export function price(fen, cls = '') {
  const s = yuan(fen);
  const [int, dec] = s.split('.');
  return h('span.price' + (cls ? '.' + cls : ''), h('small', '¥'), int, h('small', '.' + dec));
}

export const ORDER_STATUS = {
  pending_payment: '待付款',
  paid: '待发货',
  shipped: '已发货',
  received: '已收货',
  completed: '已完成',
  cancelled: '已取消',
  closed: '已关闭',
};

export const REFUND_STATUS = {
  pending: '待商家处理',
  approved: '待寄回商品',
  return_shipped: '待商家收货',
  processing: '退款中',
  succeeded: '已退款',
  rejected: '已拒绝',
  failed: '退款失败',
  cancelled: '已撤销',
  closed: '已关闭',
};

export const PAYMENT_STATUS = { pending: '待支付', succeeded: '已支付', closed: '已关闭' };

// Error texts come from the server's one table (GET /api/v1/error-codes, shared with the console), loaded
// once at start and kept for the tab in sessionStorage. Only what cannot come from the server is built in:
// a network failure, when the table itself may not have loaded.
const BUILTIN_TEXT = { NETWORK: '网络不给力，请稍后重试' };
const KEY_CODES = 'fm.errorCodes';
const CODES_FRESH_MS = 300_000; // as long as the server lets a cache keep the table
let errorTable = null;
let loadingCodes = null;

function storedCodes() {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY_CODES) || 'null');
    return v && typeof v.codes === 'object' && v.codes ? v : null;
  } catch (e) {
    return null;
  }
}

/** Load the code → Chinese table once (a fresh stored copy saves the request); resolves even offline. */
export function loadErrorTexts() {
  const stored = storedCodes();
  if (stored) errorTable = stored.codes;
  if (stored && Date.now() - stored.at < CODES_FRESH_MS) return Promise.resolve(errorTable);
  if (!loadingCodes) {
    loadingCodes = fetch('/api/v1/error-codes', { headers: { Accept: 'application/json' } })
      .then((res) => (res.ok ? res.json() : null))
      .then((data) => {
        if (data && data.codes && typeof data.codes === 'object') {
          errorTable = data.codes;
          try {
            sessionStorage.setItem(KEY_CODES, JSON.stringify({ at: Date.now(), codes: data.codes }));
          } catch (e) {
            // storage full or disabled: the table still serves this page
          }
        }
        return errorTable;
      })
      .catch(() => errorTable)
      .finally(() => {
        loadingCodes = null;
      });
  }
  return loadingCodes;
}

export const AUTH_CODES = new Set(['AUTH_REQUIRED', 'TOKEN_EXPIRED', 'TOKEN_INVALID']);

export function errorText(err) {
  if (!err) return '出错了';
  // A server message is shown only when it is Chinese: a code the table lacks (or a table not loaded
  // yet) must not put an English sentence in front of a shopper.
  const own = err.message && /[\u4e00-\u9fff]/.test(err.message) ? err.message : '';
  const known = BUILTIN_TEXT[err.code] || (errorTable && errorTable[err.code]);
  return known || own || `操作未成功，请稍后重试${err.code ? `（${err.code}）` : ''}`;
}

let toastTimer;
let toastAt = 0;
export function toast(text, kind = '') {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.className = 'toast' + (kind ? ' toast-' + kind : '');
  el.hidden = false;
  toastAt = Date.now();
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 2000);
}

// A toast said on the way to this screen ("抢到了！请在 5 分钟内支付" → 收银台) is at most this old.
const TOAST_LEAD_MS = 1000;

/**
 * A new screen is shown: a toast left from the previous one goes; one said on the way here (the reason
 * for coming: 请先登录, 支付成功) moves up under the top bar, where it covers no button (the cashier's
 * pay button sits in the middle of the screen, where a toast otherwise shows).
 */
export function screenChanged() {
  const el = document.getElementById('toast');
  if (!el || el.hidden) return;
  if (Date.now() - toastAt > TOAST_LEAD_MS || el.classList.contains('toast-top')) { // carried once at most
    clearTimeout(toastTimer);
    el.hidden = true;
  } else el.classList.add('toast-top');
}

// Open sheets and dialogs: a new screen closes every one (they belong to the screen that opened them).
const overlays = new Set();
let sheetSeq = 0;

/** Close every sheet and dialog (as if dismissed): the router calls it when a new screen shows. */
export function closeOverlays() {
  for (const drop of [...overlays]) drop();
}

/**
 * A bottom sheet; resolves when closed. `build(close)` returns the sheet's content.
 *
 * It takes a history entry of its own (same address, `sheet` in the state), so the phone's or browser's
 * Back closes the sheet and leaves the page where it was; closed any other way, that entry is stepped
 * back over first, and only then does the promise resolve (a caller that navigates next cannot race it).
 */
export function sheet(title, build) {
  const root = document.getElementById('sheet-root');
  const id = ++sheetSeq;
  return new Promise((resolve) => {
    let done = false;
    let value;
    const finish = () => {
      if (done) return;
      done = true;
      overlays.delete(drop);
      window.removeEventListener('popstate', onPop);
      wrap.classList.remove('open');
      setTimeout(() => wrap.remove(), 200);
      resolve(value);
    };
    // Back (or our own step back) left this sheet's entry: close. A deeper sheet's entry is still ours.
    const onPop = () => {
      const st = history.state;
      if (!(st && typeof st.sheet === 'number' && st.sheet >= id)) finish();
    };
    const close = (v) => {
      if (done) return;
      value = v;
      const st = history.state;
      if (st && st.sheet === id) {
        history.back(); // onPop finishes; a back that never lands still closes
        setTimeout(finish, 400);
      } else finish();
    };
    const drop = () => finish(); // the screen changed under it: its entry is no longer the current one
    const panel = h('div.sheet', { role: 'dialog', 'aria-modal': 'true', 'aria-label': title },
      h('div.sheet-head', h('strong', title), h('button.sheet-x', { type: 'button', 'aria-label': '关闭', onclick: () => close() }, '×')),
      h('div.sheet-body', build(close)),
    );
    const wrap = h('div.sheet-wrap', { onclick: (e) => e.target === wrap && close() }, panel);
    history.pushState({ ...(history.state || {}), sheet: id }, '');
    window.addEventListener('popstate', onPop);
    overlays.add(drop);
    root.append(wrap);
    requestAnimationFrame(() => wrap.classList.add('open'));
  });
}

/** A confirm dialog in the shop's own style; resolves true/false. */
export function confirmBox(message, okText = '确定', cancelText = '再想想') {
  const root = document.getElementById('sheet-root');
  return new Promise((resolve) => {
    const close = (v) => {
      overlays.delete(drop);
      wrap.remove();
      resolve(v);
    };
    const drop = () => close(false);
    overlays.add(drop);
    const wrap = h('div.dialog-wrap',
      h('div.dialog', { role: 'alertdialog', 'aria-modal': 'true' },
        h('p.dialog-msg', message),
        h('div.dialog-btns',
          h('button', { type: 'button', onclick: () => close(false) }, cancelText),
          h('button.dialog-ok', { type: 'button', onclick: () => close(true) }, okText)),
      ));
    root.append(wrap);
  });
}

/** Quantity stepper; calls onChange(n) with n clamped to [min, max]. */
export function stepper(value, min, max, onChange, label = '数量') {
  const input = h('input.stepper-n', { type: 'number', inputmode: 'numeric', min, max, value, 'aria-label': label });
  const minus = h('button.stepper-b', { type: 'button', 'aria-label': '减少' }, '−');
  const plus = h('button.stepper-b', { type: 'button', 'aria-label': '增加' }, '+');
  const set = (n) => {
    n = Math.max(min, Math.min(max, Math.trunc(Number(n)) || min));
    input.value = n;
    minus.disabled = n <= min;
    plus.disabled = n >= max;
    onChange(n);
  };
  minus.addEventListener('click', () => set(Number(input.value) - 1));
  plus.addEventListener('click', () => set(Number(input.value) + 1));
  input.addEventListener('change', () => set(input.value));
  minus.disabled = value <= min;
  plus.disabled = value >= max;
  const el = h('div.stepper', minus, input, plus);
  el.setValue = set;
  return el;
}

/** "2024-05-01 12:30" in the shop's time zone: the API already sends times with the shop's offset. */
export function fmtTime(iso) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso || '');
  return m ? `${m[1]} ${m[2]}` : iso || '';
}

export function fmtCountdown(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const p = (n) => String(n).padStart(2, '0');
  const hh = Math.floor(s / 3600);
  return (hh ? p(hh) + ':' : '') + p(Math.floor((s % 3600) / 60)) + ':' + p(s % 60);
}

/** An <img> that falls back to a soft placeholder when there is no picture or it fails. */
export function img(src, alt, cls = 'thumb') {
  const safe = typeof src === 'string' && (/^\/(?!\/)/.test(src) || /^https:\/\//.test(src)) ? src : null;
  const el = h('img.' + cls, { alt: alt || '', decoding: 'async' });
  if (safe) el.src = safe;
  else el.classList.add('noimg');
  el.addEventListener('error', () => {
    el.removeAttribute('src');
    el.classList.add('noimg');
  });
  return el;
}
