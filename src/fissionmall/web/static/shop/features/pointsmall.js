// 积分商城: the items as cards (300积分 or 300积分+¥9.90, what is left), an item's page with 立即兑换 (the
// shipping address for goods), the result (a coupon in 我的优惠券, an order paid at the cashier for its cash
// part and shipping, or paid at once when nothing is left to pay), 我的兑换, and an entry in 我的.

import { api, randomId, serverNow } from '../api.js';
import { busy, empty, goLogin, loading, put, startPayment, topbar } from '../kit.js';
import { confirmBox, errorText, fmtTime, h, img, sheet, toast, yuan } from '../ui.js';
import { addressBlock } from './addresses.js';

const KEY_TOKEN = 'fm.token';
// Only what reads differently here than in the server's table (GET /api/v1/error-codes).
const ERRORS = {
  INSUFFICIENT_POINTS: '积分不足，去赚更多积分吧',
  ADDRESS_REQUIRED: '请先添加收货地址',
};
const say = (err) => (err && ERRORS[err.code]) || errorText(err);
const STATUS_ZH = { granted: '已到账', ordered: '待支付', paid: '已兑换', cancelled: '已取消', refunded: '已退款' };

const S = {
  grid: 'display:grid;grid-template-columns:1fr 1fr;gap:10px;padding:10px 12px',
  card: 'display:flex;flex-direction:column;background:#fff;border-radius:12px;overflow:hidden;text-decoration:none;color:inherit',
  face: 'width:100%;aspect-ratio:1/1;display:flex;flex-direction:column;gap:6px;align-items:center;justify-content:center;background:#fff5f5;color:#f23d3d;font-weight:700;font-size:22px',
  faceNote: 'font-size:13px;font-weight:500',
  img: 'width:100%;aspect-ratio:1/1;object-fit:cover;display:block',
  body: 'padding:8px 10px;display:flex;flex-direction:column;gap:4px;flex:1',
  points: 'color:#f26b1d;font-weight:700',
  head: 'display:flex;justify-content:space-between;align-items:center;padding:14px 16px;margin:10px 12px 0;border-radius:12px;background:linear-gradient(90deg,#ff8a3d,#f23d3d);color:#fff',
  row: 'display:flex;justify-content:space-between;align-items:center;padding:10px 12px;margin:10px 12px;background:#fff;border-radius:12px',
};

const loggedIn = () => Boolean(localStorage.getItem(KEY_TOKEN));

function picture(it, cls = 'thumb') {
  if (it.image_url) return img(it.image_url, it.title, cls);
  return h('div.pm-face', { style: S.face }, it.kind === 'coupon' ? '券' : '礼',
    it.coupon_headline ? h('small', { style: S.faceNote }, it.coupon_headline) : null);
}

// The list's tiles are squares side by side, a picture or the coupon's face alike.
function tile(it) {
  const el = picture(it, 'pm-img');
  if (it.image_url) el.setAttribute('style', S.img);
  return el;
}

function pointsText(it) {
  return h('span.pm-price', { style: S.points }, it.price_text);
}

function leftText(it) {
  if (it.units_left <= 0) return '已兑完';
  return `剩余 ${it.units_left} 件`;
}

/** The tile's button: 兑换, 已兑完, or 积分不足 (greyed) once the balance is known to be short. */
function goButton(it, balance) {
  const btn = h('span.btn.btn-primary.btn-small.pm-go', { style: 'margin-top:auto' }, it.units_left > 0 ? '兑换' : '已兑完');
  balance.then((n) => {
    if (it.units_left > 0 && n !== null && n < it.points) {
      btn.textContent = '积分不足';
      btn.className = 'btn btn-ghost btn-small pm-go';
    }
  });
  return btn;
}

/** The shopper's balance (GET /me `points`, null until the points tool fills it). */
async function myPoints() {
  if (!loggedIn()) return null;
  try {
    const me = await api('/me');
    return me.points === undefined ? null : me.points;
  } catch (err) {
    return null;
  }
}

// ---- 积分商城 -------------------------------------------------------------------------------------

function mallScreen(ctx) {
  const head = h('div.pm-head', { style: S.head }, h('strong', '积分商城'), h('span.pm-balance', ''));
  const list = h('div', loading());
  const balance = myPoints();
  balance.then((n) => {
    if (!ctx.alive()) return;
    put(head.querySelector('.pm-balance'), n === null ? (loggedIn() ? '' : '登录查看我的积分') : `我的积分 ${n}`);
  });
  api('/points/mall').then((items) => {
    if (!ctx.alive()) return;
    if (!items.length) {
      put(list, empty('积分商城暂时没有可兑换的商品'));
      return;
    }
    put(list, h('div.pm-grid', { style: S.grid }, items.map((it) =>
      h('a.pm-card', { style: S.card, href: `#/points-mall/${it.id}`, dataset: { item: it.id } },
        tile(it),
        h('div', { style: S.body },
          h('strong.pm-title', it.title),
          pointsText(it),
          h('span.muted.small.pm-left', leftText(it)),
          goButton(it, balance))))));
  }).catch((err) => ctx.alive() && put(list, h('div.error-box', say(err))));
  return h('div.page.points-mall', topbar('积分商城', { backTo: '#/me' }), head, list,
    loggedIn() ? h('p.footnote', h('a', { href: '#/me/points-mall' }, '我的兑换记录')) : null);
}

// ---- 兑换详情 ------------------------------------------------------------------------------------

function chooseAddress(book, current) {
  return sheet('选择收货地址', (close) => h('div', book.map((a) =>
    h('button.menu-item.addr-pick', { type: 'button', style: 'display:block;width:100%;text-align:left', 'aria-pressed': String(current && a.id === current.id), onclick: () => close(a) },
      addressBlock(a))),
  h('a.link.small', { href: '#/me/addresses/new' }, '新增收货地址')));
}

function itemScreen(ctx) {
  const id = ctx.params[0];
  const box = h('div', loading());
  const idem = randomId('pm-'); // one tap = one redemption, however often the request is retried
  let chosen = null;
  let book = null;
  const addrBox = h('section.card.pm-address');

  function showAddress() {
    if (!book) return put(addrBox, loading());
    if (!chosen) {
      return put(addrBox, h('div.card-title', '收货地址'),
        h('a.btn.btn-ghost.btn-small', { href: '#/me/addresses/new' }, '添加收货地址'));
    }
    const change = h('button.link.small', { type: 'button' }, '更换');
    change.addEventListener('click', async () => {
      const a = await chooseAddress(book, chosen);
      if (a) {
        chosen = a;
        showAddress();
      }
    });
    put(addrBox, h('div.card-title', '收货地址'), h('div.addr-chosen', { dataset: { id: String(chosen.id) } }, addressBlock(chosen)), change);
  }

  function result(res) {
    const lines = [h('div.pm-done', { style: 'text-align:center;padding:24px 12px' },
      h('div', { style: 'font-size:40px;color:#22a06b' }, '✓'),
      h('h2', '兑换成功'),
      h('p.muted', `消耗 ${res.points_spent} 积分`))];
    if (res.coupon) {
      lines.push(h('section.card', h('div.card-title', res.coupon.name), h('p.muted.small', `有效期至 ${String(res.coupon.valid_until).slice(0, 10)}`),
        h('a.btn.btn-primary', { href: '#/me/coupons' }, '查看我的优惠券')));
    } else if (res.order && res.order.status === 'pending_payment') {
      const pay = h('button.btn.btn-primary.pm-pay', { type: 'button' }, `去支付 ¥${yuan(res.order.payable_fen)}`);
      pay.addEventListener('click', busy(pay, async () => {
        try {
          await startPayment(res.order.id, true);
        } catch (err) {
          ctx.fail(err);
        }
      }));
      lines.push(h('section.card', h('p.small', '积分已扣除，请在 30 分钟内支付加价金额和运费，超时订单自动取消、积分退回。'), pay));
    } else if (res.order) {
      lines.push(h('section.card', h('p.small', '订单已提交，商家发货后可在订单中查看物流。'),
        h('a.btn.btn-primary', { href: `#/orders/${res.order.id}` }, '查看订单')));
    }
    lines.push(h('p.footnote', h('a', { href: '#/points-mall' }, '继续逛积分商城')));
    put(box, ...lines);
  }

  api(`/points/mall/${id}`).then(async (it) => {
    if (!ctx.alive()) return;
    const balance = await myPoints();
    if (!ctx.alive()) return;
    const now = serverNow();
    const early = it.starts_at && Date.parse(it.starts_at) > now;
    const late = it.ends_at && Date.parse(it.ends_at) <= now;
    const why = early ? '未开始' : (late ? '已结束' : (it.units_left <= 0 ? '已兑完' : (it.my_left === 0 ? '已达兑换上限' : '')));
    const btn = h('button.btn.btn-primary.btn-submit.pm-redeem', { type: 'button', disabled: Boolean(why) }, why || '立即兑换');
    const facts = [
      h('div', pointsText(it), it.price_fen ? h('s.muted.small', ` ¥${yuan(it.price_fen)}`) : null),
      it.coupon_headline ? h('div.small', it.coupon_headline) : null,
      it.sku_name ? h('div.muted.small', it.sku_name) : null,
      h('div.muted.small.pm-left', leftText(it)),
      early ? h('div.small.pm-start', `${fmtTime(it.starts_at)} 开始兑换`) : null,
      it.per_user_limit ? h('div.muted.small', `每人限兑 ${it.per_user_limit} 件${it.my_left !== null ? `，还可兑 ${it.my_left} 件` : ''}`) : null,
      balance !== null ? h('div.small.pm-balance', `我的积分 ${balance}`) : null,
    ];
    const parts = [h('div.pm-hero', { style: 'background:#fff' }, picture(it, 'pd-img')),
      h('section.card.pm-info', h('h2.pm-title', it.title), ...facts)];
    if (it.kind === 'product') {
      parts.push(addrBox);
      if (loggedIn()) {
        showAddress();
        api('/me/addresses').then((r) => {
          book = r.items;
          chosen = book.find((a) => a.is_default) || book[0] || null;
          if (ctx.alive()) showAddress();
        }).catch((err) => ctx.failShown && ctx.failShown(err));
      } else put(addrBox, h('div.muted.small', '登录后选择收货地址'));
      if (it.cash_fen) parts.push(h('p.muted.small', { style: 'padding:0 12px' }, `另需支付 ¥${yuan(it.cash_fen)}（运费另计）`));
    }
    btn.addEventListener('click', busy(btn, async () => {
      if (!loggedIn()) {
        toast('请先登录');
        goLogin(`#/points-mall/${id}`);
        return;
      }
      if (it.kind === 'product' && !chosen) {
        toast('请先添加收货地址');
        return;
      }
      const cost = it.cash_fen ? `${it.points} 积分 + ¥${yuan(it.cash_fen)}` : `${it.points} 积分`;
      if (!(await confirmBox(`确认用 ${cost} 兑换「${it.title}」？`, '确认兑换'))) return;
      const body = it.kind === 'product' ? { qty: 1, address_id: chosen.id } : { qty: 1 };
      try {
        const res = await api(`/points/mall/${id}/redeem`, { body, idem });
        if (ctx.alive()) result(res);
      } catch (err) {
        toast(say(err), 'error');
        if (err.status === 401) ctx.fail(err);
      }
    }));
    parts.push(h('div.action-bar.pm-actions', { style: 'padding:12px' }, btn));
    put(box, ...parts);
  }).catch((err) => ctx.alive() && put(box, h('div.error-box', say(err))));
  return h('div.page.points-mall-item', topbar('兑换详情', { backTo: '#/points-mall' }), box);
}

// ---- 我的兑换 ------------------------------------------------------------------------------------

function mineScreen(ctx) {
  const list = h('div', loading());
  api('/me/points-mall/redemptions', { query: { limit: 50 } }).then((page) => {
    if (!ctx.alive()) return;
    if (!page.items.length) {
      put(list, empty('还没有兑换记录', h('a.btn.btn-primary', { href: '#/points-mall' }, '去积分商城')));
      return;
    }
    put(list, ...page.items.map((r) => {
      const link = r.order ? h('a.link.small', { href: `#/orders/${r.order.id}` }, '查看订单')
        : (r.coupon ? h('a.link.small', { href: '#/me/coupons' }, '查看优惠券') : null);
      return h('div.pm-record', { style: S.row, dataset: { redemption: r.id } },
        h('div', h('strong', r.title), h('div.muted.small', `${r.points_spent} 积分${r.cash_fen ? ` + ¥${yuan(r.cash_fen)}` : ''}`)),
        h('div', { style: 'text-align:right' }, h('div.small.pm-status', STATUS_ZH[r.status] || r.status), link));
    }));
  }).catch((err) => ctx.alive() && put(list, h('div.error-box', say(err))));
  return h('div.page.my-redemptions', topbar('我的兑换', { backTo: '#/points-mall' }), list);
}

// ---- hooks into the built-in screens -----------------------------------------------------------

function meEntries() {
  return h('section.card.menu',
    h('a.menu-item', { href: '#/points-mall' }, h('span', '积分商城')),
    h('a.menu-item', { href: '#/me/points-mall' }, h('span', '我的兑换')));
}

export const routes = [
  [/^\/points-mall$/, mallScreen, { tab: 'me' }],
  [/^\/points-mall\/(\d+)$/, itemScreen, { tab: 'me' }],
  [/^\/me\/points-mall$/, mineScreen, { auth: true, tab: 'me' }],
];
export { meEntries };
