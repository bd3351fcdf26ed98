// 订单列表 and 订单详情: orders by status tab, an order's status, lines, price chain, refunds and actions
// (cancel, pay, receive, 申请售后).

import { api } from '../api.js';
import {
  ICONS, ORDER_STATUS, REFUND_STATUS, confirmBox, errorText, fmtTime, h, icon, img, price, toast, yuan,
} from '../ui.js';
import { busy, countdown, empty, featureSections, loading, put, setHashQuery, startPayment, stepRows, topbar } from '../kit.js';

// ---- an order's group (拼团) and what it owes ----------------------------------------------------

// A paid group order ships only once its group succeeds: until then it reads 拼团中 (not 待发货) and
// links to its group. The order says only its `source`; the group comes from 我的拼团 (GET
// /groupbuy/me/groups, one call per screen, asked only when a paid group order is on it).
const GROUP_SOURCE = 'groupbuy';

function groupLookup() {
  let asked = null;
  return (o) => {
    if (o.source !== GROUP_SOURCE || o.status !== 'paid') return Promise.resolve(null);
    if (!asked) {
      asked = api('/groupbuy/me/groups')
        .then((rows) => new Map(rows.filter((r) => r.order_id).map((r) => [r.order_id, r])))
        .catch(() => new Map()); // not known: the order reads as its own status says
    }
    return asked.then((byOrder) => {
      const g = byOrder.get(o.id);
      return g && g.group_status === 'forming' ? g : null;
    });
  };
}

const groupHref = (g) => `#/groupbuy/g/${g.group_id}`;
const seatsLeft = (g) => Math.max(0, g.size - g.paid_members);

/** What the order's amount is: 实付 once paid, 待付 while it waits to be paid, 应付 for one never paid. */
function amountLabel(o) {
  if (o.paid_fen > 0) return ['实付', o.paid_fen];
  return [o.status === 'pending_payment' ? '待付' : '应付', o.payable_fen];
}

// ---- 订单列表 ----------------------------------------------------------------------------------

const ORDER_TABS = [
  ['all', '全部', [null]],
  ['pending_payment', '待付款', ['pending_payment']],
  ['paid', '待发货', ['paid']],
  ['shipped', '待收货', ['shipped']],
  ['done', '已完成', ['received', 'completed']],
];

export function ordersScreen(ctx) {
  let groupOf = groupLookup();
  let tab = ORDER_TABS.find((t) => t[0] === ctx.query.get('status')) || ORDER_TABS[0];
  let cursors = {};
  let seq = 0;
  const list = h('div.order-list');
  const more = h('div.more');
  const tabs = h('nav.tabs', { role: 'tablist' }, ORDER_TABS.map(([key, label]) => {
    const b = h('button.tabs-item', { type: 'button', role: 'tab', dataset: { key } }, label);
    b.addEventListener('click', () => {
      tab = ORDER_TABS.find((t) => t[0] === key);
      setHashQuery('/orders', { status: key === 'all' ? '' : key });
      reload();
    });
    return b;
  }));

  function reload() {
    for (const b of tabs.children) {
      b.classList.toggle('active', b.dataset.key === tab[0]);
      b.setAttribute('aria-selected', b.dataset.key === tab[0] ? 'true' : 'false');
    }
    cursors = Object.fromEntries(tab[2].map((s) => [s || '', undefined]));
    groupOf = groupLookup();
    put(list, loading());
    put(more);
    load(false);
  }

  // A tab may cover several statuses (已完成 = received + completed): page each and merge, newest first.
  async function load(append) {
    const mine = ++seq;
    try {
      const wanted = Object.entries(cursors).filter(([, c]) => c !== null);
      const pages = await Promise.all(wanted.map(([status, cursor]) =>
        api('/orders', { query: { status, cursor, limit: 10 } }).then((pg) => [status, pg])));
      if (!ctx.alive() || mine !== seq) return;
      if (!append) put(list);
      const items = [];
      for (const [status, pg] of pages) {
        items.push(...pg.items);
        cursors[status] = pg.next_cursor || null;
      }
      items.sort((a, b) => b.id - a.id);
      list.append(...items.map((o) => orderCard(o, reload, ctx, groupOf)));
      if (!list.children.length) {
        put(list, empty('暂无相关订单', h('a.btn.btn-ghost', { href: '#/' }, '去逛逛')));
      } else if (Object.values(cursors).some((c) => c !== null)) {
        put(more, h('button.btn-more', { type: 'button', onclick: () => load(true) }, '加载更多'));
      } else {
        put(more, h('div.end', '— 没有更多了 —'));
      }
    } catch (err) {
      if (!ctx.alive()) return;
      if (!append) put(list, empty(`订单加载失败：${errorText(err)}`));
      ctx.failShown(err);
    }
  }

  reload();
  return h('div.page.orders', h('header.pagehead', h('h1', '我的订单')), tabs, list, more);
}

/** A virtual order (a top-up, a paid membership) has no lines: its goods step names what was bought. */
function virtualLine(o) {
  const goods = (o.steps || []).find((st) => st.kind === 'goods');
  return h('div.line.line-virtual',
    h('span.thumb.thumb-virtual', icon(o.source === 'wallet_topup' ? ICONS.wallet : ICONS.pay)),
    h('div.line-main', h('div.line-title', goods ? goods.label : '虚拟商品'), h('div.line-sku', '无需发货')),
    h('div.line-side', price(goods ? goods.amount_fen : o.goods_fen)));
}

function orderCard(o, reload, ctx, groupOf) {
  const count = o.lines.reduce((n, ln) => n + ln.qty, 0);
  const actions = h('div.ocard-actions');
  const statusEl = h(`span.status.status-${o.status}`, ORDER_STATUS[o.status] || o.status);
  groupOf(o).then((g) => {
    if (!g || !ctx.alive()) return;
    statusEl.textContent = '拼团中';
    statusEl.className = 'status status-grouping';
    actions.prepend(h('a.btn.btn-small.btn-primary.ocard-group', { href: groupHref(g), dataset: { groupId: String(g.group_id) } },
      `查看拼团 · 差${seatsLeft(g)}人`));
  });
  const [sumLabel, sumFen] = amountLabel(o);
  if (o.status === 'pending_payment') {
    const cancel = h('button.btn.btn-small.btn-ghost', { type: 'button' }, '取消订单');
    cancel.addEventListener('click', busy(cancel, async (e) => {
      e.preventDefault();
      if (!(await confirmBox('确定要取消这个订单吗？', '取消订单'))) return;
      try {
        await api(`/orders/${o.id}/cancel`, { method: 'POST' });
        toast('订单已取消');
        reload();
      } catch (err) {
        ctx.fail(err);
      }
    }));
    const payBtn = h('button.btn.btn-small.btn-primary', { type: 'button' }, '去支付');
    payBtn.addEventListener('click', busy(payBtn, async (e) => {
      e.preventDefault();
      try {
        await startPayment(o.id);
      } catch (err) {
        ctx.fail(err);
      }
    }));
    actions.append(cancel, payBtn);
  } else if (o.status === 'shipped') {
    const recv = h('button.btn.btn-small.btn-primary', { type: 'button' }, '确认收货');
    recv.addEventListener('click', busy(recv, async (e) => {
      e.preventDefault();
      if (!(await confirmBox('请确认已收到全部商品', '确认收货'))) return;
      try {
        await api(`/orders/${o.id}/receive`, { method: 'POST' });
        toast('已确认收货', 'ok');
        reload();
      } catch (err) {
        ctx.fail(err);
      }
    }));
    actions.append(recv);
  }
  actions.append(h('a.btn.btn-small.btn-ghost', { href: `#/orders/${o.id}` }, '查看详情'));
  return h('article.card.ocard', { dataset: { id: String(o.id) } },
    h('a.ocard-link', { href: `#/orders/${o.id}` },
      h('div.ocard-head', h('span.muted.small', `订单号 ${o.no}`), statusEl),
      o.lines.length ? o.lines.map((ln) => h('div.line',
        img(ln.image, ln.title),
        h('div.line-main', h('div.line-title', ln.title), h('div.line-sku', ln.sku_name)),
        h('div.line-side', price(ln.unit_price_fen), h('div.muted.small', `×${ln.qty}`)))) : virtualLine(o),
      h('div.ocard-sum', o.lines.length ? `共 ${count} 件  ${sumLabel} ` : `${sumLabel} `, price(sumFen, 'price-strong'))),
    actions);
}

// ---- 订单详情 ----------------------------------------------------------------------------------

const STATUS_HINT = {
  paid: '商家正在备货，请耐心等待',
  received: '感谢您的购买，期待再次光临',
  completed: '交易已完成',
  closed: '商品已全部退款，订单已关闭',
};

export function orderScreen(ctx) {
  const id = ctx.params[0];
  const root = h('div.page.order', topbar('订单详情', { backTo: '#/orders' }), loading());
  let reloads = 0;

  async function show() {
    let o;
    try {
      o = await api(`/orders/${id}`);
    } catch (err) {
      if (!ctx.alive()) return;
      put(root, topbar('订单详情', { backTo: '#/orders' }), empty(errorText(err), h('a.btn.btn-ghost', { href: '#/orders' }, '全部订单')));
      ctx.failShown(err);
      return;
    }
    if (!ctx.alive()) return;
    ctx.leave.forEach((fn) => fn());
    ctx.leave.length = 0;
    const group = await groupLookup()(o); // asked afresh each time: the group may have succeeded since
    if (!ctx.alive()) return;
    put(root, ...orderView(o, group, ctx, show, () => {
      // The pay deadline passed: the worker cancels the order within moments; look again a few times.
      if (reloads < 3) {
        reloads += 1;
        const t = setTimeout(show, 2500);
        ctx.onLeave(() => clearTimeout(t));
      }
    }));
  }
  show();
  return root;
}

function orderView(o, group, ctx, refresh, onExpired) {
  const hint = h('div.ostatus-hint');
  if (group) hint.textContent = `还差 ${seatsLeft(group)} 人成团，成团后商家发货；未成团将自动全额退款`;
  else if (o.status === 'pending_payment') countdown(ctx, o.pay_deadline, hint, (left) => `剩余 ${left}，超时订单将自动取消`, onExpired);
  else if (o.status === 'shipped') hint.textContent = `${o.carrier || '快递'} ${o.tracking_no || ''}`.trim() + ' · 商品已发出';
  else if (o.status === 'cancelled') hint.textContent = o.cancel_reason === 'timeout' ? '超时未支付，订单已自动取消' : '订单已取消';
  else hint.textContent = STATUS_HINT[o.status] || '';

  const statusIcon = group ? ICONS.clock : { pending_payment: ICONS.clock, paid: ICONS.box, shipped: ICONS.truck }[o.status] || ICONS.check;
  // A forming group's order takes no refund request (a failed group refunds every member in full).
  const refundable = !group && ['paid', 'shipped', 'received'].includes(o.status);

  const lines = o.lines.map((ln) => {
    const left = ln.qty - ln.refunded_qty - ln.refund_pending_qty;
    const notes = [];
    if (ln.refunded_qty) notes.push(`已退款 ${ln.refunded_qty} 件`);
    if (ln.refund_pending_qty) notes.push(`退款中 ${ln.refund_pending_qty} 件`);
    let refundBtn = null;
    if (refundable && left > 0) {
      // The one after-sales form (仅退款 / 退货退款, photos, the amount before submitting), this line chosen.
      refundBtn = h('a.btn.btn-small.btn-ghost.btn-refund',
        { href: `#/aftersales/new/${o.id}?line=${ln.id}`, dataset: { line: String(ln.id) } }, '申请售后');
    }
    return h('div.oline', { dataset: { line: String(ln.id) } },
      h('div.line',
        img(ln.image, ln.title),
        h('div.line-main', h('a.line-title', { href: `#/p/${ln.product_id}` }, ln.title), h('div.line-sku', ln.sku_name),
          notes.length ? h('div.line-note', notes.join(' · ')) : null),
        h('div.line-side', price(ln.unit_price_fen), h('div.muted.small', `×${ln.qty}`))),
      refundBtn ? h('div.oline-actions', refundBtn) : null);
  });

  const a = o.address;
  const info = [
    ['订单编号', o.no],
    ['下单时间', fmtTime(o.created_at)],
    ['支付时间', fmtTime(o.paid_at)],
    // 余额 ¥3.00 + 在线支付 ¥7.00: what paid it, tender by tender (only a split names more than one).
    ['支付方式', (o.paid_by || []).map((t) => (o.paid_by.length > 1 ? `${t.label} ¥${yuan(t.amount_fen)}` : t.label)).join(' + ')],
    ['发货时间', fmtTime(o.shipped_at)],
    ['物流信息', o.carrier ? `${o.carrier} ${o.tracking_no || ''}` : ''],
    ['收货时间', fmtTime(o.received_at)],
    ['取消时间', fmtTime(o.cancelled_at)],
    ['订单备注', o.remark],
  ].filter(([, v]) => v);

  const bar = h('div.actionbar.order-bar');
  if (o.status === 'pending_payment') {
    const cancel = h('button.btn.btn-ghost', { type: 'button' }, '取消订单');
    cancel.addEventListener('click', busy(cancel, async () => {
      if (!(await confirmBox('确定要取消这个订单吗？', '取消订单'))) return;
      try {
        await api(`/orders/${o.id}/cancel`, { method: 'POST' });
        toast('订单已取消');
        await refresh();
      } catch (err) {
        ctx.fail(err);
      }
    }));
    const payBtn = h('button.btn.btn-primary', { type: 'button' }, '去支付');
    payBtn.addEventListener('click', busy(payBtn, async () => {
      try {
        await startPayment(o.id);
      } catch (err) {
        ctx.fail(err);
        if (err.code === 'ORDER_NOT_PAYABLE' || err.code === 'ORDER_PAY_EXPIRED') await refresh();
      }
    }));
    bar.append(h('span.bar-total', `${amountLabel(o)[0]} `, price(amountLabel(o)[1], 'price-red')), cancel, payBtn);
  } else if (o.status === 'shipped') {
    const recv = h('button.btn.btn-primary', { type: 'button' }, '确认收货');
    recv.addEventListener('click', busy(recv, async () => {
      if (!(await confirmBox('请确认已收到全部商品', '确认收货'))) return;
      try {
        await api(`/orders/${o.id}/receive`, { method: 'POST' });
        toast('已确认收货', 'ok');
        await refresh();
      } catch (err) {
        ctx.fail(err);
      }
    }));
    bar.append(h('span.bar-total'), recv);
  }
  // 整单售后 (features/aftersales.js): every line left chosen; each line has its own 申请售后 for that line.
  if (refundable && o.lines.some((ln) => ln.qty > ln.refunded_qty + ln.refund_pending_qty)) {
    if (!bar.children.length) bar.append(h('span.bar-total'));
    bar.insertBefore(h('a.btn.btn-ghost.btn-aftersales', { href: `#/aftersales/new/${o.id}` }, '整单售后'), bar.children[1] || null);
  }

  return [
    topbar('订单详情', { backTo: '#/orders' }),
    h(`section.ostatus.ostatus-${group ? 'grouping' : o.status}`,
      h('div.ostatus-text', h('strong.ostatus-name', group ? '拼团中' : ORDER_STATUS[o.status] || o.status), hint,
        group ? h('a.ostatus-link', { href: groupHref(group), dataset: { groupId: String(group.group_id) } }, '查看拼团，邀请好友 ›') : null),
      icon(statusIcon, 'icon ostatus-icon')),
    a ? h('section.card.addr-show', icon(ICONS.pin, 'icon icon-accent'),
      h('div', h('div.addr-who', h('strong', a.name), h('span', a.phone)), h('div.addr-where', `${a.region} ${a.detail}`))) : null,
    o.lines.length ? h('section.card', h('div.card-title', '商品信息'), lines) : null, // none on a virtual order
    h('section.card', h('div.card-title', '价格明细'), h('div.steps', stepRows(o.steps),
      h('div.step.step-total', h('span', `${amountLabel(o)[0]}款`), price(amountLabel(o)[1], 'price-red')),
      o.refunded_fen ? h('div.step', h('span', '已退款'), price(o.refunded_fen)) : null)),
    o.refunds && o.refunds.length ? h('section.card.refunds', h('div.card-title', icon(ICONS.refund, 'icon icon-accent'), '售后记录'),
      o.refunds.map((r) => refundRow(r, o))) : null,
    h('section.card.oinfo', h('div.card-title', '订单信息'), info.map(([k, v]) => h('div.kv', h('span', k), h('span', v)))),
    // Features' cards under the order's details (联系客服): `orderSections(order, ctx)`.
    ...featureSections('orderSections', o, ctx),
    bar.children.length ? bar : null,
  ];
}

function refundRow(r, o) {
  const byId = Object.fromEntries(o.lines.map((ln) => [ln.id, ln]));
  const what = (r.lines || []).map((x) => `${(byId[x.line_id] || {}).title || '商品'}${byId[x.line_id] ? ' ' + byId[x.line_id].sku_name : ''} ×${x.qty}`);
  return h('div.refund', { dataset: { id: String(r.id), status: r.status } },
    h('div.refund-head', h('span', `退款单 ${r.id}`), h(`span.rstatus.rstatus-${r.status}`, REFUND_STATUS[r.status] || r.status)),
    h('div.refund-body',
      h('div', what.join('；') || '整单退款'),
      h('div.muted.small', `原因：${r.reason}`),
      r.reject_reason ? h('div.small.text-red', `拒绝原因：${r.reject_reason}`) : null,
      h('div.refund-foot', h('span.muted.small', fmtTime(r.created_at)), h('span', '退款金额 ', price(r.amount_fen, 'price-red'))),
      r.kind === 'after_sales' ? h('a.link.small', { href: `#/aftersales/${r.id}` }, '售后详情 ›') : null));
}

