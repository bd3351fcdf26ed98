// 拼团: the product page's group section, the share page, the group checkout and 我的拼团.

import { api } from '../api.js';
import { busy, empty, go, goLogin, loading, put, startPayment, topbar } from '../kit.js';
import { errorText, fmtCountdown, h, icon, ICONS, img, price, toast } from '../ui.js';

const KEY_ADDRESS = 'fm.address';
const KEY_TOKEN = 'fm.token';

const GROUP_STATUS = { pending: '待团长支付', forming: '拼团中', succeeded: '拼团成功', failed: '拼团失败', cancelled: '已取消' };
// Only what reads differently here than in the server's table (GET /api/v1/error-codes).
const ERRORS = {
  SOLD_OUT: '拼团库存已抢光',
};
const say = (err) => (err && ERRORS[err.code]) || errorText(err);

function short(g) {
  return g.short > 0 ? `还差${g.short}人` : '已满员';
}

/** Tick "剩余 hh:mm:ss" into el; `skew` is server time minus ours. */
function ticker(ctx, iso, el, skew, done) {
  const end = Date.parse(iso);
  if (Number.isNaN(end)) return;
  const tick = () => {
    const left = end - (Date.now() + skew);
    el.textContent = left > 0 ? `剩余 ${fmtCountdown(left)}` : done;
  };
  tick();
  const t = setInterval(tick, 1000);
  ctx.onLeave(() => clearInterval(t));
}

function buyHash(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  return `#/groupbuy/buy?${q}`;
}

function needLogin(next) {
  if (localStorage.getItem(KEY_TOKEN)) return false;
  toast('请先登录');
  goLogin(next);
  return true;
}

// ---- 商品页：拼团区 ------------------------------------------------------------------------------

function productSections(product, ctx) {
  const box = h('section.card.gb-section', { dataset: { feature: 'groupbuy' }, hidden: true });
  api('/groupbuy/activities', { query: { product_id: product.id } }).then(async (acts) => {
    if (!ctx.alive() || !acts.length) return;
    const act = acts[0];
    const cheapest = act.skus.reduce((a, b) => (a.price_fen <= b.price_fen ? a : b));
    const sku = cheapest.sku_id;
    const list = h('div.gb-groups');
    const openBtn = h('button.btn.btn-primary.gb-open', { type: 'button' }, `发起${act.group_size}人团`);
    openBtn.addEventListener('click', () => {
      if (needLogin(`/p/${product.id}`)) return;
      go(buyHash({ a: act.id, sku }));
    });
    const quickBtn = h('button.btn.btn-ghost.gb-quick', { type: 'button' }, '一键参团');
    quickBtn.addEventListener('click', () => {
      if (needLogin(`/p/${product.id}`)) return;
      go(buyHash({ a: act.id, sku, quick: 1 }));
    });
    put(box,
      h('div.card-title', h('span', `${act.group_size}人拼团`), act.new_user_required ? h('span.tag', '老带新') : null),
      h('div.gb-price', '拼团价 ', price(cheapest.price_fen, 'price-red'),
        act.leader_discount_fen ? h('span.muted.small', ` 团长再减 ¥${(act.leader_discount_fen / 100).toFixed(2)}`) : null),
      list,
      h('div.gb-actions', { style: 'display:flex;gap:8px;margin-top:8px' }, openBtn, quickBtn));
    box.hidden = false;
    try {
      const groups = await api(`/groupbuy/activities/${act.id}/groups`, { query: { limit: 5 } });
      if (!ctx.alive()) return;
      put(list, groups.length ? groups.map((g) => h('a.gb-group', {
        href: `#/groupbuy/g/${g.id}`, dataset: { groupId: String(g.id) },
        style: 'display:flex;justify-content:space-between;padding:6px 0;border-top:1px solid #eee',
      }, h('span', g.leader_nickname || '团长'), h('span.price-red', short(g)), h('span.btn.btn-sm', '去参团')))
        : h('p.muted.small', '暂时没有正在拼的团，快来开团吧'));
    } catch (err) {
      put(list);
    }
  }).catch(() => {});
  return box;
}

// ---- 分享页 -------------------------------------------------------------------------------------

// A group opens in the same commit that confirms its leader's payment, but the gateway's notification
// may reach us a moment after the shopper's phone says "paid": a group not open yet is asked again
// after these pauses (ms) before the page says to come back later.
const OPEN_RETRY_MS = [800, 1500, 2500, 4000];

function groupScreen(ctx) {
  const gid = ctx.params[0];
  const root = h('div.page.gb-share', topbar('拼团详情', { backTo: '#/' }), loading());
  let tries = 0;
  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));

  function confirming(final) {
    const again = h('button.btn.btn-ghost.gb-retry', { type: 'button' }, '刷新');
    again.addEventListener('click', () => {
      tries = 0;
      load();
    });
    put(root, topbar('拼团详情', { backTo: '#/' }),
      h('section.card.gb-status.gb-confirming', { dataset: { status: 'confirming' } },
        h('div.card-title', '团长支付确认中'),
        h('p.muted.small', final ? '团长还没有完成支付，稍后再来看看吧' : '正在确认团长的支付，马上就好…'),
        final ? again : h('div.loading', h('div.spinner'))));
  }

  /** true if another try is left (and scheduled) */
  function retry() {
    if (tries >= OPEN_RETRY_MS.length) return false;
    timer = setTimeout(load, OPEN_RETRY_MS[tries]);
    tries += 1;
    confirming(false);
    return true;
  }

  function load() {
    api(`/groupbuy/groups/${gid}`).then((g) => {
      if (!ctx.alive()) return;
      // The leader sees their own group while it waits: if the payment is on its way, it opens shortly.
      if (g.status === 'pending' && retry()) return;
      render(g);
    }).catch((err) => {
      if (!ctx.alive()) return;
      if (err && err.code === 'GROUP_NOT_OPEN') {
        if (!retry()) confirming(true);
        return;
      }
      put(root, topbar('拼团详情', { backTo: '#/' }), empty(say(err), h('a.btn.btn-ghost', { href: '#/' }, '返回首页')));
    });
  }

  function render(g) {
    const skew = Date.parse(g.server_time) - Date.now();
    const left = h('div.gb-countdown', { style: 'font-size:18px;margin:8px 0' });
    const seats = [];
    for (const m of g.members) {
      seats.push(h('div.gb-member', { dataset: { role: m.role }, style: 'text-align:center;width:64px' },
        m.avatar_url ? img(m.avatar_url, m.nickname, 'gb-avatar') : h('div.gb-avatar', { style: 'width:48px;height:48px;border-radius:50%;background:#fde2e2;margin:auto;line-height:48px' }, (m.nickname || '?').slice(0, 1)),
        h('div.small', m.role === 'leader' ? '团长' : (m.is_virtual ? '虚拟成员' : m.nickname))));
    }
    for (let i = 0; i < g.short; i += 1) {
      seats.push(h('div.gb-member.gb-empty', { style: 'text-align:center;width:64px' },
        h('div', { style: 'width:48px;height:48px;border-radius:50%;border:1px dashed #ccc;margin:auto;line-height:48px' }, '?'),
        h('div.small.muted', '待加入')));
    }
    const sku = g.skus[0];
    let action = null;
    if (g.status === 'forming') {
      if (g.me) {
        action = h('button.btn.btn-primary.btn-block.gb-share-btn', { type: 'button' }, '邀请好友参团');
        action.addEventListener('click', async () => {
          const url = `${location.origin}/shop/#/groupbuy/g/${g.id}`;
          try {
            await navigator.clipboard.writeText(url);
            toast('链接已复制，快发给好友吧', 'ok');
          } catch (e) {
            toast(url);
          }
        });
      } else if (g.seats_left > 0) {
        action = h('button.btn.btn-primary.btn-block.gb-join', { type: 'button' }, `参团 ¥${(sku.price_fen / 100).toFixed(2)}`);
        action.addEventListener('click', () => {
          if (needLogin(`/groupbuy/g/${g.id}`)) return;
          go(buyHash({ g: g.id, a: g.activity_id, sku: sku.sku_id }));
        });
      } else {
        action = h('p.muted', '名额已被占满，若有人未按时支付会重新开放');
      }
      ticker(ctx, g.expires_at, left, skew, '已到期，结果处理中');
    } else {
      left.textContent = GROUP_STATUS[g.status] || g.status;
      if (g.status === 'failed') left.append(h('div.small.muted', '拼团失败，已原路退款'));
    }
    put(root,
      topbar('拼团详情', { backTo: '#/' }),
      h('section.card',
        h('div.line', img(g.product.image, g.product.title),
          h('div.line-main', h('div.line-title', g.product.title), h('div.muted.small', `${g.size}人团${g.new_user_required ? ' · 老带新' : ''}`)),
          h('div.line-side', price(sku.price_fen, 'price-red')))),
      h('section.card.gb-status', { dataset: { status: g.status } },
        h('div.card-title', GROUP_STATUS[g.status] || g.status, h('span.gb-short', g.status === 'forming' ? ` · ${short(g)}` : '')),
        left,
        h('div.gb-members', { style: 'display:flex;flex-wrap:wrap;gap:8px;margin:12px 0' }, seats),
        action,
        g.me && g.me.order_id ? h('a.link.small', { href: `#/orders/${g.me.order_id}` }, '查看我的订单') : null));
  }

  load();
  return root;
}

// ---- 拼团下单 -----------------------------------------------------------------------------------

const FIELDS = [['name', '收货人'], ['phone', '手机号'], ['region', '所在地区'], ['detail', '详细地址']];

function buyScreen(ctx) {
  const q = ctx.query;
  const activityId = q.get('a');
  const groupId = q.get('g');
  const quick = q.get('quick') === '1';
  const skuId = Number(q.get('sku'));
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(KEY_ADDRESS) || '{}') || {};
  } catch (e) {
    saved = {};
  }
  const inputs = {};
  const rows = FIELDS.map(([key, label]) => {
    inputs[key] = h('input', { name: key, value: saved[key] || '', placeholder: `请填写${label}`, maxlength: 100 });
    return h('label.form-row', h('span.form-label', label), inputs[key]);
  });
  const title = groupId ? '参加拼团' : (quick ? '一键参团' : '发起拼团');
  const submit = h('button.btn.btn-primary.btn-submit.gb-submit', { type: 'button' }, groupId || quick ? '参团并支付' : '开团并支付');
  submit.addEventListener('click', busy(submit, async () => {
    const address = {};
    for (const [key] of FIELDS) address[key] = inputs[key].value.trim();
    if (!address.name || !/^\+?[0-9()（）\- ]{5,32}$/.test(address.phone) || !address.region || !address.detail) {
      toast('请完整填写收货地址');
      return;
    }
    localStorage.setItem(KEY_ADDRESS, JSON.stringify(address));
    const body = { sku_id: skuId, qty: 1, address };
    let res;
    try {
      if (groupId) res = await api(`/groupbuy/groups/${groupId}/join`, { body });
      else if (quick) res = await api(`/groupbuy/activities/${activityId}/quick-join`, { body });
      else res = await api(`/groupbuy/activities/${activityId}/groups`, { body });
    } catch (err) {
      toast(say(err), 'error');
      if (err.status === 401) ctx.fail(err);
      return;
    }
    try {
      await startPayment(res.order.id, true);
    } catch (err) {
      ctx.fail(err);
      go(`#/orders/${res.order.id}`, true);
    }
  }));
  return h('div.page.checkout.gb-buy',
    topbar(title, { backTo: '#/' }),
    h('section.card.addr-card', h('div.card-title', icon(ICONS.pin, 'icon icon-accent'), '收货地址'), rows),
    h('section.card', h('p.muted.small', '拼团价下单；成团后发货，未成团自动原路退款。')),
    h('div.submitbar', h('span.submit-total'), submit));
}

// ---- 我的拼团 -----------------------------------------------------------------------------------

function mineScreen(ctx) {
  const list = h('div', loading());
  api('/groupbuy/me/groups').then((rows) => {
    if (!ctx.alive()) return;
    put(list, rows.length ? rows.map((r) => h('a.card.gb-mine', {
      href: `#/groupbuy/g/${r.group_id}`, dataset: { groupId: String(r.group_id), status: r.group_status },
      style: 'display:flex;justify-content:space-between;padding:12px',
    }, h('span', `${r.role === 'leader' ? '我开的团' : '我参的团'} #${r.group_id}`),
    h('span.muted', `${r.paid_members}/${r.size}`),
    h('span.price-red', GROUP_STATUS[r.group_status] || r.group_status))) : empty('还没有参加过拼团'));
  }).catch((err) => {
    put(list);
    ctx.fail(err);
  });
  return h('div.page.gb-mine-page', topbar('我的拼团', { backTo: '#/me' }), list);
}

function meEntries() {
  return h('section.card.menu',
    h('a.menu-item', { href: '#/groupbuy/mine' }, h('span', '我的拼团'), icon(ICONS.chevron, 'icon chev')));
}

export const routes = [
  [/^\/groupbuy\/g\/(\d+)$/, groupScreen, {}],
  [/^\/groupbuy\/buy$/, buyScreen, { auth: true }],
  [/^\/groupbuy\/mine$/, mineScreen, { auth: true, tab: 'me' }],
];
export { productSections, meEntries };
