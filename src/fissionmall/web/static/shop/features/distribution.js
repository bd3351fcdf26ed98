// 分销 and 分享: the distributor centre (#/distribution), "分享赚佣金" on the product page, 分享 for every
// shopper (the share button over the product picture: link, poster), and share-link tracking.

import { busy, empty, fail, go, goLogin, loading, put, topbar } from '../kit.js';
import { api, clearRef, getToken, pendingRef, randomId } from '../api.js';
import { h, icon, sheet, toast, yuan, errorText, fmtTime } from '../ui.js';

const STATUS_TEXT = { pending: '待结算', settled: '已结算', refunded: '已退款', void: '已作废' };
const KIND_TEXT = {
  accrue: '订单佣金', mature_out: '结算转出', mature_in: '结算入账', reverse: '退款扣回', void: '订单作废',
  withdraw_hold: '提现', withdraw_paid: '提现到账', withdraw_return: '提现退回',
};
const BUCKET_TEXT = { frozen: '待结算', available: '可提现', withdrawing: '提现中', withdrawn: '已提现' };

// The feature's own few styles (the shop's app.css stays the platform's).
const STYLE = `
.dist-stats { display: flex; }
.dist-head .dist-code { font-size: 20px; letter-spacing: 2px; display: block; margin: 2px 0 10px; }
.dist-actions { display: flex; gap: 10px; }
.dist-actions .btn { flex: 1; }
.dist-order, .dist-entry { display: flex; justify-content: space-between; align-items: center; gap: 10px; padding: 10px 0; }
.dist-order + .dist-order, .dist-entry + .dist-entry { border-top: 1px solid var(--line); }
.dist-order-side, .dist-entry strong { text-align: right; white-space: nowrap; }
.dist-link, .dist-amount, .dist-name { width: 100%; box-sizing: border-box; padding: 10px; margin: 8px 0; border: 1px solid var(--line); border-radius: 8px; font-size: 14px; }
`;
if (!document.getElementById('dist-style')) document.head.append(h('style', { id: 'dist-style' }, STYLE));

/** A share link opened: count the visit once per page load, and bind a logged-in shopper to the sharer. */
let tracked = false;
function trackShare(productId) {
  const ref = new URLSearchParams(location.search).get('ref');
  if (ref && !tracked && /^[A-Za-z0-9_-]{1,64}$/.test(ref)) {
    tracked = true;
    api('/distribution/visits', { body: productId ? { ref, product_id: productId } : { ref } }).catch(() => {});
  }
  const pending = pendingRef();
  if (pending && getToken()) {
    clearRef();
    api('/distribution/bind', { body: { ref: pending } }).catch(() => {}); // own or stale codes: nothing to do
  }
}

/** The sheet's body for a share: the poster (loading, then the picture), what to do, the link, copy / save. */
function shareBody(share, hint) {
  const link = h('input.dist-link', { value: share.share_url, readonly: true, 'aria-label': '分享链接' });
  const copy = h('button.btn.btn-primary.share-copy', { type: 'button' }, '复制链接');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(share.share_url);
      toast('链接已复制，发给好友吧', 'ok');
    } catch {
      link.select();
      toast('请长按链接复制');
    }
  });
  const save = h('a.btn.btn-ghost.share-save', { href: share.poster_png_url, download: 'share-poster.png' }, '保存海报');
  const poster = h('img.share-poster.dist-poster', { src: share.poster_png_url, alt: '分享海报', decoding: 'async' });
  const frame = h('div.share-poster-frame.loading', poster);
  poster.addEventListener('load', () => frame.classList.remove('loading'));
  poster.addEventListener('error', () => {
    frame.classList.remove('loading');
    frame.classList.add('failed');
    save.hidden = true;
  });
  return [frame, h('p.muted.small.share-hint', hint), link, h('div.share-actions', copy, save)];
}

/** 分享赚佣金: the distributor's own link and poster (a shopper who is none is sent to apply first). */
async function shareSheet(productId) {
  let share;
  try {
    share = await api('/distribution/share', { query: { product_id: productId } });
  } catch (err) {
    if (err.code === 'NOT_DISTRIBUTOR') {
      toast('先成为分销员，才能分享赚佣金');
      go('#/distribution');
    } else toast(errorText(err));
    return;
  }
  await sheet('分享赚佣金', () => shareBody(share, '长按保存海报，或复制链接发给好友；好友通过你的链接下单，你将获得佣金。'));
}

/** 分享 for every shopper, logged in or not; a distributor's link carries their code (and earns). */
async function productShare(product, button) {
  if (button.disabled) return;
  button.disabled = true;
  let share;
  try {
    share = await api(`/distribution/products/${product.id}/share`);
  } catch (err) {
    toast(errorText(err));
    return;
  } finally {
    button.disabled = false;
  }
  const hint = share.ref
    ? '好友通过你的链接下单，你将获得佣金。长按保存海报，或复制链接发给好友。'
    : '长按保存海报，或复制链接发给好友。';
  await sheet('分享给好友', () => shareBody(share, hint));
}

// A share arrow (an arrow leaving a box).
const SHARE_ICON = 'M12 2.6 17.4 8 16 9.4l-3-3V15h-2V6.4l-3 3L6.6 8zM4 13h2v6h12v-6h2v7a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1z';

function stat(value, label) {
  return h('div.stat', h('strong', value), h('span', label));
}

function withdrawSheet(me, reload) {
  const attempt = randomId('wd-');
  sheet('提现到微信零钱', (close) => {
    const input = h('input.dist-amount', { type: 'number', min: '0', step: '0.01', placeholder: `可提现 ${yuan(me.available_fen)} 元`, 'aria-label': '提现金额（元）' });
    // WeChat pays 2,000 元 or more only to a payer whose real name matches the account (user_name).
    const name = h('input.dist-name', { type: 'text', maxlength: '50', placeholder: '微信实名认证的姓名', 'aria-label': '真实姓名' });
    const nameRow = h('label.dist-name-row', { hidden: true }, h('span.small', '提现 2000 元及以上需填写真实姓名（仅用于本次转账，不会展示）'), name);
    input.addEventListener('input', () => { nameRow.hidden = !(Number(input.value) >= 2000); });
    const submit = h('button.btn.btn-primary.btn-block', { type: 'button' }, '确认提现');
    submit.addEventListener('click', busy(submit, async () => {
      const text = input.value.trim();
      if (!/^\d+(\.\d{1,2})?$/.test(text)) {
        toast('请输入正确的金额');
        return;
      }
      const [y, f = ''] = text.split('.');
      const fen = Number(y) * 100 + Number((f + '00').slice(0, 2));
      try {
        const body = { amount_fen: fen };
        if (!nameRow.hidden && name.value.trim()) body.real_name = name.value.trim();
        await api('/distribution/withdrawals', { body, idem: body.real_name ? `${attempt}-n` : attempt });
      } catch (err) {
        const msg = {
          WITHDRAW_BELOW_MINIMUM: `最低提现 ${yuan(me.min_withdraw_fen)} 元`,
          WITHDRAW_EXCEEDS_AVAILABLE: '超出可提现金额',
          REAL_NAME_REQUIRED: '提现 2000 元及以上需填写微信实名认证的姓名',
        }[err.code];
        if (err.code === 'REAL_NAME_REQUIRED') { nameRow.hidden = false; name.focus(); }
        toast(msg || errorText(err));
        return;
      }
      close(true);
      toast('提现申请已提交，等待商家审核', 'ok');
      reload();
    }));
    return [
      input,
      nameRow,
      h('p.muted.small', `最低提现 ${yuan(me.min_withdraw_fen)} 元${me.withdraw_fee_bp ? `，手续费 ${me.withdraw_fee_bp / 100}%` : ''}`),
      submit,
    ];
  });
}

function centreScreen(ctx) {
  const root = h('div.page.dist', topbar('分销中心', { backTo: '#/me' }), loading());

  async function show() {
    let me;
    try {
      me = await api('/distribution/me');
    } catch (err) {
      fail(err, ctx);
      return;
    }
    if (!ctx.alive()) return;
    if (me.status !== 'approved') {
      const apply = h('button.btn.btn-primary.btn-block.btn-lg', { type: 'button' }, me.status === 'pending' ? '申请审核中' : '申请成为分销员');
      if (me.status === 'pending') apply.disabled = true;
      apply.addEventListener('click', busy(apply, async () => {
        try {
          const r = await api('/distribution/apply', { method: 'POST' });
          toast(r.status === 'approved' ? '你已成为分销员' : '申请已提交，等待审核', 'ok');
        } catch (err) {
          toast(errorText(err));
          return;
        }
        show();
      }));
      put(root, topbar('分销中心', { backTo: '#/me' }),
        h('section.card.dist-intro',
          h('h2', '分享好物，赚取佣金'),
          h('p.muted', '成为分销员后，好友通过你分享的链接或海报下单，你可获得佣金；佣金在订单完成、冻结期结束后于月度结算时入账，可提现到微信零钱。'),
          apply));
      return;
    }
    const withdraw = h('button.btn.btn-primary', { type: 'button' }, '提现');
    withdraw.addEventListener('click', () => withdrawSheet(me, show));
    const shareBtn = h('button.btn.btn-ghost', { type: 'button' }, '分享店铺');
    shareBtn.addEventListener('click', () => shareSheet(undefined));
    const orders = me.orders.length
      ? me.orders.map((o) => h('div.dist-order', { dataset: { orderId: o.order_id } },
        h('div', `订单 #${o.order_id} · ${o.level === 1 ? '直属' : '二级'}`, h('div.muted.small', fmtTime(o.paid_at))),
        h('div.dist-order-side', h('strong', `+${yuan(o.commission_fen)}`), h('div.muted.small', STATUS_TEXT[o.status] || o.status))))
      : [empty('还没有推广订单，快去分享吧')];
    const ledger = h('div.dist-ledger', loading());
    put(root, topbar('分销中心', { backTo: '#/me' }),
      h('section.card.dist-head',
        h('div.muted.small', '推广码'), h('strong.dist-code', me.share_code),
        h('div.dist-actions', shareBtn, withdraw)),
      h('section.card.dist-stats.dist-earn',
        stat(yuan(me.today_fen), '今日佣金'), stat(yuan(me.month_fen), '本月佣金'), stat(yuan(me.total_fen), '累计佣金')),
      h('section.card.dist-stats.dist-balance',
        stat(yuan(me.pending_fen), '待结算'), stat(yuan(me.available_fen), '可提现'), stat(yuan(me.withdrawn_fen), '已提现')),
      h('section.card.dist-stats.dist-team',
        stat(String(me.level1_count), '一级团队'), stat(String(me.level2_count), '二级团队'), stat(String(me.visits), '分享访问')),
      h('section.card', h('div.card-title', '推广订单'), ...orders),
      h('section.card', h('div.card-title', '佣金明细'), ledger));
    api('/distribution/commissions', { query: { limit: 30 } }).then((pg) => {
      if (!ctx.alive()) return;
      put(ledger, ...(pg.items.length
        ? pg.items.map((e) => h('div.dist-entry',
          h('div', KIND_TEXT[e.kind] || e.kind, h('div.muted.small', `${BUCKET_TEXT[e.bucket] || e.bucket} · ${fmtTime(e.created_at)}`)),
          h('strong', (e.amount_fen > 0 ? '+' : '') + yuan(e.amount_fen))))
        : [empty('暂无明细')]));
    }).catch(() => put(ledger, empty('明细加载失败')));
  }
  show();
  return root;
}

export const routes = [[/^\/distribution$/, centreScreen, { auth: true, tab: 'me' }]];

export function meEntries() {
  return h('section.card.menu', h('a.menu-item', { href: '#/distribution' }, h('span', '分销中心'), h('span.muted.small', '分享赚佣金')));
}

export function homeSections() {
  trackShare(undefined);
  return null;
}

export function productHero(product) {
  const btn = h('button.float-share', { type: 'button', 'aria-label': '分享' }, icon(SHARE_ICON), h('span', '分享'));
  btn.addEventListener('click', () => productShare(product, btn));
  return btn;
}

export function productSections(product) {
  trackShare(product.id);
  const btn = h('button.btn.btn-ghost.btn-block.dist-share', { type: 'button' }, '分享赚佣金');
  btn.addEventListener('click', () => {
    if (!getToken()) {
      goLogin(`/p/${product.id}`);
      return;
    }
    shareSheet(product.id);
  });
  return h('section.card', btn);
}
