// 优惠券与促销: 领券中心, 我的优惠券, promotion labels and tier hints on the product page,
// and checkout with coupons (the best one picked, the others with why they do not apply).

import { api } from '../api.js';
import { busy, empty, loading, put, startPayment, stepRows, topbar } from '../kit.js';
import { errorText, h, img, price, sheet, toast, yuan } from '../ui.js';

const KEY_CHECKOUT = 'fm.checkout';
const KEY_ADDRESS = 'fm.address';
const KEY_TOKEN = 'fm.token';

const say = errorText; // every coupon code reads as the server's table says
const STATUS_ZH = { available: '未使用', locked: '下单占用中', used: '已使用', expired: '已过期' };

const S = {
  ticket: 'display:flex;align-items:center;gap:12px;padding:12px;margin:10px 12px;border-radius:12px;background:#fff5f5;border:1px solid #ffd6d6',
  face: 'min-width:84px;text-align:center;color:#f23d3d;font-weight:700;font-size:20px',
  main: 'flex:1;min-width:0',
  tag: 'display:inline-block;margin:0 6px 4px 0;padding:2px 8px;border-radius:999px;background:#fff0e6;color:#f26b1d;font-size:12px',
  hint: 'color:#f26b1d;font-size:13px;margin:4px 0',
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

// ---- 用券结算 ------------------------------------------------------------------------------------

function readJSON(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

function checkoutScreen(ctx) {
  const state = readJSON(KEY_CHECKOUT);
  if (!state || !Array.isArray(state.items) || !state.items.length) {
    return h('div.page', topbar('确认订单'), empty('没有待结算的商品', h('a.btn.btn-primary', { href: '#/' }, '去逛逛')));
  }
  let choice = { couponId: null, none: false };
  let last = null;
  const addr = readJSON(KEY_ADDRESS) || {};
  const fields = {};
  const addrRows = [['name', '收货人'], ['phone', '手机号'], ['region', '所在地区'], ['detail', '详细地址']].map(([k, label]) => {
    fields[k] = h('input', { name: k, value: addr[k] || '', placeholder: label, maxlength: 100 });
    return h('label.form-row', h('span.form-label', label), fields[k]);
  });
  const linesBox = h('div', loading());
  const couponRow = h('button.coupon-row', { type: 'button', style: 'display:flex;width:100%;justify-content:space-between;padding:10px 0;border:0;background:none;font-size:14px' });
  const hintsBox = h('div.tier-hints');
  const stepsBox = h('div.steps');
  const totalBox = h('span.submit-total');
  const submit = h('button.btn.btn-primary.btn-submit', { type: 'button', disabled: true }, '提交订单');

  async function refresh() {
    submit.disabled = true;
    const body = { items: state.items };
    if (choice.couponId) body.coupon_id = choice.couponId;
    try {
      last = await api('/coupons/checkout-preview' + (choice.none ? '?pick_best=false' : ''), { body });
    } catch (err) {
      if (!ctx.alive()) return;
      toast(say(err));
      if (choice.couponId) {
        choice = { couponId: null, none: false };
        refresh();
      }
      return;
    }
    if (!ctx.alive()) return;
    const q = last;
    put(linesBox, ...q.lines.map((ln) => h('div.line', img(ln.image, ln.title),
      h('div.line-main', h('div.line-title', ln.title), h('div.line-sku', ln.sku_name)),
      h('div.line-side', price(ln.unit_price_fen), h('div.muted.small', `×${ln.qty}`)))));
    const usable = q.coupons_available.length;
    put(couponRow, h('span', '优惠券'),
      q.coupon ? h('span.price-red.chosen-coupon', `${q.coupon.name} -¥${yuan(q.coupon.discount_fen)}`)
        : h('span.muted', usable ? `${usable} 张可用` : '无可用券'));
    put(hintsBox, ...(q.hints || []).map((t) => h('div.tier-hint', { style: S.hint }, t)));
    put(stepsBox, ...stepRows(q.steps), h('div.step.step-total', h('span', '实付款'), price(q.payable_fen, 'price-red')));
    put(totalBox, h('span.small', '合计：'), price(q.payable_fen, 'price-red'));
    submit.disabled = false;
  }

  couponRow.addEventListener('click', async () => {
    if (!last) return;
    const picked = await sheet('选择优惠券', (close) => [
      ...last.coupons_available.map((c) => h('button.coupon-pick', { type: 'button', style: S.ticket + ';width:calc(100% - 24px);text-align:left', dataset: { coupon: c.id }, onclick: () => close({ id: c.id }) },
        h('div', { style: S.main }, h('strong', c.name), h('div.muted.small', c.headline)),
        h('span.price-red', `省¥${yuan(c.discount_fen)}`))),
      ...last.coupons_unavailable.map((c) => h('div.coupon-unusable', { style: S.ticket + ';' + S.dim },
        h('div', { style: S.main }, h('strong', c.name), h('div.muted.small', c.headline)),
        h('span.small.reason', c.reason))),
      h('button.btn.btn-ghost.btn-block', { type: 'button', onclick: () => close({ none: true }) }, '不使用优惠券'),
    ]);
    if (!picked) return;
    choice = picked.none ? { couponId: null, none: true } : { couponId: picked.id, none: false };
    refresh();
  });

  submit.addEventListener('click', busy(submit, async () => {
    const address = {};
    for (const k of Object.keys(fields)) address[k] = fields[k].value.trim();
    if (!address.name || !address.phone || !address.region || !address.detail) {
      toast('请填写完整的收货地址');
      return;
    }
    localStorage.setItem(KEY_ADDRESS, JSON.stringify(address));
    const body = { items: state.items, address };
    if (last && last.coupon) body.coupon_id = last.coupon.id;
    let order;
    try {
      order = await api('/orders', { body, idem: 'order-' + Math.random().toString(36).slice(2) + Date.now() });
    } catch (err) {
      toast(say(err));
      return;
    }
    localStorage.removeItem(KEY_CHECKOUT);
    await startPayment(order.id, true);
  }));

  refresh();
  return h('div.page.checkout.coupon-checkout', topbar('确认订单'),
    h('section.card.addr-card', h('div.card-title', '收货地址'), addrRows),
    h('section.card', h('div.card-title', '商品信息'), linesBox, hintsBox),
    h('section.card', couponRow),
    h('section.card', h('div.card-title', '价格明细'), stepsBox),
    h('div.submitbar', totalBox, submit));
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
  [/^\/checkout\/coupons$/, checkoutScreen, { auth: true }],
];
export { homeSections, meEntries, productSections };
