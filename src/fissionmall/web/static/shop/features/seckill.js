// 秒杀: sessions with server-time countdowns, 即将开始 / 抢购中 / 已抢光, token → attempt → poll → pay,
// and for a sold-out item: 到货提醒 and similar products. On a product in a session: the 秒杀价 banner with
// its countdown and the 立即秒杀 / 即将开抢 button; on the home page the 限时秒杀 row (none without a session).

import { api } from '../api.js';
import { busy, fail, go, goLogin, loading, put, startPayment, topbar } from '../kit.js';
import { errorText, fmtCountdown, h, img, price, toast, yuan } from '../ui.js';

const KEY_ADDRESS = 'fm.address';
const KEY_TOKEN = 'fm.token';

const STATE = { upcoming: '即将开始', active: '抢购中', sold_out: '已抢光', ended: '已结束' };
// Only what reads differently here than in the server's table (GET /api/v1/error-codes).
const ERRORS = {
  SOLD_OUT: '手慢了，已被抢光',
};
const say = (err) => (err && ERRORS[err.code]) || errorText(err);

/** Server time minus ours, from the sessions response (ms precision). */
let skew = 0;
const now = () => Date.now() + skew;

function stateOf(item) {
  const t = now();
  if (t < Date.parse(item.starts_at)) return 'upcoming';
  if (t >= Date.parse(item.ends_at)) return 'ended';
  return item.remaining > 0 ? 'active' : 'sold_out';
}

function savedAddress() {
  try {
    const a = JSON.parse(localStorage.getItem(KEY_ADDRESS) || 'null');
    return a && a.name && a.phone && a.region && a.detail ? a : null;
  } catch (e) {
    return null;
  }
}

/** Ask for a delivery address once (kept like the checkout keeps it). */
function addressForm(onSaved) {
  const fields = [['name', '收货人'], ['phone', '手机号'], ['region', '所在地区'], ['detail', '详细地址']];
  const inputs = Object.fromEntries(fields.map(([k, label]) => [k, h('input', { name: k, placeholder: label, maxlength: 100 })]));
  const save = h('button.btn.btn-primary', { type: 'button' }, '保存地址');
  save.addEventListener('click', () => {
    const a = Object.fromEntries(fields.map(([k]) => [k, inputs[k].value.trim()]));
    if (!a.name || !/^\+?[0-9\- ]{5,20}$/.test(a.phone) || !a.region || !a.detail) return toast('请完整填写收货地址');
    localStorage.setItem(KEY_ADDRESS, JSON.stringify(a));
    onSaved();
  });
  return h('section.card.sk-address', h('div.card-title', '抢购前请先填写收货地址'),
    ...fields.map(([k]) => inputs[k]), save);
}

// The feature's own look (the shop's stylesheet is the platform's): injected once.
const CSS = `
.sk-session{margin:8px 0}.sk-session>.card-title{padding:12px 16px 4px}
.sk-item{display:flex;gap:12px;margin:8px 12px;padding:12px;flex-wrap:wrap}
.sk-item>img{width:96px;height:96px;border-radius:8px;object-fit:cover;flex:none}
.sk-body{flex:1;min-width:0;display:flex;flex-direction:column;gap:4px}
.sk-price{color:#e4393c;font-weight:600}.sk-clock{font-size:13px;color:#e4393c}
.sk-buy{align-self:flex-end;min-width:96px}.sk-buy[data-state=sold_out],.sk-buy[data-state=ended]{opacity:.6}
.sk-after{width:100%}.sk-notify{margin:4px 0}.sk-address{width:100%;display:flex;flex-direction:column;gap:6px}
.sk-banner{margin:8px 12px;padding:12px 16px;background:linear-gradient(90deg,#ff4d4f,#ff7a45);color:#fff}
.sk-banner .muted{color:#ffe}`;
function style() {
  if (document.getElementById('sk-style')) return;
  document.head.append(h('style', { id: 'sk-style' }, CSS));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** token → attempt → poll until the order exists → cashier. */
async function grab(item, ctx, address = savedAddress()) {
  const { token } = await api(`/seckill/items/${item.id}/token`, { body: {} });
  const res = await api(`/seckill/items/${item.id}/attempts`, { body: { qty: 1, token, address } });
  let st = res;
  for (let i = 0; st.status === 'queued' && i < 60 && ctx.alive(); i++) {
    await sleep(500);
    st = await api(`/seckill/attempts/${encodeURIComponent(res.attempt_id)}`);
  }
  if (st.status === 'succeeded' && st.order_id) {
    toast('抢到了！请在 5 分钟内支付');
    await startPayment(st.order_id);
    return;
  }
  if (st.status === 'queued') throw Object.assign(new Error('排队中'), { code: 'QUEUED' });
  throw Object.assign(new Error(st.reason || 'FAILED'), { code: st.reason });
}

function similar(item, ctx) {
  const box = h('div.sk-similar');
  api(`/seckill/items/${item.id}/similar`).then((r) => {
    if (!ctx.alive() || !r.items.length) return;
    put(box, h('div.muted.small', '看看这些在售的相似商品'),
      h('div.grid', r.items.map((p) => h('a.card.product-card', { href: `#/p/${p.id}` },
        img(p.image, p.title), h('div.title', p.title), price(p.price_fen)))));
  }).catch(() => {});
  return box;
}

function itemCard(item, ctx, rerender) {
  const state = stateOf(item);
  const clock = h('span.sk-clock');
  const btn = h('button.btn.sk-buy', { type: 'button', dataset: { state } }, STATE[state]);
  const card = h('div.card.sk-item', { dataset: { itemId: String(item.id), state } },
    img(item.image, item.title),
    h('div.sk-body',
      h('div.title', item.title, h('span.muted.small', ` ${item.sku_name}`)),
      h('div', price(item.price_fen, 'sk-price'), h('s.muted.small', ` ¥${(item.original_price_fen / 100).toFixed(2)}`)),
      h('div.muted.small.sk-left', `剩余 ${item.remaining} / ${item.pool}`, item.per_user_limit ? ` · 每人限购 ${item.per_user_limit}` : '',
        item.new_users_only ? ' · 新人专享' : ''),
      clock, btn));
  if (state === 'upcoming') {
    btn.disabled = true;
    const start = Date.parse(item.starts_at);
    const tick = () => {
      const left = start - now();
      clock.textContent = left > 0 ? `距开抢 ${fmtCountdown(left)}` : '';
      if (left <= 0) {
        clearInterval(t);
        rerender();
      }
    };
    const t = setInterval(tick, 250);
    tick();
    ctx.onLeave(() => clearInterval(t));
  } else if (state === 'active') {
    btn.textContent = '马上抢';
    btn.classList.add('btn-primary');
    const end = Date.parse(item.ends_at);
    const tick = () => { clock.textContent = `距结束 ${fmtCountdown(Math.max(0, end - now()))}`; };
    const t = setInterval(tick, 1000);
    tick();
    ctx.onLeave(() => clearInterval(t));
    btn.addEventListener('click', () => {
      if (!localStorage.getItem(KEY_TOKEN)) {
        toast('请先登录');
        goLogin('/seckill');
        return;
      }
      if (!savedAddress()) {
        card.append(addressForm(() => { toast('地址已保存'); rerender(); }));
        return;
      }
      busy(btn, () => grab(item, ctx).catch((err) => {
        if (err && ['AUTH_REQUIRED', 'TOKEN_EXPIRED', 'TOKEN_INVALID'].includes(err.code)) return fail(err, ctx);
        toast(say(err));
        rerender();
      }))();
    });
  } else {
    btn.disabled = true;
    if (state === 'sold_out') {
      const notify = h('button.btn.btn-ghost.sk-notify', { type: 'button' }, '到货提醒');
      notify.addEventListener('click', () => {
        if (!localStorage.getItem(KEY_TOKEN)) return goLogin('/seckill');
        busy(notify, () => api(`/seckill/items/${item.id}/notify-me`, { body: {} }).then(() => {
          notify.textContent = '已设置提醒';
          setTimeout(() => { notify.disabled = true; }, 0);
          toast('补货或下一场开抢时通知你');
        }).catch((err) => toast(say(err))))();
      });
      card.append(h('div.sk-after', notify, similar(item, ctx)));
    }
  }
  return card;
}

function seckillScreen(ctx) {
  style();
  const body = h('div.sk-list', loading());
  function load() {
    api('/seckill/sessions').then((data) => {
      if (!ctx.alive()) return;
      skew = Date.parse(data.server_time) - Date.now();
      if (!data.sessions.length) return put(body, h('p.empty', '暂无秒杀场次，敬请期待'));
      put(body, data.sessions.map((s) => h('section.sk-session', { dataset: { sessionId: String(s.id) } },
        h('div.card-title', s.title, h('span.muted.small', ` ${STATE[s.state] || ''}`)),
        s.items.map((it) => itemCard(it, ctx, load)))));
    }).catch((err) => ctx.fail(err));
  }
  load();
  return h('div.page.seckill', topbar('限时秒杀', { backTo: '#/' }), body);
}

// ---- 商品页：秒杀价、倒计时、立即秒杀 ------------------------------------------------------------

const SECONDS = 1000;
// One answer per product page for the banner and the button (the page's ctx is the key).
const offers = new WeakMap();
function offersOf(p, ctx) {
  if (!offers.has(ctx)) {
    offers.set(ctx, api(`/seckill/products/${p.id}`).then((data) => {
      skew = Date.parse(data.server_time) - Date.now();
      return data.items;
    }).catch(() => []));
  }
  return offers.get(ctx);
}

/** The item the page shows: the chosen SKU's (running before coming), else the product's first. */
function itemFor(items, sku) {
  const mine = items.filter((it) => sku && it.sku_id === sku.id);
  return mine.find((it) => stateOf(it) === 'active') || mine[0] || items.find((it) => stateOf(it) === 'active') || items[0];
}

/** Tick `el` to the item's next edge (start, else end); past it, the page is shown afresh. */
function tickTo(ctx, item, el) {
  const state = stateOf(item);
  const edge = Date.parse(state === 'upcoming' ? item.starts_at : item.ends_at);
  const label = state === 'upcoming' ? '距开抢' : '距结束';
  let t = null;
  const tick = () => {
    const left = edge - now();
    el.textContent = `${label} ${fmtCountdown(left)}`;
    if (left <= 0 && ctx.alive()) {
      clearInterval(t);
      go(location.hash); // 即将开抢 → 立即秒杀, or the sale is over: asked again
    }
  };
  tick();
  t = setInterval(tick, SECONDS / 4);
  return () => clearInterval(t);
}

function productBanners(p, ctx, pick) {
  style();
  const box = h('section.sk-pd', { hidden: true, dataset: { feature: 'seckill' } });
  offersOf(p, ctx).then((items) => {
    if (!ctx.alive() || !items.length) return;
    let stop = () => {};
    ctx.onLeave(() => stop());
    pick.watch(({ sku }) => {
      const it = itemFor(items, sku);
      const state = stateOf(it);
      const clock = h('div.sk-pd-clock');
      stop();
      stop = state === 'upcoming' || state === 'active' ? tickTo(ctx, it, clock) : () => {};
      if (state === 'sold_out') clock.textContent = '已抢光';
      box.dataset.state = state;
      box.dataset.itemId = String(it.id);
      put(box,
        h('div.sk-pd-main',
          h('span.sk-pd-tag', state === 'upcoming' ? '秒杀预告' : '限时秒杀'),
          h('div.sk-pd-price', price(it.price_fen, 'sk-pd-num'), h('s.sk-pd-was', `¥${yuan(it.original_price_fen)}`)),
          h('div.sk-pd-note', it.sku_name, it.per_user_limit ? ` · 每人限购 ${it.per_user_limit}` : '',
            it.new_users_only ? ' · 新人专享' : '')),
        h('div.sk-pd-side', clock, state === 'active' ? h('div.sk-pd-left', `剩余 ${it.remaining} 件`) : null));
      box.hidden = false;
    });
  });
  return box;
}

function productActions(p, ctx, pick) {
  style();
  const btn = h('button.btn.btn-primary.btn-buy.sk-pd-buy', { type: 'button', hidden: true });
  let current = null;
  offersOf(p, ctx).then((items) => {
    if (!ctx.alive() || !items.length) return;
    pick.solo(btn); // 单独购买 at the full price stays beside it
    btn.hidden = false;
    pick.watch(({ sku }) => {
      current = itemFor(items, sku);
      const state = stateOf(current);
      const covered = sku && sku.id === current.sku_id;
      btn.dataset.state = state;
      btn.disabled = state === 'sold_out' || state === 'ended';
      const label = { upcoming: '开抢提醒', active: '立即秒杀', sold_out: '已抢光', ended: '已结束' }[state];
      const top = state === 'upcoming' ? '即将开抢' : (state === 'active' && covered ? `¥${yuan(current.price_fen)}` : null);
      put(btn, top ? h('span.ab-buy-price', top) : null, h('span.ab-buy-label', label));
    });
  });
  btn.addEventListener('click', busy(btn, async () => {
    const { sku } = pick();
    const it = current;
    if (!it) return;
    if (!localStorage.getItem(KEY_TOKEN)) {
      toast('请先登录');
      goLogin(`/p/${p.id}`);
      return;
    }
    const state = stateOf(it);
    if (state === 'upcoming') {
      try {
        await api(`/seckill/items/${it.id}/notify-me`, { body: {} });
        toast('已设置提醒，开抢时通知你', 'ok');
        put(btn, h('span.ab-buy-price', '即将开抢'), h('span.ab-buy-label', '已设提醒'));
      } catch (err) {
        fail(err, ctx);
      }
      return;
    }
    if (state !== 'active') return;
    if (!sku || sku.id !== it.sku_id) {
      toast(`秒杀规格为「${it.sku_name}」，请先选择该规格`);
      return;
    }
    try {
      // The address book's default first; a shopper without one adds it and comes back here.
      await grab(it, ctx, null).catch((err) => {
        const saved = savedAddress();
        if (err && err.code === 'ADDRESS_REQUIRED' && saved) return grab(it, ctx, saved);
        throw err;
      });
    } catch (err) {
      if (err && err.code === 'ADDRESS_REQUIRED') {
        toast('请先添加收货地址');
        go(`#/me/addresses/new?back=${encodeURIComponent(`#/p/${p.id}`)}`);
        return;
      }
      if (err && (err.status === 401 || ['AUTH_REQUIRED', 'TOKEN_EXPIRED', 'TOKEN_INVALID'].includes(err.code))) return fail(err, ctx);
      toast(say(err));
    }
  }));
  return btn;
}

// ---- 首页：限时秒杀 ------------------------------------------------------------------------------

function homeSections(ctx) {
  style();
  const box = h('section.section.sk-home', { hidden: true, dataset: { feature: 'seckill', rank: '10' } });
  api('/seckill/sessions').then((data) => {
    if (!ctx.alive()) return;
    skew = Date.parse(data.server_time) - Date.now();
    const sess = data.sessions.find((x) => x.state === 'active' && x.items.length)
      || data.sessions.find((x) => x.state === 'upcoming' && x.items.length);
    if (!sess) return; // no session running or to come: no row
    const clock = h('span.sk-home-clock');
    const first = sess.items[0];
    ctx.onLeave(tickTo(ctx, first, clock));
    put(box,
      h('a.sk-banner.sk-home-head', { href: '#/seckill' },
        h('strong', '限时秒杀'), h('span.sk-home-title', sess.title), clock, h('span.sk-home-more', '更多 ›')),
      h('div.sk-home-row', sess.items.slice(0, 8).map((it) => h('a.sk-home-item', {
        href: `#/p/${it.product_id}`, dataset: { itemId: String(it.id) },
      }, img(it.image, it.title, 'sk-home-img'),
      h('div.sk-home-name', it.title),
      price(it.price_fen, 'sk-home-price'), h('s.sk-home-was', `¥${yuan(it.original_price_fen)}`)))));
    box.hidden = false;
  }).catch(() => {});
  return box;
}

export const routes = [[/^\/seckill$/, seckillScreen, {}]];
export { homeSections, productActions, productBanners };
