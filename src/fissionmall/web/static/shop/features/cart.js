// 购物车: the shopper's server-side cart (#/cart), 加入购物车 on the product page, the badge on the tab bar.
// Checkout from the cart goes to the one checkout (#/checkout) with `from_cart: true`: the selected valid
// lines are ordered and leave the cart with the order.

import { api, getToken } from '../api.js';
import { busy, empty, go, goLogin, loading, put, topbar } from '../kit.js';
import { confirmBox, errorText, h, icon, img, price, stepper, toast, yuan } from '../ui.js';

const KEY_CHECKOUT = 'fm.checkout'; // what screens/checkout.js reads: {items} or {from_cart}, and the attempt
const PLUS_ICON = 'M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z';
const CART_ICON = 'M7 18a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm10 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4zM1 2h3.3l.9 2H21a1 1 0 0 1 .9 1.4l-3.6 7.1A2 2 0 0 1 16.5 14H8.1l-1.1 2H19v2H7a2 2 0 0 1-1.7-3l1.4-2.5L3 4H1z';
const REASON = { sold_out: '已售罄', off_shelf: '已下架', sku_gone: '规格已失效' };

// ---- the tab bar's badge ---------------------------------------------------------------------

function showBadge(n) {
  const badge = document.getElementById('cart-badge');
  if (!badge) return;
  badge.hidden = !n;
  badge.textContent = n > 99 ? '99+' : String(n || '');
}

/** Ask the server how many lines the cart holds and show it on the tab bar (only when logged in). */
export function refreshBadge() {
  if (!getToken()) {
    showBadge(0);
    return;
  }
  api('/cart/count').then((r) => showBadge(r.count)).catch(() => {});
}

// After each navigation, once the router has shown the screen: the badge follows orders placed from the cart.
window.addEventListener('hashchange', () => setTimeout(() => {
  const bar = document.getElementById('tabbar');
  if (bar && !bar.hidden) refreshBadge();
}, 0));
refreshBadge();

// ---- 购物车 ------------------------------------------------------------------------------------

function priceNote(it) {
  if (it.invalid_reason !== 'price_changed') return null;
  const diff = it.unit_price_fen - it.price_fen_added;
  return h('div.line-note.cart-price-changed', diff < 0 ? `价格变动：比加入时降 ¥${yuan(-diff)}` : `价格变动：比加入时涨 ¥${yuan(diff)}`);
}

function cartScreen(ctx) {
  const body = h('div', loading());
  const invalidBox = h('section.card.cart-invalid', { hidden: true });
  const allBox = h('input.cart-check', { type: 'checkbox', 'aria-label': '全选' });
  const totalBox = h('span.submit-total');
  const go2 = h('button.btn.btn-primary.btn-submit.cart-go', { type: 'button', disabled: true }, '去结算');
  let cart = null;

  function summary(c) {
    cart = c;
    showBadge(c.count);
    const valid = c.items.filter((i) => i.valid);
    allBox.checked = valid.length > 0 && valid.every((i) => i.selected);
    allBox.disabled = !valid.length;
    put(totalBox, h('span.small', '合计：'), price(c.selected_fen, 'price-red'));
    go2.textContent = `去结算 (${c.selected_count})`;
    go2.disabled = !c.selected_count;
  }

  async function call(path, opts) {
    try {
      const c = await api(path, opts);
      if (ctx.alive() && c) summary(c);
      return c;
    } catch (err) {
      ctx.fail(err);
      if (ctx.alive()) reload();
      return null;
    }
  }

  function lineView(it) {
    const check = h('input.cart-check', { type: 'checkbox', checked: it.selected, 'aria-label': `选择 ${it.title}` });
    check.addEventListener('change', () => call(`/cart/items/${it.id}`, { method: 'PATCH', body: { selected: check.checked } }));
    const max = Math.max(1, Math.min(it.stock, 999));
    const qty = stepper(Math.min(it.qty, max), 1, max, (n) => {
      if (n !== it.qty) {
        it.qty = n;
        call(`/cart/items/${it.id}`, { method: 'PATCH', body: { qty: n } });
      }
    }, `${it.title} 数量`);
    const del = h('button.link-btn.cart-del', { type: 'button' }, '删除');
    del.addEventListener('click', busy(del, async () => {
      if (!(await confirmBox('确定把这件商品移出购物车吗？', '删除'))) return;
      if ((await call(`/cart/items/${it.id}`, { method: 'DELETE' })) !== null) reload();
    }));
    return h('div.line.cart-line', { dataset: { id: String(it.id), sku: String(it.sku_id) } },
      check,
      h('a', { href: `#/p/${it.product_id}` }, img(it.image, it.title)),
      h('div.line-main',
        h('div.line-title', it.title), h('div.line-sku', it.sku_name), priceNote(it),
        it.qty > it.stock ? h('div.line-note', `仅剩 ${it.stock} 件`) : null,
        h('div.cart-line-foot', price(it.unit_price_fen, 'price-red'), qty)),
      h('div.line-side', del));
  }

  function invalidView(it) {
    return h('div.line.cart-line.cart-line-invalid', { dataset: { id: String(it.id) } },
      h('span.cart-tag', '失效'),
      img(it.image, it.title),
      h('div.line-main', h('div.line-title', it.title), h('div.line-sku', it.sku_name),
        h('div.line-note.cart-reason', REASON[it.invalid_reason] || '已失效')));
  }

  async function reload() {
    let c;
    try {
      c = await api('/cart');
    } catch (err) {
      if (!ctx.alive()) return;
      put(body, h('div.error-box', errorText(err)));
      ctx.failShown(err);
      return;
    }
    if (!ctx.alive()) return;
    summary(c);
    const valid = c.items.filter((i) => i.valid);
    const invalid = c.items.filter((i) => !i.valid);
    put(body, valid.length
      ? h('section.card.cart-lines', ...valid.map(lineView))
      : empty(invalid.length ? '没有可购买的商品' : '购物车还是空的', h('a.btn.btn-primary', { href: '#/' }, '去逛逛')));
    invalidBox.hidden = !invalid.length;
    if (invalid.length) {
      const clear = h('button.link-btn.cart-clear', { type: 'button' }, '清空失效商品');
      clear.addEventListener('click', busy(clear, async () => {
        if ((await call('/cart/remove-invalid', { method: 'POST' })) !== null) reload();
      }));
      put(invalidBox, h('div.card-title.cart-invalid-head', h('span', `失效商品 ${invalid.length} 件`), clear),
        ...invalid.map(invalidView));
    }
  }

  allBox.addEventListener('change', async () => {
    if (!cart) return;
    const ids = cart.items.filter((i) => i.valid).map((i) => i.id);
    if ((await call('/cart/select', { body: { selected: allBox.checked, ids } })) !== null) reload();
  });

  go2.addEventListener('click', busy(go2, async () => {
    // A line that went invalid while selected would refuse the whole checkout: unselect it first.
    const stale = (cart ? cart.items : []).filter((i) => !i.valid && i.selected).map((i) => i.id);
    if (stale.length && (await call('/cart/select', { body: { selected: false, ids: stale } })) === null) return;
    localStorage.setItem(KEY_CHECKOUT, JSON.stringify({ from_cart: true, attempt: null }));
    go('#/checkout');
  }));

  reload();
  return h('div.page.cart', topbar('购物车'), body, invalidBox,
    h('div.submitbar.cart-bar', h('label.cart-all', allBox, h('span', '全选')), totalBox, go2));
}

// ---- 加入购物车 on the product page ---------------------------------------------------------------

function productActions(p, ctx, pick) {
  const link = h('a.ab-icon.ab-cart', { href: '#/cart' }, icon(CART_ICON), h('span', '购物车'));
  // Beside a tool's pair of buy buttons (秒杀, 拼团) the bar shows it icon-sized (加购), so it stays there.
  const add = h('button.btn.btn-ghost.btn-buy.btn-cart', {
    type: 'button', 'aria-label': '加入购物车', disabled: !(p.skus || []).some((k) => k.stock > 0),
  }, h('span.btn-cart-full', '加入购物车'), h('span.btn-cart-mini', icon(PLUS_ICON), h('span', '加购')));
  add.addEventListener('click', busy(add, async () => {
    const { sku, qty } = pick();
    if (!sku) return;
    if (!getToken()) {
      toast('请先登录');
      goLogin(`/p/${p.id}`);
      return;
    }
    try {
      const c = await api('/cart/items', { body: { sku_id: sku.id, qty } });
      toast('已加入购物车', 'ok');
      showBadge(c.count);
    } catch (err) {
      ctx.fail(err);
    }
  }));
  return [link, add];
}

export const routes = [[/^\/cart$/, cartScreen, { auth: true, tab: 'cart' }]];
export { productActions };
