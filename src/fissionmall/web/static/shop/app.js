// 裂变商城 H5: a hash-routed client of /api/v1. No framework, no build step.

import {
  api, ApiError, captureRef, clearRef, deviceLoginCode, getToken, pendingRef, randomId, setToken,
} from './api.js';
import {
  AUTH_CODES, ICONS, ORDER_STATUS, PAYMENT_STATUS, REFUND_STATUS, confirmBox, errorText, fmtTime, h,
  icon, img, loadErrorTexts, price, sheet, stepper, toast, yuan,
} from './ui.js';
import {
  back, busy, countdown, empty, fail, featureSections, go, goLogin, loading, parseHash, put, setHashQuery,
  startPayment, stepRows, topbar, trackDepth, wire,
} from './kit.js';

// Marketing tools add screens and sections as files under features/ (see web/shop.py); they import the
// shop's helpers from kit.js and ui.js, never from here.
import features from '/shop/features.js';
import { PHONE_RE, addressBlock } from '/static/shop/features/addresses.js';

const view = document.getElementById('view');
const tabbar = document.getElementById('tabbar');

const KEY_CHECKOUT = 'fm.checkout';
const KEY_ADDRESS = 'fm.address';
const KEY_ADDRESS_ID = 'fm.checkout.address'; // the book entry chosen at checkout (else the default)

// ---- router ------------------------------------------------------------------------------------

let current = null; // {leave: [fn], alive}

const ROUTES = [
  [/^\/$/, homeScreen, { tab: 'home' }],
  [/^\/p\/(\d+)$/, productScreen, {}],
  [/^\/checkout$/, checkoutScreen, { auth: true }],
  [/^\/cashier\/(\d+)$/, cashierScreen, { auth: true }],
  [/^\/orders$/, ordersScreen, { auth: true, tab: 'orders' }],
  [/^\/orders\/(\d+)$/, orderScreen, { auth: true }],
  [/^\/me$/, meScreen, { auth: true, tab: 'me' }],
  [/^\/login$/, loginScreen, {}],
];
for (const f of features) ROUTES.push(...(f.routes || []));

function render() {
  if (current) current.leave.forEach((fn) => fn());
  trackDepth();
  const { path, query } = parseHash();
  let match = null;
  for (const [re, screen, opts] of ROUTES) {
    const m = re.exec(path);
    if (m) {
      match = { screen, opts, params: m.slice(1) };
      break;
    }
  }
  if (!match) {
    go('#/', true);
    return;
  }
  if (match.opts.auth && !getToken()) {
    goLogin(path + (query.toString() ? '?' + query : ''), true);
    return;
  }
  const ctx = { params: match.params, query, path, leave: [] };
  ctx.alive = () => current === ctx;
  ctx.onLeave = (fn) => ctx.leave.push(fn);
  ctx.fail = (err) => fail(err, ctx);
  // For a screen that failed to load and says why on the page: only a login problem needs acting on.
  ctx.failShown = (err) => {
    if (err instanceof ApiError && (AUTH_CODES.has(err.code) || err.status === 401)) fail(err, ctx);
  };
  current = ctx;
  tabbar.hidden = !match.opts.tab;
  document.body.classList.toggle('has-tabbar', Boolean(match.opts.tab));
  for (const a of tabbar.querySelectorAll('.tab')) a.classList.toggle('active', a.dataset.tab === match.opts.tab);
  const node = match.screen(ctx);
  put(view, node);
  window.scrollTo(0, 0);
}

function labelTags(labels) {
  return (labels || []).length ? h('div.tags', labels.map((t) => h('span.tag', t))) : null;
}

function readJSON(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null');
  } catch (e) {
    return null;
  }
}

// ---- 首页 --------------------------------------------------------------------------------------

function homeScreen(ctx) {
  let q = ctx.query.get('q') || '';
  let categoryId = ctx.query.get('c') || '';
  let cursor = null;

  const input = h('input.search-input', {
    type: 'search', placeholder: '搜索商品，如 脐橙、坚果', value: q, enterkeyhint: 'search', 'aria-label': '搜索商品',
  });
  const form = h('form.search', { role: 'search' }, icon(ICONS.search, 'icon search-icon'), input,
    h('button.search-btn', { type: 'submit' }, '搜索'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    input.blur();
    q = input.value.trim().slice(0, 60);
    reload();
  });

  const chips = h('div.chips', { role: 'tablist', 'aria-label': '商品分类' });
  const grid = h('div.grid');
  const more = h('div.more');

  function chip(id, name) {
    const b = h('button.chip', { type: 'button', role: 'tab', dataset: { id: String(id) } }, name);
    b.addEventListener('click', () => {
      categoryId = String(id || '');
      reload();
    });
    return b;
  }
  function markChips() {
    for (const b of chips.children) {
      const on = (b.dataset.id === '0' ? '' : b.dataset.id) === categoryId;
      b.classList.toggle('active', on);
      b.setAttribute('aria-selected', on ? 'true' : 'false');
    }
  }

  function card(p) {
    return h('a.card.pcard', { href: `#/p/${p.id}` },
      img(p.images && p.images[0], p.title, 'pcard-img'),
      h('div.pcard-body',
        h('div.pcard-title', p.title),
        labelTags(p.labels),
        h('div.pcard-foot', price(p.price_fen, 'pcard-price'), h('span.muted.small', `已售 ${p.sales}`))));
  }

  async function load(append) {
    put(more, append ? h('div.muted.small', '加载中…') : '');
    if (!append) put(grid, ...Array.from({ length: 4 }, () => h('div.card.pcard.skeleton')));
    try {
      const page = await api('/products', { query: { q, category_id: categoryId, cursor, limit: 10 } });
      if (!ctx.alive()) return;
      if (!append) put(grid);
      grid.append(...page.items.map(card));
      cursor = page.next_cursor;
      if (!grid.children.length) {
        put(grid);
        put(more, empty(q ? `没有找到“${q}”相关的商品` : '这里还没有商品'));
      } else if (cursor) {
        const b = h('button.btn-more', { type: 'button' }, '加载更多');
        b.addEventListener('click', () => load(true));
        put(more, b);
      } else {
        put(more, h('div.end', '— 没有更多了 —'));
      }
    } catch (err) {
      if (!append) put(grid);
      put(more, h('button.btn-more', { type: 'button', onclick: () => load(append) }, '加载失败，点击重试'));
      ctx.fail(err);
    }
  }

  function reload() {
    cursor = null;
    setHashQuery('/', { q, c: categoryId });
    markChips();
    load(false);
  }

  chips.append(chip(0, '全部'));
  markChips();
  api('/categories').then((cats) => {
    if (!ctx.alive()) return;
    chips.append(...cats.map((c) => chip(c.id, c.name)));
    markChips();
  }).catch(ctx.fail);
  load(false);

  return h('div.page.home',
    h('header.home-head',
      h('div.brand', h('span.brand-logo', '裂'), h('span.brand-name', '裂变商城'), h('span.brand-sub', '好物低价 · 产地直发')),
      form),
    chips,
    ...featureSections('homeSections', ctx),
    h('section.section', h('h2.section-title', '为你推荐'), grid, more));
}

// ---- 商品详情 ----------------------------------------------------------------------------------

function productScreen(ctx) {
  const id = ctx.params[0];
  const root = h('div.page.product', loading());
  api(`/products/${id}`).then((p) => ctx.alive() && put(root, ...productView(p, ctx))).catch((err) => {
    if (!ctx.alive()) return;
    put(root, topbar('商品详情'), empty(errorText(err), h('a.btn.btn-ghost', { href: '#/' }, '返回首页')));
    ctx.failShown(err);
  });
  return root;
}

function gallery(images, title) {
  const list = images && images.length ? images : [null];
  const counter = h('span.gallery-count', `1/${list.length}`);
  const track = h('div.gallery-track', list.map((src) => img(src, title, 'gallery-img')));
  track.addEventListener('scroll', () => {
    const i = Math.round(track.scrollLeft / Math.max(1, track.clientWidth));
    counter.textContent = `${i + 1}/${list.length}`;
  }, { passive: true });
  return h('div.gallery', track, list.length > 1 ? counter : null);
}

function productView(p, ctx) {
  const skus = p.skus || [];
  let sku = skus.find((k) => k.stock > 0) || null;
  let qty = 1;

  const priceBox = h('div.pd-price');
  const stockText = h('span.pd-stock');
  const chosen = h('span.pd-chosen');
  const buy = h('button.btn.btn-primary.btn-buy', { type: 'button' }, '立即购买');
  let qtyStepper = stepper(1, 1, Math.max(1, sku ? sku.stock : 1), (n) => {
    qty = n;
  });
  const qtyRow = h('div.pd-row', h('span.pd-row-label', '数量'), qtyStepper);

  const skuButtons = skus.map((k) => {
    const b = h('button.sku', { type: 'button', disabled: k.stock <= 0, 'aria-pressed': 'false', dataset: { id: String(k.id) } },
      k.name, k.stock <= 0 ? h('em', '缺货') : null);
    b.addEventListener('click', () => {
      sku = k;
      refresh();
    });
    return b;
  });

  function refresh() {
    for (const b of skuButtons) {
      const on = sku && b.dataset.id === String(sku.id);
      b.classList.toggle('active', Boolean(on));
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    put(priceBox, price(sku ? sku.price_fen : p.price_fen, 'pd-price-num'), sku ? null : h('span.pd-qi', '起'),
      h('span.pd-sales', `已售 ${p.sales}`));
    stockText.textContent = sku ? `库存 ${sku.stock} 件` : '暂时缺货';
    chosen.textContent = sku ? `已选：${sku.name}` : '请选择规格';
    const max = sku ? Math.max(1, sku.stock) : 1;
    qty = Math.min(qty, max);
    const next = stepper(qty, 1, max, (n) => {
      qty = n;
    });
    qtyStepper.replaceWith(next);
    qtyStepper = next;
    buy.disabled = !sku || sku.stock <= 0;
    buy.textContent = sku ? '立即购买' : '暂时缺货';
  }

  buy.addEventListener('click', () => {
    if (!sku) return;
    localStorage.setItem(KEY_CHECKOUT, JSON.stringify({ items: [{ sku_id: sku.id, qty }], attempt: null }));
    if (!getToken()) {
      toast('请先登录');
      goLogin('/checkout');
      return;
    }
    go('#/checkout');
  });

  const promos = (p.promotions || []).map((x) => (typeof x === 'object' && x ? x.label || x.title || x.name : null)).filter(Boolean);
  refresh();
  return [
    h('div.pd-hero', gallery(p.images, p.title),
      h('button.float-back', { type: 'button', 'aria-label': '返回', onclick: () => back('#/') }, icon(ICONS.back))),
    h('section.card.pd-main',
      priceBox,
      h('h1.pd-title', p.title),
      labelTags(p.labels),
      promos.length ? h('div.pd-promos', promos.map((t) => h('span.promo', t))) : null),
    h('section.card.pd-skus',
      h('div.pd-sku-head', h('strong', '选择规格'), chosen, stockText),
      h('div.sku-list', skuButtons),
      qtyRow),
    ...featureSections('productSections', p, ctx),
    h('section.card.pd-desc', h('h2.card-title', '商品详情'), h('p.pd-desc-text', p.description || '暂无介绍')),
    h('div.actionbar',
      h('a.ab-icon', { href: '#/' }, icon(ICONS.home), h('span', '首页')),
      h('a.ab-icon', { href: '#/orders' }, icon(ICONS.order), h('span', '订单')),
      buy),
  ];
}

// ---- 确认订单 ----------------------------------------------------------------------------------

const ADDRESS_FIELDS = [
  ['name', '收货人', '请填写收货人姓名', 'text', 'name'],
  ['phone', '手机号', '请填写收货人手机号', 'tel', 'tel'],
  ['region', '所在地区', '省 市 区，如 上海市 浦东新区', 'text', 'address-level1'],
  ['detail', '详细地址', '街道、门牌号等', 'text', 'street-address'],
];

function checkoutScreen(ctx) {
  const state = readJSON(KEY_CHECKOUT);
  if (!state || !Array.isArray(state.items) || !state.items.length) {
    return h('div.page', topbar('确认订单'), empty('没有待结算的商品', h('a.btn.btn-primary', { href: '#/' }, '去逛逛')));
  }
  // The address: the book's default (or the entry chosen here, 更换地址), sent as `address_id`; with an empty
  // book, a form whose address is saved to the book (becoming the default) before the order is placed.
  const saved = readJSON(KEY_ADDRESS) || {};
  const inputs = {};
  const addrRows = ADDRESS_FIELDS.map(([key, label, ph, type, ac]) => {
    inputs[key] = h('input', { name: key, type, placeholder: ph, autocomplete: ac, value: saved[key] || '', maxlength: key === 'detail' ? 200 : 100 });
    return h('label.form-row', h('span.form-label', label), inputs[key]);
  });
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
    });
    put(addrBox, h('div.addr-chosen', { 'data-id': String(chosen.id) }, addressBlock(chosen)), change);
  }
  api('/me/addresses').then((r) => {
    if (!ctx.alive()) return;
    book = r.items;
    const want = sessionStorage.getItem(KEY_ADDRESS_ID);
    chosen = book.find((a) => String(a.id) === want) || book.find((a) => a.is_default) || book[0] || null;
    showAddress();
  }).catch((err) => {
    if (!ctx.alive()) return;
    book = [];
    showAddress();
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
    return a;
  }
  function checkAddress(a) {
    if (!a.name) return '请填写收货人';
    if (!PHONE_RE.test(a.phone)) return '请填写正确的手机号';
    if (!a.region) return '请填写所在地区';
    if (!a.detail) return '请填写详细地址';
    return null;
  }

  let couponId = null;
  api('/checkout/preview', { body: { items: state.items } }).then((q) => {
    if (!ctx.alive()) return;
    // The preview picks the shopper's best coupon; the order is placed with exactly that one.
    couponId = q.coupon ? q.coupon.id : null;
    put(linesBox, ...q.lines.map((ln) => h('div.line',
      img(ln.image, ln.title),
      h('div.line-main', h('div.line-title', ln.title), h('div.line-sku', ln.sku_name)),
      h('div.line-side', price(ln.unit_price_fen), h('div.muted.small', `×${ln.qty}`)))));
    put(stepsBox, ...stepRows(q.steps), h('div.step.step-total', h('span', '实付款'), price(q.payable_fen, 'price-red')));
    put(totalBox, h('span.small', '合计：'), price(q.payable_fen, 'price-red'));
    submit.disabled = false;
  }).catch((err) => {
    if (!ctx.alive()) return;
    put(linesBox, h('div.error-box', errorText(err)));
    ctx.failShown(err);
  });

  submit.addEventListener('click', busy(submit, async () => {
    if (book === null) return;
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
    }
    const body = { items: state.items, address_id: chosen.id, remark: remark.value.trim() };
    if (couponId) body.coupon_id = couponId;
    const bodyText = JSON.stringify(body);
    // One key per attempt: a retry of the very same request reuses it, so a lost reply never makes two orders.
    if (!state.attempt || state.attempt.body !== bodyText) state.attempt = { key: randomId('order-'), body: bodyText };
    localStorage.setItem(KEY_CHECKOUT, JSON.stringify(state));
    let order;
    try {
      order = await api('/orders', { body, idem: state.attempt.key });
    } catch (err) {
      ctx.fail(err);
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
    h('section.card', h('div.card-title', '商品信息'), linesBox,
      h('label.form-row.remark-row', h('span.form-label', '订单备注'), remark)),
    h('section.card', h('div.card-title', '价格明细'), stepsBox),
    h('div.submitbar', totalBox, submit));
}
// ---- 收银台 (sandbox) --------------------------------------------------------------------------

function cashierScreen(ctx) {
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
      put(body,
        h('div.cashier-amount', h('div.muted', '支付金额'), price(p.amount_fen, 'cashier-price'), deadline),
        h('section.card.pay-methods',
          h('div.pay-method',
            h('span.pay-method-icon', icon(ICONS.wechat)),
            h('span.pay-method-name', '微信支付', h('small', '沙箱模拟，不会真实扣款')),
            h('span.radio.on', { 'aria-hidden': 'true' }))),
        h('div.cashier-info', h('span', `支付单号 ${p.id}`), h('span', `订单号 ${p.order_id}`),
          h('span', `状态：${PAYMENT_STATUS[p.status] || p.status}`)),
        pending ? btn : h('a.btn.btn-primary.btn-block', { href: `#/orders/${p.order_id}` }, '查看订单'),
        h('p.sandbox-note', '这是沙箱收银台：点击按钮即模拟微信支付成功，并走与真实回调相同的签名通知流程。'));
      if (pending) {
        api(`/orders/${p.order_id}`).then((o) => {
          if (ctx.alive() && o.status === 'pending_payment') countdown(ctx, o.pay_deadline, deadline, (left) => `剩余支付时间 ${left}`);
        }).catch(() => {});
      }
    } catch (err) {
      if (!ctx.alive()) return;
      put(body, empty(errorText(err), h('a.btn.btn-ghost', { href: '#/orders' }, '查看订单')));
      ctx.failShown(err);
    }
  })();
  return h('div.page.cashier', topbar('收银台', { backTo: '#/orders' }),
    h('div.sandbox-banner', '沙箱环境 · 模拟支付'), body);
}
// ---- 订单列表 ----------------------------------------------------------------------------------

const ORDER_TABS = [
  ['all', '全部', [null]],
  ['pending_payment', '待付款', ['pending_payment']],
  ['paid', '待发货', ['paid']],
  ['shipped', '待收货', ['shipped']],
  ['done', '已完成', ['received', 'completed']],
];

function ordersScreen(ctx) {
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
      list.append(...items.map((o) => orderCard(o, reload, ctx)));
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

function orderCard(o, reload, ctx) {
  const count = o.lines.reduce((n, ln) => n + ln.qty, 0);
  const actions = h('div.ocard-actions');
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
      h('div.ocard-head', h('span.muted.small', `订单号 ${o.no}`), h(`span.status.status-${o.status}`, ORDER_STATUS[o.status] || o.status)),
      o.lines.map((ln) => h('div.line',
        img(ln.image, ln.title),
        h('div.line-main', h('div.line-title', ln.title), h('div.line-sku', ln.sku_name)),
        h('div.line-side', price(ln.unit_price_fen), h('div.muted.small', `×${ln.qty}`)))),
      h('div.ocard-sum', `共 ${count} 件  实付 `, price(o.payable_fen, 'price-strong'))),
    actions);
}

// ---- 订单详情 ----------------------------------------------------------------------------------

const STATUS_HINT = {
  paid: '商家正在备货，请耐心等待',
  received: '感谢您的购买，期待再次光临',
  completed: '交易已完成',
  closed: '商品已全部退款，订单已关闭',
};

function orderScreen(ctx) {
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
    put(root, ...orderView(o, ctx, show, () => {
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

function orderView(o, ctx, refresh, onExpired) {
  const hint = h('div.ostatus-hint');
  if (o.status === 'pending_payment') countdown(ctx, o.pay_deadline, hint, (left) => `剩余 ${left}，超时订单将自动取消`, onExpired);
  else if (o.status === 'shipped') hint.textContent = `${o.carrier || '快递'} ${o.tracking_no || ''}`.trim() + ' · 商品已发出';
  else if (o.status === 'cancelled') hint.textContent = o.cancel_reason === 'timeout' ? '超时未支付，订单已自动取消' : '订单已取消';
  else hint.textContent = STATUS_HINT[o.status] || '';

  const statusIcon = { pending_payment: ICONS.clock, paid: ICONS.box, shipped: ICONS.truck }[o.status] || ICONS.check;
  const refundable = ['paid', 'shipped', 'received'].includes(o.status);

  const lines = o.lines.map((ln) => {
    const left = ln.qty - ln.refunded_qty - ln.refund_pending_qty;
    const notes = [];
    if (ln.refunded_qty) notes.push(`已退款 ${ln.refunded_qty} 件`);
    if (ln.refund_pending_qty) notes.push(`退款中 ${ln.refund_pending_qty} 件`);
    let refundBtn = null;
    if (refundable && left > 0) {
      refundBtn = h('button.btn.btn-small.btn-ghost.btn-refund', { type: 'button', dataset: { line: String(ln.id) } }, '申请退款');
      refundBtn.addEventListener('click', () => refundSheet(o, ln, left, ctx, refresh));
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
    bar.append(h('span.bar-total', '应付 ', price(o.payable_fen, 'price-red')), cancel, payBtn);
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

  return [
    topbar('订单详情', { backTo: '#/orders' }),
    h(`section.ostatus.ostatus-${o.status}`,
      h('div.ostatus-text', h('strong.ostatus-name', ORDER_STATUS[o.status] || o.status), hint),
      icon(statusIcon, 'icon ostatus-icon')),
    a ? h('section.card.addr-show', icon(ICONS.pin, 'icon icon-accent'),
      h('div', h('div.addr-who', h('strong', a.name), h('span', a.phone)), h('div.addr-where', `${a.region} ${a.detail}`))) : null,
    h('section.card', h('div.card-title', '商品信息'), lines),
    h('section.card', h('div.card-title', '价格明细'), h('div.steps', stepRows(o.steps),
      h('div.step.step-total', h('span', o.paid_fen ? '实付款' : '应付款'), price(o.paid_fen || o.payable_fen, 'price-red')),
      o.refunded_fen ? h('div.step', h('span', '已退款'), price(o.refunded_fen)) : null)),
    o.refunds && o.refunds.length ? h('section.card.refunds', h('div.card-title', icon(ICONS.refund, 'icon icon-accent'), '售后记录'),
      o.refunds.map((r) => refundRow(r, o))) : null,
    h('section.card.oinfo', h('div.card-title', '订单信息'), info.map(([k, v]) => h('div.kv', h('span', k), h('span', v)))),
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
      h('div.refund-foot', h('span.muted.small', fmtTime(r.created_at)), h('span', '退款金额 ', price(r.amount_fen, 'price-red')))));
}

const REFUND_REASONS = ['不想要了', '拍错/多拍了', '商品质量问题', '与描述不符', '其他'];

function refundSheet(o, ln, left, ctx, refresh) {
  let qty = left;
  let reason = REFUND_REASONS[0];
  let attempt = null; // {key, body}: a retry of the same request reuses its Idempotency-Key
  sheet('申请退款', (close) => {
    const note = h('textarea.refund-note', { rows: 2, maxlength: 150, placeholder: '补充说明（选填）' });
    const reasons = h('div.reason-list', REFUND_REASONS.map((r) => {
      const b = h('button.chip', { type: 'button' }, r);
      b.addEventListener('click', () => {
        reason = r;
        for (const x of reasons.children) x.classList.toggle('active', x === b);
      });
      if (r === reason) b.classList.add('active');
      return b;
    }));
    const submit = h('button.btn.btn-primary.btn-block', { type: 'button' }, '提交申请');
    submit.addEventListener('click', busy(submit, async () => {
      const text = note.value.trim();
      const body = { lines: [{ line_id: ln.id, qty }], reason: (text ? `${reason}：${text}` : reason).slice(0, 200) };
      const bodyText = JSON.stringify(body);
      if (!attempt || attempt.body !== bodyText) attempt = { key: randomId('refund-'), body: bodyText };
      try {
        await api(`/orders/${o.id}/refunds`, { body, idem: attempt.key });
      } catch (err) {
        ctx.fail(err);
        return;
      }
      close(true);
      toast('退款申请已提交，等待商家处理', 'ok');
      await refresh();
    }));
    return [
      h('div.line', img(ln.image, ln.title),
        h('div.line-main', h('div.line-title', ln.title), h('div.line-sku', ln.sku_name)),
        h('div.line-side', price(ln.unit_price_fen), h('div.muted.small', `×${ln.qty}`))),
      h('div.pd-row', h('span.pd-row-label', `退款数量（可退 ${left} 件）`), stepper(qty, 1, left, (n) => {
        qty = n;
      }, '退款数量')),
      h('div.sheet-label', '退款原因'),
      reasons,
      note,
      submit,
    ];
  });
}

// ---- 我的 --------------------------------------------------------------------------------------

function meScreen(ctx) {
  const head = h('section.me-head', h('div.me-avatar', '…'), h('div.me-name', '加载中…'));
  const stats = h('section.card.me-stats');
  api('/me').then((me) => {
    if (!ctx.alive()) return;
    put(head,
      h('div.me-avatar', me.avatar_url ? img(me.avatar_url, me.nickname, 'me-avatar-img') : (me.nickname || '我').slice(0, 1)),
      h('div.me-who', h('div.me-name', me.nickname), h('div.me-id', `ID ${me.id}`, h('span.me-level', `Lv.${me.level}`),
        me.paid_member_until ? h('span.me-level.me-vip', 'VIP') : null)));
    put(stats,
      h('div.stat', h('strong', String(me.points)), h('span', '积分')),
      h('div.stat', h('strong', yuan(me.wallet_fen)), h('span', '余额（元）')),
      h('div.stat', h('strong', me.is_distributor ? '已开通' : '未开通'), h('span', '分销')));
  }).catch((err) => ctx.fail(err));

  const shortcuts = [
    ['pending_payment', '待付款', ICONS.pay],
    ['paid', '待发货', ICONS.box],
    ['shipped', '待收货', ICONS.truck],
    ['done', '已完成', ICONS.check],
  ];
  const logout = h('button.menu-item', { type: 'button' }, h('span', '退出登录'), icon(ICONS.chevron, 'icon chev'));
  logout.addEventListener('click', async () => {
    if (!(await confirmBox('确定退出当前账号吗？', '退出'))) return;
    setToken(null);
    toast('已退出登录');
    go('#/', true);
  });
  return h('div.page.me',
    head,
    stats,
    h('section.card',
      h('a.card-title.card-title-link', { href: '#/orders' }, h('span', '我的订单'), h('span.muted.small', '全部订单'), icon(ICONS.chevron, 'icon chev')),
      h('div.shortcuts', shortcuts.map(([key, label, d]) => h('a.shortcut', { href: `#/orders?status=${key}` }, icon(d), h('span', label))))),
    ...featureSections('meEntries', ctx),
    h('section.card.menu',
      h('a.menu-item', { href: '#/login' }, h('span', '切换账号'), icon(ICONS.chevron, 'icon chev')),
      logout),
    h('p.footnote', '沙箱环境 · 登录与支付均为模拟'));
}

// ---- 登录 --------------------------------------------------------------------------------------

function loginScreen(ctx) {
  const next = ctx.query.get('next');
  const target = next && next.startsWith('/') && !next.startsWith('/login') ? '#' + next : '#/';

  async function login(code) {
    const ref = pendingRef();
    let res;
    try {
      res = await api('/auth/wechat-login', { body: ref ? { code, ref } : { code } });
    } catch (err) {
      ctx.fail(err);
      return;
    }
    setToken(res.token);
    if (ref) clearRef();
    toast(res.user.is_new ? `欢迎你，${res.user.nickname}` : `欢迎回来，${res.user.nickname}`, 'ok');
    go(target, true);
  }

  const wx = h('button.btn.btn-wechat.btn-block.btn-lg', { type: 'button' }, icon(ICONS.wechat), '微信一键登录');
  wx.addEventListener('click', busy(wx, () => login(deviceLoginCode())));
  const codeInput = h('input.login-code', {
    name: 'code', placeholder: '测试账号，如 alice', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', maxlength: 48,
    'aria-label': '测试登录码',
  });
  const codeBtn = h('button.btn.btn-ghost', { type: 'submit' }, '登录');
  const form = h('form.login-test', codeInput, codeBtn);
  form.addEventListener('submit', busy(codeBtn, async (e) => {
    e.preventDefault();
    const code = codeInput.value.trim();
    if (!/^[A-Za-z0-9_-]{1,48}$/.test(code)) {
      toast('登录码只能包含字母、数字、下划线和短横线');
      return;
    }
    await login(code);
  }));

  return h('div.page.login',
    h('button.float-back', { type: 'button', 'aria-label': '返回', onclick: () => back('#/') }, icon(ICONS.back)),
    h('div.login-hero',
      h('div.login-logo', '裂'),
      h('h1', '裂变商城'),
      h('p', '好物低价 · 拼团秒杀 · 分享有礼')),
    h('div.login-box',
      wx,
      h('p.login-tip', '登录即表示同意《用户协议》和《隐私政策》'),
      h('div.divider', h('span', '测试登录')),
      form,
      h('p.login-tip', '沙箱环境：任意登录码对应一个测试用户，可用来切换账号')),
  );
}

// ---- start -------------------------------------------------------------------------------------

wire({ render, features });
captureRef();
loadErrorTexts(); // not awaited: until it lands, errors read as the server's own (Chinese) message
window.addEventListener('hashchange', render);
render();
