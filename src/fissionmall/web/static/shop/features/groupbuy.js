// 拼团: the product page's 单独购买 / 发起拼团 pair and its group section (join a forming group), the home
// page's 拼团 row, the share page, the group buy page (the priced breakdown before paying) and 我的拼团.

import { api, clockSkew } from '../api.js';
import { busy, empty, go, goLogin, loading, put, startPayment, stepRows, topbar } from '../kit.js';
import { errorText, fmtCountdown, h, icon, ICONS, img, price, toast, yuan } from '../ui.js';
import { PHONE_RE, addressBlock, regionPicker } from './addresses.js';

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

// ---- 商品页：拼团区、发起拼团 ------------------------------------------------------------------------

// One answer per product page for the section and the button (the page's ctx is the key).
const activities = new WeakMap();
function activityOf(product, ctx) {
  if (!activities.has(ctx)) {
    activities.set(ctx, api('/groupbuy/activities', { query: { product_id: product.id } })
      .then((acts) => acts[0] || null).catch(() => null));
  }
  return activities.get(ctx);
}

const groupPrice = (act, sku) => {
  const row = sku && act.skus.find((k) => k.sku_id === sku.id);
  return row ? row.price_fen : null;
};

function productSections(product, ctx, pick) {
  const box = h('section.card.gb-section', { dataset: { feature: 'groupbuy' }, hidden: true });
  activityOf(product, ctx).then(async (act) => {
    if (!ctx.alive() || !act) return;
    const priceLine = h('div.gb-price');
    const list = h('div.gb-groups');
    pick.watch(({ sku }) => {
      const fen = groupPrice(act, sku);
      const low = act.skus.reduce((a, b) => (a.price_fen <= b.price_fen ? a : b));
      put(priceLine, '拼团价 ', price(fen === null ? low.price_fen : fen, 'price-red'), fen === null ? h('span.small', ' 起') : null,
        act.leader_discount_fen ? h('span.muted.small', ` 团长再减 ¥${yuan(act.leader_discount_fen)}`) : null);
    });
    const quickBtn = h('button.btn.btn-ghost.btn-small.gb-quick', { type: 'button' }, '一键参团');
    quickBtn.addEventListener('click', () => {
      const { sku } = pick();
      if (needLogin(`/p/${product.id}`) || !inActivity(act, sku)) return;
      go(buyHash({ a: act.id, sku: sku.id, quick: 1 }));
    });
    put(box,
      h('div.card-title', h('span', `${act.group_size}人拼团`), act.new_user_required ? h('span.tag', '老带新') : null),
      priceLine,
      list);
    box.hidden = false;
    let groups = [];
    try {
      groups = await api(`/groupbuy/activities/${act.id}/groups`, { query: { limit: 5 } });
    } catch (err) {
      groups = [];
    }
    if (!ctx.alive()) return;
    put(list, groups.length ? [
      h('div.gb-groups-head', h('span.small', `${groups.length} 人正在拼团，可直接参与`), quickBtn),
      ...groups.map((g) => {
        const left = h('span.muted.small.gb-left');
        ticker(ctx, g.expires_at, left, clockSkew, '即将结束');
        const joinBtn = h('button.btn.btn-primary.btn-small.gb-go', { type: 'button' }, '去参团');
        joinBtn.addEventListener('click', () => {
          const { sku } = pick();
          if (needLogin(`/p/${product.id}`) || !inActivity(act, sku)) return;
          go(buyHash({ g: g.id, a: act.id, sku: sku.id }));
        });
        return h('div.gb-group', { dataset: { groupId: String(g.id) } },
          h('a.gb-group-who', { href: `#/groupbuy/g/${g.id}` }, g.leader_avatar_url ? img(g.leader_avatar_url, g.leader_nickname, 'gb-avatar-sm')
            : h('span.gb-avatar-sm', (g.leader_nickname || '团').slice(0, 1)), h('span', g.leader_nickname || '团长')),
          h('span.gb-group-need', h('span.price-red', short(g)), left),
          joinBtn);
      })] : h('p.muted.small', '暂时没有正在拼的团，快来开团吧'));
  });
  return box;
}

function inActivity(act, sku) {
  if (groupPrice(act, sku) !== null) return true;
  toast(sku ? '该规格不参加拼团，请换一个规格' : '请先选择规格');
  return false;
}

/** 发起拼团 with the chosen SKU's group price, beside 单独购买 (the catalogue's buy button at the full price). */
function productActions(product, ctx, pick) {
  const btn = h('button.btn.btn-primary.btn-buy.gb-open', { type: 'button', hidden: true });
  let act = null;
  activityOf(product, ctx).then((a) => {
    if (!ctx.alive() || !a) return;
    act = a;
    pick.solo(btn);
    btn.hidden = false;
    pick.watch(({ sku, qty }) => {
      const fen = groupPrice(act, sku);
      const unit = fen === null ? null : Math.max(0, fen - act.leader_discount_fen);
      btn.dataset.skuId = sku ? String(sku.id) : '';
      put(btn, unit === null ? null : h('span.ab-buy-price', `¥${yuan(unit * qty)}`),
        h('span.ab-buy-label', fen === null && sku ? '该规格不拼团' : '发起拼团'));
    });
  });
  btn.addEventListener('click', () => {
    const { sku, qty } = pick();
    if (!act || needLogin(`/p/${product.id}`) || !inActivity(act, sku)) return;
    go(buyHash({ a: act.id, sku: sku.id, qty }));
  });
  return btn;
}

// ---- 首页：拼团 ----------------------------------------------------------------------------------

function homeSections(ctx) {
  const box = h('section.section.gb-home', { hidden: true, dataset: { feature: 'groupbuy', rank: '20' } });
  api('/groupbuy/activities').then((acts) => {
    const shown = acts.filter((a) => a.product);
    if (!ctx.alive() || !shown.length) return;
    put(box,
      h('div.gb-home-head', h('strong', '拼团'), h('span.muted.small', '好友一起买，更便宜')),
      h('div.gb-home-row', shown.slice(0, 8).map((a) => {
        const low = a.skus.reduce((x, y) => (x.price_fen <= y.price_fen ? x : y));
        return h('a.gb-home-item', { href: `#/p/${a.product.id}`, dataset: { activityId: String(a.id) } },
          img(a.product.image, a.product.title, 'gb-home-img'),
          h('div.gb-home-name', a.product.title),
          h('div.gb-home-tag', `${a.group_size}人团`),
          price(low.price_fen, 'gb-home-price'),
          a.product.price_fen > low.price_fen ? h('s.gb-home-was', `¥${yuan(a.product.price_fen)}`) : null);
      })));
    box.hidden = false;
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
    // The joiner's SKU: any of the activity's (a choice of chips when it has several).
    let sku = g.skus[0];
    const joinLabel = () => `参团 ¥${yuan(sku.price_fen)}`;
    const chips = g.skus.length > 1 ? h('div.sku-list.gb-skus', g.skus.map((k) => {
      const b = h('button.sku', { type: 'button', dataset: { id: String(k.sku_id) } }, k.name, ' ', h('span.price-red', `¥${yuan(k.price_fen)}`));
      b.addEventListener('click', () => {
        sku = k;
        markChips();
      });
      return b;
    })) : null;
    let action = null;
    function markChips() {
      if (chips) for (const b of chips.children) b.classList.toggle('active', b.dataset.id === String(sku.sku_id));
      if (action && action.classList.contains('gb-join')) action.textContent = joinLabel();
    }
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
        action = h('button.btn.btn-primary.btn-block.gb-join', { type: 'button' }, joinLabel());
        action.addEventListener('click', () => {
          if (needLogin(`/groupbuy/g/${g.id}`)) return;
          go(buyHash({ g: g.id, a: g.activity_id, sku: sku.sku_id }));
        });
      } else {
        action = h('p.muted', '名额已被占满，若有人未按时支付会重新开放');
      }
      ticker(ctx, g.expires_at, left, skew, '已到期，结果处理中');
    } else if (g.status === 'failed') {
      // The card's title already says the status: the line under it says what follows from it.
      left.textContent = '未在时限内成团，已原路退款';
    } else if (g.status === 'succeeded') {
      left.textContent = '已成团，商家将尽快发货';
    }
    markChips();
    put(root,
      topbar('拼团详情', { backTo: '#/' }),
      h('section.card', h('a.gb-product', { href: `#/p/${g.product.id}` },
        h('div.line', img(g.product.image, g.product.title),
          h('div.line-main', h('div.line-title', g.product.title), h('div.muted.small', `${g.size}人团${g.new_user_required ? ' · 老带新' : ''}`)),
          h('div.line-side', price(Math.min(...g.skus.map((k) => k.price_fen)), 'price-red'))))),
      h('section.card.gb-status', { dataset: { status: g.status } },
        h('div.card-title', GROUP_STATUS[g.status] || g.status, h('span.gb-short', g.status === 'forming' ? ` · ${short(g)}` : '')),
        left,
        g.status === 'forming' && !g.me && g.seats_left > 0 ? chips : null,
        h('div.gb-members', { style: 'display:flex;flex-wrap:wrap;gap:8px;margin:12px 0' }, seats),
        action,
        g.me && g.me.order_id ? h('a.link.small', { href: `#/orders/${g.me.order_id}` }, '查看我的订单') : null));
  }

  load();
  return root;
}

// ---- 拼团下单 -----------------------------------------------------------------------------------

const FIELDS = [['name', '收货人', 'text'], ['phone', '手机号', 'tel'], ['detail', '详细地址', 'text']];

/** The group order's page: product, SKU, group price, the address, the priced breakdown (POST …/preview,
 * the order's own plan) and a button whose amount is the preview's payable, which the cashier charges. */
function buyScreen(ctx) {
  const q = ctx.query;
  const activityId = q.get('a');
  const groupId = q.get('g');
  const quick = q.get('quick') === '1';
  const skuId = Number(q.get('sku'));
  const qty = Math.max(1, Math.min(99, Number(q.get('qty')) || 1));
  const title = groupId ? '参加拼团' : (quick ? '一键参团' : '发起拼团');
  const verb = groupId || quick ? '参团并支付' : '开团并支付';
  const previewPath = groupId ? `/groupbuy/groups/${groupId}/preview` : `/groupbuy/activities/${activityId}/preview${quick ? '?quick=true' : ''}`;

  const lineBox = h('div.gb-buy-line', loading());
  const stepsBox = h('div.steps');
  const addrBox = h('div.addr-box', loading());
  const totalBox = h('span.submit-total');
  const submit = h('button.btn.btn-primary.btn-submit.gb-submit', { type: 'button', disabled: true }, verb);

  // The address: the book's default (sent as address_id); an empty book gets a form whose address is
  // saved to the book before the order, priced again for it.
  const inputs = {};
  const rows = FIELDS.map(([key, label, type]) => {
    inputs[key] = h('input', { name: key, type: key === 'phone' ? 'tel' : type, placeholder: `请填写${label}`, maxlength: key === 'detail' ? 200 : 100 });
    return h('label.form-row', h('span.form-label', label), inputs[key]);
  });
  const region = regionPicker(null);
  rows.splice(2, 0, h('div.form-row', h('span.form-label', '所在地区'), region.el));
  let chosen = null;
  let book = null;
  function readAddress() {
    const a = {};
    for (const [key] of FIELDS) a[key] = inputs[key].value.trim();
    return Object.assign(a, region.value() || {});
  }
  function problem(a) {
    if (!a.name) return '请填写收货人';
    if (!PHONE_RE.test(a.phone)) return '请填写正确的手机号';
    if (!a.region) return region.problem() || '请选择所在地区';
    if (!a.detail) return '请填写详细地址';
    return null;
  }

  let last = null;
  let asked = 0; // the newest preview asked for: an older answer arriving late is dropped
  let pending = Promise.resolve();
  // Priced again when the address changes: the button waits for the answer rather than being disabled
  // meanwhile, as leaving a field to tap it is itself a change that asks again.
  function preview() {
    pending = ask();
    return pending;
  }
  async function ask() {
    const body = { sku_id: skuId, qty };
    if (chosen) body.address_id = chosen.id;
    else if (!problem(readAddress())) body.address = readAddress();
    const mine = ++asked;
    let answer;
    try {
      answer = await api(previewPath, { body });
    } catch (err) {
      if (mine !== asked) return;
      last = null;
      submit.disabled = true;
      if (!ctx.alive()) return;
      put(lineBox, h('div.error-box', say(err)));
      put(stepsBox);
      ctx.failShown(err);
      return;
    }
    if (mine !== asked || !ctx.alive()) return;
    last = answer;
    const ln = last.lines[0];
    put(lineBox, h('div.line', img(ln.image, ln.title),
      h('div.line-main', h('div.line-title', ln.title), h('div.line-sku', ln.sku_name),
        h('div.small', '拼团价 ', price(last.group_price_fen, 'price-red'), h('s.muted.small', ` ¥${yuan(ln.unit_price_fen)}`))),
      h('div.line-side', h('div.muted.small', `×${ln.qty}`))));
    put(stepsBox, ...stepRows(last.steps), h('div.step.step-total', h('span', '实付款'), price(last.payable_fen, 'price-red')));
    put(totalBox, h('span.small', '合计：'), price(last.payable_fen, 'price-red'));
    submit.textContent = `${verb} ¥${yuan(last.payable_fen)}`;
    submit.dataset.amount = String(last.payable_fen);
    submit.disabled = false;
  }
  region.el.addEventListener('change', () => preview());
  for (const [key] of FIELDS) inputs[key].addEventListener('change', () => preview());

  api('/me/addresses').then((r) => {
    if (!ctx.alive()) return;
    book = r.items;
    chosen = book.find((a) => a.is_default) || book[0] || null;
    put(addrBox, chosen ? [h('div.addr-chosen', { 'data-id': String(chosen.id) }, addressBlock(chosen)),
      h('a.link.small', { href: '#/me/addresses' }, '管理收货地址')] : rows);
    preview();
  }).catch((err) => {
    book = [];
    put(addrBox, rows);
    preview();
    ctx.failShown(err);
  });

  submit.addEventListener('click', busy(submit, async () => {
    await pending;
    if (!last || book === null) return;
    if (!chosen) {
      const address = readAddress();
      const bad = problem(address);
      if (bad) return toast(bad);
      try {
        chosen = await api('/me/addresses', { body: address }); // the first address: the default from now on
      } catch (err) {
        return ctx.fail(err);
      }
      const shown = last.payable_fen;
      await preview();
      if (!last) return;
      if (last.payable_fen !== shown) return toast('已按收货地址更新运费，请确认金额后提交');
    }
    const body = { sku_id: skuId, qty, address_id: chosen.id };
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
    h('section.card.addr-card', h('div.card-title', icon(ICONS.pin, 'icon icon-accent'), '收货地址'), addrBox),
    h('section.card', h('div.card-title', '商品信息'), lineBox),
    h('section.card', h('div.card-title', '价格明细'), stepsBox,
      h('p.muted.small', '拼团订单不可使用优惠券；成团后发货，未成团自动原路退款。')),
    h('div.submitbar', totalBox, submit));
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
export { homeSections, meEntries, productActions, productSections };
