// 裂变商城 H5: a hash-routed client of /api/v1. No framework, no build step. This file is the router and the
// wiring: the core screens are in screens/, the marketing tools' screens in features/ (see web/shop.py), and
// what they share in kit.js (navigation, screen plumbing) and ui.js (DOM, money and error texts).

import { ApiError, captureRef, getToken } from './api.js';
import { AUTH_CODES, closeOverlays, loadErrorTexts, screenChanged } from './ui.js';
import { fail, go, goLogin, parseHash, put, trackDepth, wire } from './kit.js';
import { homeScreen, productScreen } from './screens/catalog.js';
import { cashierScreen, checkoutScreen } from './screens/checkout.js';
import { orderScreen, ordersScreen } from './screens/orders.js';
import { loginScreen, meScreen } from './screens/account.js';

import features from '/shop/features.js';

const view = document.getElementById('view');
const tabbar = document.getElementById('tabbar');

// ---- router ------------------------------------------------------------------------------------

let current = null; // {leave: [fn], alive}

const ROUTES = [
  [/^\/$/, homeScreen, { tab: 'home' }],
  [/^\/p\/(\d+)$/, productScreen, {}],
  [/^\/checkout$/, checkoutScreen, { auth: true }],
  [/^\/cashier\/(\d+)$/, cashierScreen, { auth: true }],
  [/^\/orders$/, ordersScreen, { auth: true, tab: 'orders' }],
  [/^\/orders\/(\d+)$/, orderScreen, { auth: true }],
  [/^\/me$/, meScreen, { auth: true, tab: 'me' }],
  [/^\/login$/, loginScreen, {}],
];
for (const f of features) ROUTES.push(...(f.routes || []));

function render() {
  if (current) current.leave.forEach((fn) => fn());
  // The last screen's sheets, dialogs and toasts are not this one's (Back past a sheet closes it too).
  closeOverlays();
  screenChanged();
  trackDepth();
  const { path, query } = parseHash();
  let match = null;
  for (const [re, screen, opts] of ROUTES) {
    const m = re.exec(path);
    if (m) {
      match = { screen, opts, params: m.slice(1) };
      break;
    }
  }
  if (!match) {
    go('#/', true);
    return;
  }
  if (match.opts.auth && !getToken()) {
    goLogin(path + (query.toString() ? '?' + query : ''), true);
    return;
  }
  const ctx = { params: match.params, query, path, leave: [] };
  ctx.alive = () => current === ctx;
  ctx.onLeave = (fn) => ctx.leave.push(fn);
  ctx.fail = (err) => fail(err, ctx);
  // For a screen that failed to load and says why on the page: only a login problem needs acting on.
  ctx.failShown = (err) => {
    if (err instanceof ApiError && (AUTH_CODES.has(err.code) || err.status === 401)) fail(err, ctx);
  };
  current = ctx;
  tabbar.hidden = !match.opts.tab;
  document.body.classList.toggle('has-tabbar', Boolean(match.opts.tab));
  for (const a of tabbar.querySelectorAll('.tab')) a.classList.toggle('active', a.dataset.tab === match.opts.tab);
  const node = match.screen(ctx);
  put(view, node);
  window.scrollTo(0, 0);
}

// ---- start -------------------------------------------------------------------------------------

wire({ render, features });
captureRef();
loadErrorTexts(); // not awaited: until it lands, errors read as the server's own (Chinese) message
window.addEventListener('hashchange', render);
render();
