// 付费会员 (尊享会员): #/me/vip lists the plans as cards with their benefits (buy → the cashier), then the
// shopper's plan, expiry, the coupons received, renewal and the cooling-off refund; a 我的 entry; on the
// product page a 会员价 banner (¥x 会员价, 开通会员 for non-members) and the 会员专享 mark.

import { api } from '../api.js';
import { busy, empty, loading, put, startPayment, topbar } from '../kit.js';
import { confirmBox, errorText, fmtTime, h, icon, ICONS, price, toast, yuan } from '../ui.js';

const KEY_TOKEN = 'fm.token';
const S = {
  card: 'margin:10px 12px;padding:14px;border-radius:12px;background:linear-gradient(135deg,#2b2118,#5a4330);color:#f7e3c3',
  name: 'font-size:18px;font-weight:700',
  line: 'font-size:13px;margin:4px 0;opacity:.9',
  banner: 'display:flex;align-items:center;justify-content:space-between;gap:8px;margin:8px 12px;padding:8px 12px;border-radius:10px;background:#2b2118;color:#f7e3c3',
  tag: 'display:inline-block;padding:1px 8px;border-radius:999px;background:#f7e3c3;color:#2b2118;font-size:12px;margin-right:6px;white-space:nowrap',
  join: 'flex:none;background:linear-gradient(135deg,#f7e3c3,#e6c38f);color:#2b2118;font-weight:600',
  save: 'font-size:12px;opacity:.8;margin-left:6px',
  link: 'color:#f7e3c3;text-decoration:underline;margin-left:6px',
};

async function buy(planId) {
  const order = await api('/membership/subscribe', { body: { plan_id: planId } });
  await startPayment(order.id);
}

function planCard(p, mine) {
  const btn = h('button.btn.btn-primary', { type: 'button', dataset: { plan: p.id } }, mine && mine.active ? '续费' : '立即开通');
  btn.addEventListener('click', busy(btn, async () => {
    try {
      await buy(p.id);
    } catch (err) {
      toast(errorText(err));
    }
  }));
  return h('div.vip-plan', { style: S.card, dataset: { planId: p.id } },
    h('div', { style: S.name }, p.name),
    h('div', { style: 'margin:6px 0' }, price(p.price_fen), h('span', { style: 'font-size:13px' }, ` / ${p.days}天`)),
    ...p.benefits.map((b) => h('div.vip-benefit', { style: S.line }, `· ${b}`)),
    h('div', { style: 'margin-top:10px' }, btn));
}

function statusCard(mine, reload) {
  if (!mine.plan) return null;
  const box = h('section.card.vip-status', { style: S.card },
    h('div', { style: S.name }, mine.active ? `${mine.plan.name} · 生效中` : `${mine.plan.name} · 已过期`),
    h('div.vip-until', { style: S.line }, mine.active ? `有效期至 ${fmtTime(mine.until)}` : `已于 ${fmtTime(mine.until)} 到期`),
    h('div', { style: S.line }, `本期已获赠 ${mine.coupons_received} 张券`,
      mine.coupons_received ? h('a', { href: '#/me/coupons', style: S.link }, '查看') : null));
  if (mine.refundable) {
    const btn = h('button.btn.btn-ghost.btn-small', { type: 'button', id: 'vip-refund' }, '申请无理由退款');
    btn.addEventListener('click', busy(btn, async () => {
      const ok = await confirmBox(`退款后会员立即结束，未使用的赠券将收回，退还 ¥${yuan(mine.refund_fen || 0)}。确定退款？`, '确定退款');
      if (!ok) return;
      try {
        await api('/membership/subscription/refund', { body: {} });
        toast('已退款，款项将原路退回', 'ok');
        reload();
      } catch (err) {
        toast(errorText(err));
      }
    }));
    put(box, ...box.childNodes, h('div', { style: S.line }, `${fmtTime(mine.refund_until)} 前可无理由退款`), btn);
  }
  return box;
}

function vipScreen(ctx) {
  const body = h('div', loading());
  const load = () => Promise.all([api('/membership/plans'), api('/membership/subscription')]).then(([plans, mine]) => {
    if (!ctx.alive()) return;
    const cards = plans.map((p) => planCard(p, mine));
    const status = statusCard(mine, load);
    put(body, status, ...(cards.length || status ? cards : [empty('暂未开放付费会员')]));
  }).catch((err) => ctx.alive() && put(body, h('div.error-box', errorText(err))));
  load();
  return h('div.page.vip-page', topbar('尊享会员', { backTo: '#/me' }), body);
}

function meEntries() {
  return h('section.card.menu', h('a.menu-item', { href: '#/me/vip' }, h('span', '尊享会员'),
    h('span.muted.small', '会员价 · 每月赠券'), icon(ICONS.chevron, 'icon chev')));
}

// Asked afresh on each product page: a membership bought (or refunded) a moment ago shows at once.
function member() {
  if (!localStorage.getItem(KEY_TOKEN)) return Promise.resolve(false);
  return api('/me').then((me) => Boolean(me.paid_member_until)).catch(() => false);
}

// A 付费会员 order's page links back to the membership it bought.
function orderSections(o) {
  if (o.source !== 'vip') return null;
  return h('section.card.menu', h('a.menu-item.vip-order-link', { href: '#/me/vip' }, h('span', '查看我的会员权益'),
    icon(ICONS.chevron, 'icon chev')));
}

function productBanners(p, ctx, pick) {
  const prices = p.member_prices || {};
  if (!Object.keys(prices).length && !p.member_only) return null;
  const box = h('section.vip-pd', { style: S.banner, dataset: { feature: 'vip' } });
  member().then((isMember) => {
    if (!ctx.alive()) return;
    pick.watch(({ sku }) => {
      const fen = sku ? prices[String(sku.id)] : undefined;
      const cut = fen !== undefined && sku && sku.price_fen > fen ? sku.price_fen - fen : 0;
      const text = fen !== undefined ? h('span.vip-pd-price', h('b', `¥${yuan(fen)}`), isMember ? ' 您的会员价' : ' 会员价',
        cut ? h('span', { style: S.save }, `省¥${yuan(cut)}`) : null)
        : h('span', !p.member_only ? '付费会员享会员价' : isMember ? '您已开通，可购买' : '开通付费会员后可购买');
      const side = isMember ? h('span', { style: `${S.tag};margin-right:0` }, '已开通会员')
        : h('a.btn.btn-small', { href: localStorage.getItem(KEY_TOKEN) ? '#/me/vip' : '#/login', style: S.join }, '开通会员');
      put(box, h('div', p.member_only ? h('span.vip-only', { style: S.tag }, '会员专享') : null, text), side);
    });
  });
  return box;
}

export const routes = [[/^\/me\/vip$/, vipScreen, { auth: true, tab: 'me' }]];
export { meEntries, orderSections, productBanners };
