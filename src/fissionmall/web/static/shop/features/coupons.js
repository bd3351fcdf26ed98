// 优惠券与促销: 领券中心, 我的优惠券, promotion labels on the product page. Choosing a coupon at checkout
// (the best one picked, the others with why they do not apply) is part of the one checkout, screens/checkout.js.

import { api } from '../api.js';
import { busy, empty, go, loading, put, topbar } from '../kit.js';
import { errorText, h, toast, yuan } from '../ui.js';

const KEY_TOKEN = 'fm.token';

const say = errorText; // every coupon code reads as the server's table says
const STATUS_ZH = { available: '未使用', locked: '下单占用中', used: '已使用', expired: '已过期' };

const S = {
  ticket: 'display:flex;align-items:center;gap:12px;padding:12px;margin:10px 12px;border-radius:12px;background:#fff5f5;border:1px solid #ffd6d6',
  face: 'min-width:84px;text-align:center;color:#f23d3d;font-weight:700;font-size:20px',
  main: 'flex:1;min-width:0',
  tag: 'display:inline-block;margin:0 6px 4px 0;padding:2px 8px;border-radius:999px;background:#fff0e6;color:#f26b1d;font-size:12px',
  dim: 'opacity:.55',
};

function face(c) {
  if (c.kind === 'percent') return `${((10000 - c.percent_bp) / 1000).toString()}折`;
  return `¥${yuan(c.amount_fen).replace(/\.00$/, '')}`;
}

function dateText(iso) {
  return iso ? iso.slice(0, 10) : '';
}

// ---- 领券中心 ------------------------------------------------------------------------------------

function centreScreen(ctx) {
  const list = h('div', loading());
  const load = () =>
    api('/coupons').then((rows) => {
      if (!ctx.alive()) return;
      if (!rows.length) {
        put(list, empty('暂时没有可领的券'));
        return;
      }
      put(list, ...rows.map((c) => {
        const btn = h('button.btn.btn-primary.btn-small', { type: 'button', disabled: !c.can_claim, dataset: { template: c.id } },
          c.can_claim ? '立即领取' : (c.claimed ? '已领取' : '已抢光'));
        btn.addEventListener('click', busy(btn, async () => {
          try {
            await api(`/coupons/${c.id}/claim`, { method: 'POST' });
            toast('领取成功', 'ok');
            load();
          } catch (err) {
            toast(say(err));
          }
        }));
        return h('div.coupon-card', { style: S.ticket },
          h('div', { style: S.face }, face(c)),
          h('div', { style: S.main }, h('strong', c.name), h('div.muted.small', c.headline),
            h('div.muted.small', c.valid_until ? `有效期至 ${dateText(c.valid_until)}` : `领取后 ${c.valid_days} 天内有效`),
            c.remaining !== null ? h('div.muted.small', `剩余 ${c.remaining} 张`) : null),
          btn);
      }));
    }).catch((err) => ctx.alive() && put(list, h('div.error-box', say(err))));
  load();
  return h('div.page.coupon-centre', topbar('领券中心', { backTo: '#/me' }), list,
    h('p.footnote', h('a', { href: '#/me/coupons' }, '查看我的优惠券')));
}

// ---- 我的优惠券 ----------------------------------------------------------------------------------

function mineScreen(ctx) {
  const status = ctx.query.get('status') || 'available';
  const tabs = h('div', { style: 'display:flex;gap:8px;padding:10px 12px' },
    [['available', '未使用'], ['used', '已使用'], ['expired', '已过期']].map(([k, label]) =>
      h(`a.btn.btn-small${k === status ? '.btn-primary' : '.btn-ghost'}`, { href: `#/me/coupons?status=${k}` }, label)));
  const list = h('div', loading());
  api('/me/coupons', { query: { status: status === 'available' ? 'available,locked' : status, limit: 100 } }).then((page) => {
    if (!ctx.alive()) return;
    if (!page.items.length) {
      put(list, empty('这里还没有券', h('a.btn.btn-primary', { href: '#/coupons' }, '去领券中心')));
      return;
    }
    put(list, ...page.items.map((c) => h('div.my-coupon', { style: S.ticket + (c.status === 'available' ? '' : ';' + S.dim), dataset: { coupon: c.id } },
      h('div', { style: S.face }, c.headline.replace(/^(满[\d.]+|无门槛)/, '')),
      h('div', { style: S.main }, h('strong', c.name), h('div.muted.small', c.headline),
        h('div.muted.small', `${dateText(c.valid_from)} 至 ${dateText(c.valid_until)}`)),
      h('span.muted.small.coupon-status', STATUS_ZH[c.status] || c.status))));
  }).catch((err) => ctx.alive() && put(list, h('div.error-box', say(err))));
  return h('div.page.my-coupons', topbar('我的优惠券', { backTo: '#/me' }), tabs, list);
}

// ---- 用券结算 → the one checkout ----------------------------------------------------------------

// The coupon picker is part of the one checkout (screens/checkout.js); an old link to #/checkout/coupons
// lands there, with whatever the product page or the cart put in for checkout.
function checkoutRedirect() {
  go('#/checkout', true);
  return loading();
}

// ---- hooks into the built-in screens -----------------------------------------------------------

function productSections(p) {
  const box = h('section.card.pd-promotions', { hidden: true });
  api('/promotions', { query: { product_id: p.id } }).then((rows) => {
    if (!rows.length) return;
    box.hidden = false;
    put(box, h('div.card-title', '促销'), h('div', rows.map((r) => h('span.promo-tag', { style: S.tag }, r.label))),
      h('a.muted.small', { href: '#/coupons' }, '领券中心 ›'));
  }).catch(() => {});
  return box;
}

function homeSections() {
  return h('a.card.coupon-banner', { href: localStorage.getItem(KEY_TOKEN) ? '#/coupons' : '#/login', style: S.ticket + ';display:flex;text-decoration:none' },
    h('div', { style: S.face }, '领券'), h('div', { style: S.main }, h('strong', '领券中心'), h('div.muted.small', '先领券，再下单更省')));
}

function meEntries() {
  return h('section.card.menu',
    h('a.menu-item', { href: '#/me/coupons' }, h('span', '我的优惠券')),
    h('a.menu-item', { href: '#/coupons' }, h('span', '领券中心')));
}

export const routes = [
  [/^\/coupons$/, centreScreen, { auth: true, tab: 'me' }],
  [/^\/me\/coupons$/, mineScreen, { auth: true, tab: 'me' }],
  [/^\/checkout\/coupons$/, checkoutRedirect, { auth: true }],
];
export { homeSections, meEntries, productSections };
