// 确认订单 and the sandbox 收银台. The one checkout, for 立即购买 (`{items}`) and the cart (`{from_cart: true}`):
// the address (from the book, or a first one typed here), the coupon picker (the best one preselected; choose,
// change or 不使用优惠券; the unusable ones with why), the 凑单 hints, the previewed price chain, the order placed
// under one Idempotency-Key per attempt, then the payment.

import { api, randomId, serverNow } from '../api.js';
import { ICONS, PAYMENT_STATUS, errorText, h, icon, img, price, sheet, toast, yuan } from '../ui.js';
import { busy, countdown, empty, featureFields, featureNotify, featureSections, go, loading, put, startPayment, stepRows, topbar } from '../kit.js';
import { PHONE_RE, addressBlock, regionPicker } from '../features/addresses.js';

// {items, attempt} from the product page, or {from_cart: true, attempt} from the cart (features/cart.js).
export const KEY_CHECKOUT = 'fm.checkout';
const KEY_ADDRESS = 'fm.address';
const KEY_ADDRESS_ID = 'fm.checkout.address'; // the book entry chosen at checkout (else the default)

function readJSON(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null');
  } catch (e) {
    return null;
  }
}

// ---- 确认订单 ----------------------------------------------------------------------------------

const ADDRESS_FIELDS = [
  ['name', '收货人', '请填写收货人姓名', 'text', 'name'],
  ['phone', '手机号', '请填写收货人手机号', 'tel', 'tel'],
  ['detail', '详细地址', '街道、门牌号等', 'text', 'street-address'],
];

export function checkoutScreen(ctx) {
  const state = readJSON(KEY_CHECKOUT);
  const fromCart = Boolean(state && state.from_cart);
  if (!state || (!fromCart && (!Array.isArray(state.items) || !state.items.length))) {
    return h('div.page', topbar('确认订单'), empty('没有待结算的商品', h('a.btn.btn-primary', { href: '#/' }, '去逛逛')));
  }
  const goods = () => (fromCart ? { from_cart: true } : { items: state.items });
  // The address: the book's default (or the entry chosen here, 更换地址), sent as `address_id`; with an empty
  // book, a form whose address is saved to the book (becoming the default) before the order is placed.
  const saved = readJSON(KEY_ADDRESS) || {};
  const inputs = {};
  const addrRows = ADDRESS_FIELDS.map(([key, label, ph, type, ac]) => {
    inputs[key] = h('input', { name: key, type, placeholder: ph, autocomplete: ac, value: saved[key] || '', maxlength: key === 'detail' ? 200 : 100 });
    return h('label.form-row', h('span.form-label', label), inputs[key]);
  });
  // 所在地区 from the 省/市/区 table (the address book's picker), so the order carries a region code that
  // shipping templates price by; it goes after 手机号, where shoppers expect it.
  const region = regionPicker(saved.region ? { region: saved.region, region_code: saved.region_code } : null);
  addrRows.splice(2, 0, h('div.form-row', h('span.form-label', '所在地区'), region.el));
  const addrBox = h('div.addr-box', loading());
  let book = null; // null: not loaded; []: empty, the form shows
  let chosen = null;
  function showAddress() {
    if (!book.length) {
      put(addrBox, ...addrRows);
      return;
    }
    const change = h('button.btn.btn-small.addr-change', { type: 'button' }, '更换地址');
    change.addEventListener('click', async () => {
      const picked = await sheet('选择收货地址', (close) => h('div.addr-pick',
        ...book.map((a) => h('button.addr-option', { type: 'button', 'data-id': String(a.id), onclick: () => close(a) },
          addressBlock(a), a.id === chosen.id ? h('span.muted.small', '当前选择') : null)),
        h('a.btn.btn-block', { href: `#/me/addresses/new?back=${encodeURIComponent('#/checkout')}`, onclick: () => close() },
          '＋ 新增收货地址'),
        h('a.btn.btn-block', { href: '#/me/addresses', onclick: () => close() }, '管理收货地址')));
      if (!picked || !ctx.alive()) return;
      chosen = picked;
      sessionStorage.setItem(KEY_ADDRESS_ID, String(picked.id));
      showAddress();
      refresh(); // another address may ship for another fee, or not at all
    });
    put(addrBox, h('div.addr-chosen', { 'data-id': String(chosen.id) }, addressBlock(chosen)), change);
  }
  // An address just added from here (新增收货地址 comes back with ?picked=ID) is the one chosen.
  const justAdded = ctx.query.get('picked');
  if (justAdded) sessionStorage.setItem(KEY_ADDRESS_ID, justAdded);
  // The preview waits for the book: its 运费 is the chosen address's, as the order's will be.
  api('/me/addresses').then((r) => {
    if (!ctx.alive()) return;
    book = r.items;
    const want = sessionStorage.getItem(KEY_ADDRESS_ID);
    chosen = book.find((a) => String(a.id) === want) || book.find((a) => a.is_default) || book[0] || null;
    showAddress();
    refresh();
  }).catch((err) => {
    if (!ctx.alive()) return;
    book = [];
    showAddress();
    refresh();
    ctx.failShown(err);
  });
  const remark = h('input', { name: 'remark', placeholder: '选填，请先和商家协商一致', maxlength: 200 });

  const linesBox = h('div', loading());
  const stepsBox = h('div.steps');
  const totalBox = h('span.submit-total');
  const submit = h('button.btn.btn-primary.btn-submit', { type: 'button', disabled: true }, '提交订单');

  function readAddress() {
    const a = {};
    for (const [key] of ADDRESS_FIELDS) a[key] = inputs[key].value.trim();
    return Object.assign(a, region.value() || {});
  }
  function checkAddress(a) {
    if (!a.name) return '请填写收货人';
    if (!PHONE_RE.test(a.phone)) return '请填写正确的手机号';
    if (!a.region) return region.problem() || '请选择所在地区';
    if (!a.detail) return '请填写详细地址';
    return null;
  }

  // The coupon: the preview preselects the shopper's best one; the picker changes it or chooses none.
  let choice = { couponId: null, none: false };
  let last = null;
  const couponRow = h('button.coupon-row', { type: 'button', disabled: true });
  const hintsBox = h('div.tier-hints');

  let asked = 0; // the newest preview asked for: an older answer arriving late is dropped
  let pending = Promise.resolve();
  // Priced again (the address or the coupon changed): 提交订单 waits for the answer rather than being
  // disabled meanwhile, as leaving a field to tap it is itself a change that asks again.
  function refresh() {
    pending = preview();
    return pending;
  }
  ctx.reprice = refresh; // for a feature's checkout rows
  async function preview() {
    const body = { ...goods(), ...featureFields('checkoutBody', ctx) };
    if (choice.couponId) body.coupon_id = choice.couponId;
    // Where it ships decides the 运费 (and whether it ships at all): the chosen entry of the book, or the
    // address typed here once it is complete; until then the preview says it used the default rule.
    if (chosen) body.address_id = chosen.id;
    else if (book && !book.length && !checkAddress(readAddress())) body.address = readAddress();
    const mine = ++asked;
    let q;
    try {
      q = await api('/coupons/checkout-preview' + (choice.none ? '?pick_best=false' : ''), { body });
      if (mine !== asked) return;
    } catch (err) {
      if (!ctx.alive() || mine !== asked) return;
      last = null;
      submit.disabled = true;
      // A feature whose field was refused (积分 above the cap) says why and changes its field: ask again.
      if (featureFields('checkoutRefused', err, ctx).retry) {
        await preview();
        return;
      }
      if (choice.couponId) {
        // The chosen coupon no longer applies: say why, and go back to the best one.
        toast(errorText(err));
        choice = { couponId: null, none: false };
        await preview();
        return;
      }
      put(linesBox, h('div.error-box', errorText(err)));
      ctx.failShown(err);
      return;
    }
    if (!ctx.alive()) return;
    last = q;
    featureNotify('checkoutQuote', q, ctx);
    put(linesBox, ...q.lines.map((ln) => h('div.line',
      img(ln.image, ln.title),
      h('div.line-main', h('div.line-title', ln.title), h('div.line-sku', ln.sku_name)),
      h('div.line-side', price(ln.unit_price_fen), h('div.muted.small', `×${ln.qty}`)))));
    const usable = q.coupons_available.length;
    put(couponRow, h('span', '优惠券'),
      q.coupon ? h('span.price-red.chosen-coupon', `${q.coupon.name} -¥${yuan(q.coupon.discount_fen)}`)
        : h('span.muted.coupon-none', choice.none && usable ? '不使用优惠券' : (usable ? `${usable} 张可用` : '无可用券')));
    couponRow.disabled = false;
    put(hintsBox, ...(q.hints || []).map((text) => h('div.tier-hint', text)));
    put(stepsBox, ...stepRows(q.steps), h('div.step.step-total', h('span', '实付款'), price(q.payable_fen, 'price-red')));
    put(totalBox, h('span.small', '合计：'), price(q.payable_fen, 'price-red'));
    submit.disabled = false;
  }

  couponRow.addEventListener('click', async () => {
    if (!last) return;
    const chosenId = last.coupon ? last.coupon.id : null;
    const picked = await sheet('选择优惠券', (close) => [
      ...last.coupons_available.map((c) => h(`button.coupon-pick${c.id === chosenId ? '.on' : ''}`,
        { type: 'button', dataset: { coupon: c.id }, onclick: () => close({ id: c.id }) },
        h('div.coupon-pick-main', h('strong', c.name), h('div.muted.small', c.headline)),
        h('span.price-red', `省¥${yuan(c.discount_fen)}`))),
      ...last.coupons_unavailable.map((c) => h('div.coupon-unusable', { dataset: { coupon: c.id } },
        h('div.coupon-pick-main', h('strong', c.name), h('div.muted.small', c.headline)),
        h('span.small.reason', c.reason))),
      last.coupons_available.length || last.coupons_unavailable.length ? null : h('p.muted.small', '暂无优惠券'),
      h('button.btn.btn-ghost.btn-block', { type: 'button', onclick: () => close({ none: true }) }, '不使用优惠券'),
    ]);
    if (!picked || !ctx.alive()) return;
    choice = picked.none ? { couponId: null, none: true } : { couponId: picked.id, none: false };
    refresh();
  });
  // The first address typed here: priced again once it is complete (a change of 省 can change the fee).
  region.el.addEventListener('change', () => refresh());
  for (const key of ['name', 'phone', 'detail']) inputs[key].addEventListener('change', () => refresh());

  submit.addEventListener('click', busy(submit, async () => {
    await pending;
    if (book === null || !last) return;
    if (!book.length) {
      const address = readAddress();
      const problem = checkAddress(address);
      if (problem) {
        toast(problem);
        return;
      }
      localStorage.setItem(KEY_ADDRESS, JSON.stringify(address));
      try {
        chosen = await api('/me/addresses', { body: address }); // the first address: the default from now on
      } catch (err) {
        ctx.fail(err);
        return;
      }
      book = [chosen];
      showAddress();
      // Priced for the address as saved: a fee the page did not show yet is shown first, never charged.
      const shown = last.payable_fen;
      await refresh();
      if (!last) return;
      if (last.payable_fen !== shown) {
        toast('已按收货地址更新运费，请确认金额后提交');
        return;
      }
    }
    // The order is placed with exactly the coupon the preview shows (or none).
    const body = { ...goods(), ...featureFields('checkoutBody', ctx), address_id: chosen.id, remark: remark.value.trim() };
    if (last && last.coupon) body.coupon_id = last.coupon.id;
    const bodyText = JSON.stringify(body);
    // One key per attempt: a retry of the very same request reuses it, so a lost reply never makes two orders.
    if (!state.attempt || state.attempt.body !== bodyText) state.attempt = { key: randomId('order-'), body: bodyText };
    localStorage.setItem(KEY_CHECKOUT, JSON.stringify(state));
    let order;
    try {
      order = await api('/orders', { body, idem: state.attempt.key });
    } catch (err) {
      if (featureFields('checkoutRefused', err, ctx).retry) refresh();
      else ctx.fail(err);
      return;
    }
    localStorage.removeItem(KEY_CHECKOUT);
    try {
      await startPayment(order.id, true);
    } catch (err) {
      ctx.fail(err);
      go(`#/orders/${order.id}`, true);
    }
  }));

  return h('div.page.checkout',
    topbar('确认订单'),
    h('section.card.addr-card', h('div.card-title', icon(ICONS.pin, 'icon icon-accent'), '收货地址'), addrBox),
    h('section.card', h('div.card-title', '商品信息'), linesBox, hintsBox,
      h('label.form-row.remark-row', h('span.form-label', '订单备注'), remark)),
    h('section.card.coupon-card', couponRow),
    // A feature's own checkout rows (积分抵扣): each re-prices through `ctx.reprice()` when changed.
    ...featureSections('checkoutSections', ctx),
    h('section.card', h('div.card-title', '价格明细'), stepsBox),
    h('div.submitbar', totalBox, submit));
}

// ---- 收银台 (sandbox) --------------------------------------------------------------------------

/** `iso` moved onto this page's clock (serverNow), given the server's time when the answer was made. */
function byServer(iso, serverTime) {
  const at = Date.parse(serverTime || '');
  return Number.isNaN(at) ? iso : new Date(Date.parse(iso) - at + serverNow()).toISOString();
}

/** What the amount is made of, so a shopper who saw ¥59.90 on the 立即秒杀 button sees why it is ¥67.90 here. */
export function amountParts(o) {
  // A virtual order (a top-up, a paid membership) has no goods to ship: name what is bought instead.
  if (!o.lines.length) return (o.steps || []).filter((st) => st.kind === 'goods').map((st) => `${st.label} ¥${yuan(st.amount_fen)}`).join(' · ');
  const goods = o.goods_fen - o.discount_fen;
  const parts = [`商品 ¥${yuan(goods)}`, o.shipping_fen > 0 ? `运费 ¥${yuan(o.shipping_fen)}` : '包邮'];
  if (o.discount_fen > 0) parts.push(`已优惠 ¥${yuan(o.discount_fen)}`);
  return parts.join(' · ');
}

export function cashierScreen(ctx) {
  const pid = ctx.params[0];
  const body = h('div', loading());
  (async () => {
    try {
      const p = await api(`/payments/${pid}`);
      if (!ctx.alive()) return;
      const deadline = h('div.cashier-deadline');
      const btn = h('button.btn.btn-wechat.btn-block', { type: 'button' }, '沙箱支付：确认付款');
      btn.addEventListener('click', busy(btn, async () => {
        try {
          await api(`/payments/sandbox/${pid}/succeed`, { method: 'POST' });
        } catch (err) {
          ctx.fail(err);
          return;
        }
        toast('支付成功', 'ok');
        go(`#/orders/${p.order_id}`, true);
      }));
      const pending = p.status === 'pending';
      const orderNo = h('span.cashier-order-no');
      const breakdown = h('div.cashier-breakdown');
      put(body,
        h('div.cashier-amount', h('div.muted', '支付金额'), price(p.amount_fen, 'cashier-price'), breakdown, deadline),
        h('section.card.pay-methods',
          h('div.pay-method',
            h('span.pay-method-icon', icon(ICONS.wechat)),
            h('span.pay-method-name', '微信支付', h('small', '沙箱模拟，不会真实扣款')),
            h('span.radio.on', { 'aria-hidden': 'true' })),
          // Other ways to pay (余额): a feature's rows, given the payment and the order's id.
          ...(pending ? featureSections('cashierMethods', p, ctx) : [])),
        // The order's number as the shopper's order list shows it (filled in below), never a row id.
        h('div.cashier-info', orderNo, h('span', `状态：${PAYMENT_STATUS[p.status] || p.status}`)),
        pending ? btn : h('a.btn.btn-primary.btn-block', { href: `#/orders/${p.order_id}` }, '查看订单'),
        h('p.sandbox-note', '这是沙箱收银台：点击按钮即模拟微信支付成功，并走与真实回调相同的签名通知流程。'));
      api(`/orders/${p.order_id}`).then((o) => {
        if (!ctx.alive()) return;
        orderNo.textContent = `订单号 ${o.no}`;
        breakdown.textContent = amountParts(o);
        // Counted from the order's own server_time (ms), not the HTTP Date header (whole seconds, and a
        // moment stale): a 5-minute window then starts at 05:00 or less, never 05:01.
        if (pending && o.status === 'pending_payment') countdown(ctx, byServer(o.pay_deadline, o.server_time), deadline, (left) => `剩余支付时间 ${left}`);
      }).catch(() => {});
    } catch (err) {
      if (!ctx.alive()) return;
      put(body, empty(errorText(err), h('a.btn.btn-ghost', { href: '#/orders' }, '查看订单')));
      ctx.failShown(err);
    }
  })();
  return h('div.page.cashier', topbar('收银台', { backTo: '#/orders' }),
    h('div.sandbox-banner', '沙箱环境 · 模拟支付'), body);
}
