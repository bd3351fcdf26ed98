// 砍价: the product page's 发起砍价 button and banner, the home page's 砍价 row (rank 30), the activity page,
// the share page (progress bar, helpers' nicknames and cuts, countdown, 帮TA砍一刀 / 我也要砍, the poster),
// the buy page (the priced breakdown before paying) and 我的砍价 under 我的.

import { api, clockSkew } from '../api.js';
import { busy, empty, go, goLogin, loading, put, startPayment, stepRows, topbar } from '../kit.js';
import { errorText, fmtCountdown, h, icon, ICONS, img, price, sheet, toast, yuan } from '../ui.js';
import { PHONE_RE, addressBlock, regionPicker } from './addresses.js';

const KEY_TOKEN = 'fm.token';
const STATUS = { active: '砍价中', reached: '已砍到底价', ordered: '待支付', bought: '已购买', expired: '已过期' };
const ERRORS = { SOLD_OUT: '砍价商品已抢光', START_LIMIT_REACHED: '你已经发起过这个砍价，去「我的砍价」看看吧' };
const say = (err) => (err && ERRORS[err.code]) || errorText(err);

function needLogin(next) {
  if (localStorage.getItem(KEY_TOKEN)) return false;
  toast('请先登录');
  goLogin(next);
  return true;
}

/** "剩余 hh:mm:ss" ticking into el; `skew` is server time minus ours. */
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

/** 发起砍价 for an activity: the new bargain's share page, or where the refusal says to go. */
async function startBargain(activityId, back) {
  if (needLogin(back)) return;
  try {
    const r = await api(`/bargain/activities/${activityId}/start`, { method: 'POST' });
    toast('砍价已发起，快邀请好友帮你砍一刀', 'ok');
    go(`#/bargain/b/${r.bargain_id}`);
  } catch (err) {
    toast(say(err), 'error');
    if (err && err.code === 'START_LIMIT_REACHED') go('#/bargain/mine');
  }
}

const tagline = (a) => `邀请 ${a.helpers_needed} 人助力，¥${yuan(a.target_fen)} 抱回家`;

// ---- 商品页：砍价横幅、发起砍价 -------------------------------------------------------------------

const activities = new WeakMap();
function activityOf(product, ctx) {
  if (!activities.has(ctx)) {
    activities.set(ctx, api('/bargain/activities', { query: { product_id: product.id } })
      .then((acts) => acts[0] || null).catch(() => null));
  }
  return activities.get(ctx);
}

function productBanners(product, ctx) {
  const box = h('a.bg-banner', { hidden: true, dataset: { feature: 'bargain' } });
  activityOf(product, ctx).then((act) => {
    if (!ctx.alive() || !act) return;
    box.href = `#/bargain/a/${act.id}`;
    put(box, h('span.bg-banner-tag', '砍价'), h('span.bg-banner-text', tagline(act)), icon(ICONS.chevron, 'icon chev'));
    box.hidden = false;
  });
  return box;
}

function productActions(product, ctx, pick) {
  const btn = h('button.btn.btn-primary.btn-buy.bg-start', { type: 'button', hidden: true });
  let act = null;
  activityOf(product, ctx).then((a) => {
    if (!ctx.alive() || !a) return;
    act = a;
    pick.solo(btn);
    put(btn, h('span.ab-buy-price', `¥${yuan(a.target_fen)}`), h('span.ab-buy-label', '发起砍价'));
    btn.hidden = false;
  });
  btn.addEventListener('click', busy(btn, async () => {
    if (act) await startBargain(act.id, `/p/${product.id}`);
  }));
  return btn;
}

// ---- 首页：砍价 -----------------------------------------------------------------------------------

function homeSections(ctx) {
  const box = h('section.section.bg-home', { hidden: true, dataset: { feature: 'bargain', rank: '30' } });
  api('/bargain/activities').then((acts) => {
    const shown = acts.filter((a) => a.product);
    if (!ctx.alive() || !shown.length) return;
    put(box,
      h('div.bg-home-head', h('strong', '砍价'), h('span.muted.small', '好友帮砍，低价抱回家')),
      h('div.bg-home-row', shown.slice(0, 8).map((a) => h('a.bg-home-item', { href: `#/bargain/a/${a.id}`, dataset: { activityId: String(a.id) } },
        img(a.product.image, a.product.title, 'bg-home-img'),
        h('div.bg-home-name', a.product.title),
        h('div.bg-home-tag', `${a.helpers_needed}人助力`),
        price(a.target_fen, 'bg-home-price'),
        h('s.bg-home-was', `¥${yuan(a.start_fen)}`)))));
    box.hidden = false;
  }).catch(() => {});
  return box;
}

// ---- 活动页 --------------------------------------------------------------------------------------

function activityScreen(ctx) {
  const id = ctx.params[0];
  const root = h('div.page.bg-activity', topbar('砍价', { backTo: '#/' }), loading());
  api(`/bargain/activities/${id}`).then((a) => {
    if (!ctx.alive()) return;
    const go1 = h('button.btn.btn-primary.btn-block.bg-go', { type: 'button' }, '发起砍价');
    go1.addEventListener('click', busy(go1, () => startBargain(a.id, `/bargain/a/${a.id}`)));
    const p = a.product || { title: a.title, image: null, id: a.product_id };
    put(root, topbar('砍价', { backTo: '#/' }),
      h('section.card', h('a.bg-product', { href: `#/p/${p.id}` }, h('div.line', img(p.image, p.title),
        h('div.line-main', h('div.line-title', p.title), h('div.muted.small', p.sku_name || '')),
        h('div.line-side', price(a.target_fen, 'price-red'), h('s.muted.small', ` ¥${yuan(a.start_fen)}`))))),
      h('section.card.bg-rules',
        h('div.card-title', tagline(a)),
        h('p.muted.small', `发起后 ${Math.round(a.duration_minutes / 60)} 小时内，邀请 ${a.helpers_needed} 位好友各砍一刀，正好砍到 ¥${yuan(a.target_fen)}。`),
        a.new_user_only ? h('p.muted.small', '仅限新用户帮砍') : null,
        a.new_user_boost_bp > 10000 ? h('p.muted.small', '新用户帮砍，砍得更多') : null,
        a.buy_early ? h('p.muted.small', '没砍到底价也可以按当前价购买') : null,
        go1));
  }).catch((err) => {
    if (!ctx.alive()) return;
    put(root, topbar('砍价', { backTo: '#/' }), empty(say(err), h('a.btn.btn-ghost', { href: '#/' }, '返回首页')));
  });
  return root;
}

// ---- 分享页 -------------------------------------------------------------------------------------

/** The share sheet: the link to copy and the poster (distribution's poster code draws it). */
async function shareSheet(b) {
  let info = null;
  try {
    info = await api(`/bargain/${b.id}/share`);
  } catch (err) {
    toast(say(err), 'error');
    return;
  }
  await sheet('邀请好友帮砍', () => {
    const copy = h('button.btn.btn-primary.btn-block.bg-copy', { type: 'button' }, '复制链接');
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(info.share_url);
        toast('链接已复制，快发给好友吧', 'ok');
      } catch (e) {
        toast(info.share_url);
      }
    });
    return [
      info.poster_png_url ? h('img.bg-poster', { src: info.poster_png_url, alt: '砍价海报' }) : null,
      h('p.muted.small', '长按海报保存，或复制链接发给好友'),
      copy,
    ];
  });
}

function shareScreen(ctx) {
  const bid = ctx.params[0];
  const root = h('div.page.bg-share', topbar('砍价详情', { backTo: '#/' }), loading());

  function load(cut) {
    api(`/bargain/${bid}`).then((b) => {
      if (ctx.alive()) render(b, cut);
    }).catch((err) => {
      if (!ctx.alive()) return;
      put(root, topbar('砍价详情', { backTo: '#/' }), empty(say(err), h('a.btn.btn-ghost', { href: '#/' }, '返回首页')));
    });
  }

  function render(b, cut) {
    const skew = Date.parse(b.server_time) - Date.now();
    const left = h('div.bg-countdown');
    if (b.status === 'active' || b.status === 'reached') ticker(ctx, b.expires_at, left, skew, '已结束');
    else left.textContent = b.status === 'bought' ? '已经买到啦' : (b.status === 'ordered' ? '已下单，等待支付' : '砍价已结束');
    const bar = h('div.bg-bar-fill');
    bar.style.width = `${Math.round(b.progress_bp / 100)}%`;
    const role = b.me ? b.me.role : 'visitor';
    const actions = [];
    if (role === 'starter') {
      if (b.status === 'active') {
        const inv = h('button.btn.btn-primary.btn-block.bg-invite', { type: 'button' }, '邀请好友帮砍');
        inv.addEventListener('click', busy(inv, () => shareSheet(b)));
        actions.push(inv);
      }
      if (b.can_order) {
        const buy = h('button.btn.btn-primary.btn-block.bg-buy', { type: 'button' }, `¥${yuan(b.price_fen)} 立即购买`);
        buy.addEventListener('click', () => go(`#/bargain/buy?b=${b.id}`));
        actions.push(buy);
      }
      if (b.order_id) actions.push(h('a.link.small', { href: `#/orders/${b.order_id}` }, '查看我的订单'));
    } else {
      if (b.status === 'active' && role !== 'helper') {
        const helpBtn = h('button.btn.btn-primary.btn-block.bg-help', { type: 'button' }, '帮TA砍一刀');
        helpBtn.addEventListener('click', busy(helpBtn, async () => {
          if (needLogin(`/bargain/b/${b.id}`)) return;
          try {
            const r = await api(`/bargain/${b.id}/help`, { method: 'POST' });
            load(r.cut_fen);
          } catch (err) {
            toast(say(err), 'error');
            if (err && err.status !== 401) load();
          }
        }));
        actions.push(helpBtn);
      }
      const mine = h('button.btn.btn-ghost.btn-block.bg-mine', { type: 'button' }, '我也要砍');
      mine.addEventListener('click', () => go(`#/bargain/a/${b.activity_id}`));
      actions.push(mine);
    }
    const helped = role === 'helper' && b.me.cut_fen ? h('p.bg-helped', `你已帮TA砍掉 ¥${yuan(b.me.cut_fen)}`) : null;
    const burst = cut ? h('div.bg-cut', { role: 'status' }, `砍掉 ¥${yuan(cut)}！`) : null;
    if (burst) setTimeout(() => burst.classList.add('bg-cut-done'), 1600);
    put(root,
      topbar('砍价详情', { backTo: '#/' }),
      h('section.card', h('a.bg-product', { href: `#/p/${b.product.id}` }, h('div.line', img(b.product.image, b.product.title),
        h('div.line-main', h('div.line-title', b.product.title), h('div.muted.small', b.product.sku_name)),
        h('div.line-side', h('s.muted.small', `¥${yuan(b.start_fen)}`))))),
      h('section.card.bg-status', { dataset: { status: b.status } },
        h('div.card-title', `${b.starter.nickname} 邀请你帮砍`, h('span.tag', STATUS[b.status] || b.status)),
        burst,
        h('div.bg-prices', h('span', '当前价 ', price(b.price_fen, 'price-red bg-now')), h('span.muted.small', ` 底价 ¥${yuan(b.target_fen)}`)),
        h('div.bg-bar', { role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(b.progress_bp / 100)) }, bar),
        h('div.muted.small.bg-count', `已有 ${b.helps_count}/${b.helpers_needed} 位好友帮砍，已砍 ¥${yuan(b.start_fen - b.price_fen)}`),
        left,
        helped,
        ...actions),
      h('section.card.bg-helpers',
        h('div.card-title', '好友助力'),
        b.helps.length ? b.helps.map((x) => h('div.bg-helper',
          x.avatar_url ? img(x.avatar_url, x.nickname, 'bg-avatar') : h('span.bg-avatar', (x.nickname || '友').slice(0, 1)),
          h('span.bg-helper-name', x.nickname),
          h('span.price-red.bg-helper-cut', `砍掉 ¥${yuan(x.cut_fen)}`))) : h('p.muted.small', '还没有好友帮砍，快去邀请吧')));
  }

  load();
  return root;
}

// ---- 砍价下单 -----------------------------------------------------------------------------------

const FIELDS = [['name', '收货人'], ['phone', '手机号'], ['detail', '详细地址']];

function buyScreen(ctx) {
  const bid = ctx.query.get('b');
  const lineBox = h('div', loading());
  const stepsBox = h('div.steps');
  const addrBox = h('div.addr-box', loading());
  const submit = h('button.btn.btn-primary.btn-submit.bg-submit', { type: 'button', disabled: true }, '提交订单');
  const inputs = {};
  const region = regionPicker(null);
  const rows = FIELDS.map(([key, label]) => {
    inputs[key] = h('input', { name: key, type: key === 'phone' ? 'tel' : 'text', placeholder: `请填写${label}`, maxlength: key === 'detail' ? 200 : 100 });
    return h('label.form-row', h('span.form-label', label), inputs[key]);
  });
  rows.splice(2, 0, h('div.form-row', h('span.form-label', '所在地区'), region.el));
  let chosen = null;
  let last = null;
  const readAddress = () => Object.assign(Object.fromEntries(FIELDS.map(([k]) => [k, inputs[k].value.trim()])), region.value() || {});
  const problem = (a) => (!a.name && '请填写收货人') || (!PHONE_RE.test(a.phone) && '请填写正确的手机号')
    || (!a.region && (region.problem() || '请选择所在地区')) || (!a.detail && '请填写详细地址') || null;
  const body = () => (chosen ? { address_id: chosen.id } : (problem(readAddress()) ? {} : { address: readAddress() }));

  async function preview() {
    try {
      last = await api(`/bargain/${bid}/preview`, { body: body() });
    } catch (err) {
      last = null;
      submit.disabled = true;
      if (ctx.alive()) put(lineBox, h('div.error-box', say(err)));
      return;
    }
    if (!ctx.alive()) return;
    const ln = last.lines[0];
    put(lineBox, h('div.line', img(ln.image, ln.title), h('div.line-main', h('div.line-title', ln.title), h('div.line-sku', ln.sku_name),
      h('div.small', '砍价价 ', price(last.bargain_price_fen, 'price-red')))));
    put(stepsBox, ...stepRows(last.steps), h('div.step.step-total', h('span', '实付款'), price(last.payable_fen, 'price-red')));
    submit.textContent = `提交订单 ¥${yuan(last.payable_fen)}`;
    submit.disabled = false;
  }
  region.el.addEventListener('change', preview);
  for (const [k] of FIELDS) inputs[k].addEventListener('change', preview);
  api('/me/addresses').then((r) => {
    if (!ctx.alive()) return;
    chosen = r.items.find((a) => a.is_default) || r.items[0] || null;
    put(addrBox, chosen ? h('div.addr-chosen', { 'data-id': String(chosen.id) }, addressBlock(chosen)) : rows);
    preview();
  }).catch(() => {
    put(addrBox, rows);
    preview();
  });
  submit.addEventListener('click', busy(submit, async () => {
    if (!last) return;
    if (!chosen) {
      const bad = problem(readAddress());
      if (bad) return toast(bad);
    }
    let res;
    try {
      res = await api(`/bargain/${bid}/order`, { body: body() });
    } catch (err) {
      toast(say(err), 'error');
      return;
    }
    try {
      await startPayment(res.order.id, true);
    } catch (err) {
      ctx.fail(err);
      go(`#/orders/${res.order.id}`, true);
    }
  }));
  return h('div.page.checkout.bg-buy-page',
    topbar('砍价下单', { backTo: `#/bargain/b/${bid}` }),
    h('section.card.addr-card', h('div.card-title', icon(ICONS.pin, 'icon icon-accent'), '收货地址'), addrBox),
    h('section.card', h('div.card-title', '商品信息'), lineBox),
    h('section.card', h('div.card-title', '价格明细'), stepsBox, h('p.muted.small', '砍价订单每人限购 1 件，不可使用优惠券。')),
    h('div.submitbar', submit));
}

// ---- 我的砍价 -----------------------------------------------------------------------------------

function mineScreen(ctx) {
  const list = h('div', loading());
  api('/bargain/me/bargains').then((rows) => {
    if (!ctx.alive()) return;
    put(list, rows.length ? rows.map((r) => h('a.card.bg-mine-row', { href: `#/bargain/b/${r.id}`, dataset: { bargainId: String(r.id), status: r.status } },
      h('div.line-title', r.title),
      h('div.small', price(r.price_fen, 'price-red'), h('span.muted', ` 底价 ¥${yuan(r.target_fen)} · ${r.helps}/${r.helpers_needed} 人`)),
      h('span.tag', STATUS[r.status] || r.status))) : empty('还没有发起过砍价'));
  }).catch((err) => {
    put(list);
    ctx.fail(err);
  });
  return h('div.page.bg-mine-page', topbar('我的砍价', { backTo: '#/me' }), list);
}

function meEntries() {
  return h('section.card.menu',
    h('a.menu-item', { href: '#/bargain/mine' }, h('span', '我的砍价'), icon(ICONS.chevron, 'icon chev')));
}

export const routes = [
  [/^\/bargain\/a\/(\d+)$/, activityScreen, {}],
  [/^\/bargain\/b\/(\d+)$/, shareScreen, {}],
  [/^\/bargain\/buy$/, buyScreen, { auth: true }],
  [/^\/bargain\/mine$/, mineScreen, { auth: true, tab: 'me' }],
];
export { homeSections, meEntries, productActions, productBanners };
