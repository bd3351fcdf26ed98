// 首页 and 商品详情: the product list (search, category chips, paging) and a product's page (gallery, SKU
// choice, quantity, 立即购买 into checkout), with the sections features add to both.

import { api, getToken, serverNow } from '../api.js';
import { ICONS, errorText, h, icon, price, stepper, toast, yuan } from '../ui.js';
import { back, empty, featureSections, go, goLogin, loading, put, setHashQuery, topbar } from '../kit.js';
import { KEY_CHECKOUT } from './checkout.js';

// ---- images and their placeholder --------------------------------------------------------------

const PIC = 'M4 5h16a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zm1 2v9.6l4-4 3 3 2.5-2.5L19 17.6V7zm10 1.5a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3z';

/** A product without a picture: an icon and the title's first character, never an <img> without a src. */
export function placeholder(title, cls) {
  const first = Array.from(String(title || '').trim())[0] || '商';
  return h(`div.${cls}.img-ph`, { role: 'img', 'aria-label': title || '暂无图片' },
    icon(PIC, 'icon img-ph-icon'), h('span.img-ph-char', first));
}

const safeSrc = (src) => (typeof src === 'string' && /^\/(?!\/)/.test(src) ? src : null);

/** The picture, or the placeholder; a picture that fails to load turns into the placeholder. */
export function picture(src, title, cls) {
  const url = safeSrc(src);
  if (!url) return placeholder(title, cls);
  const el = h(`img.${cls}`, { alt: title || '', decoding: 'async', loading: 'lazy' });
  el.onerror = () => el.replaceWith(placeholder(title, cls));
  el.src = url;
  return el;
}

function listPrice(fen, now, cls = 'list-price') {
  return fen && fen > now ? h(`s.${cls}`, { 'aria-label': `原价 ¥${yuan(fen)}` }, `¥${yuan(fen)}`) : null;
}

function labelTags(labels) {
  return (labels || []).length ? h('div.tags', labels.map((t) => h('span.tag', t))) : null;
}

// ---- 首页 --------------------------------------------------------------------------------------

export function homeScreen(ctx) {
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
      picture(p.images && p.images[0], p.title, 'pcard-img'),
      h('div.pcard-body',
        h('div.pcard-title', p.title),
        labelTags(p.labels),
        h('div.pcard-foot', h('span.pcard-prices', price(p.price_fen, 'pcard-price'), listPrice(p.list_price_fen, p.price_fen)),
          h('span.muted.small', `已售 ${p.sales}`))));
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
    // The tools' rows in their rank (data-rank: 限时秒杀 before 拼团), whatever order the features load in.
    ...featureSections('homeSections', ctx).map((el, i) => [Number(el.dataset && el.dataset.rank) || 50, i, el])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]),
    h('section.section', h('h2.section-title', '为你推荐'), grid, more));
}

// ---- 商品详情 ----------------------------------------------------------------------------------

export function productScreen(ctx) {
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
  const list = (images || []).filter((src) => safeSrc(src));
  if (!list.length) return h('div.gallery', placeholder(title, 'gallery-img'));
  const counter = h('span.gallery-count', { 'aria-live': 'polite' }, `1/${list.length}`);
  const dots = list.map((_, i) => h('button.gallery-dot', {
    type: 'button', 'aria-label': `第 ${i + 1} 张`, onclick: () => track.scrollTo({ left: i * track.clientWidth, behavior: 'smooth' }),
  }));
  const track = h('div.gallery-track', list.map((src, i) => h('div.gallery-slide', picture(src, `${title} 第 ${i + 1} 张`, 'gallery-img'))));
  function mark() {
    const i = Math.min(list.length - 1, Math.max(0, Math.round(track.scrollLeft / Math.max(1, track.clientWidth))));
    counter.textContent = `${i + 1}/${list.length}`;
    dots.forEach((d, j) => d.classList.toggle('on', i === j));
  }
  track.addEventListener('scroll', mark, { passive: true });
  mark();
  return h('div.gallery', track, list.length > 1 ? [h('div.gallery-dots', dots), counter] : null);
}

// 图文详情 arrives sanitised by the server (catalog/rules.py). It is still parsed in an inert document and
// only the same allowlist is moved into the page, so a row written before the rule, or a bug there, shows
// as text rather than running.
const DETAIL_TAGS = new Set(['P', 'BR', 'STRONG', 'B', 'EM', 'I', 'U', 'H2', 'H3', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'IMG']);

function detailNodes(html) {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  for (const el of [...doc.body.querySelectorAll('*')].reverse()) {
    if (!DETAIL_TAGS.has(el.tagName)) {
      if (/^(SCRIPT|STYLE|IFRAME|OBJECT|EMBED|TEMPLATE|NOSCRIPT|SVG|MATH)$/.test(el.tagName)) el.remove();
      else el.replaceWith(...el.childNodes);
      continue;
    }
    for (const a of [...el.attributes]) if (!(el.tagName === 'IMG' && (a.name === 'src' || a.name === 'alt'))) el.removeAttribute(a.name);
    if (el.tagName === 'IMG' && !/^\/media\/[A-Za-z0-9_][A-Za-z0-9_./-]*$/.test(el.getAttribute('src') || '')) el.remove();
  }
  const nodes = [...doc.body.childNodes].map((n) => document.adoptNode(n));
  for (const n of nodes) {
    for (const im of n.nodeType === 1 ? (n.tagName === 'IMG' ? [n] : n.querySelectorAll('img')) : []) {
      im.loading = 'lazy';
      im.onerror = () => im.remove();
    }
  }
  return nodes;
}

function detailSection(p) {
  const body = p.detail_html
    ? h('div.pd-detail-html', detailNodes(p.detail_html))
    : h('p.pd-desc-text', p.description || '暂无介绍');
  return h('section.card.pd-desc', h('h2.card-title', '商品详情'), body);
}

/** The SKU choice: one row of values per dimension (颜色, then 尺码), or a row of SKU names without specs. */
function skuChooser(p, onChange) {
  const skus = p.skus || [];
  const dims = (p.specs || []).filter((d) => d && d.name && Array.isArray(d.values));
  const matrix = dims.length > 0 && skus.every((k) => k.spec && dims.every((d) => k.spec[d.name] !== undefined));
  const inStock = skus.filter((k) => k.stock > 0);
  const fits = (k, chosen) => Object.entries(chosen).every(([n, v]) => k.spec[n] === v);

  if (!matrix) {
    let sku = inStock[0] || null;
    const buttons = skus.map((k) => {
      const b = h('button.sku', { type: 'button', disabled: k.stock <= 0, 'aria-pressed': 'false', dataset: { id: String(k.id) } },
        k.name, k.stock <= 0 ? h('em', '缺货') : null);
      b.addEventListener('click', () => {
        sku = k;
        mark();
      });
      return b;
    });
    function mark() {
      for (const b of buttons) {
        const on = sku && b.dataset.id === String(sku.id);
        b.classList.toggle('active', Boolean(on));
        b.setAttribute('aria-pressed', on ? 'true' : 'false');
      }
      onChange({ sku, from: skus, missing: sku ? [] : ['规格'] });
    }
    return { el: h('div.sku-list', buttons), start: mark };
  }

  const chosen = {};
  const first = inStock[0];
  if (first) for (const d of dims) chosen[d.name] = first.spec[d.name];
  const rows = dims.map((d) => {
    const buttons = d.values.map((v) => {
      const b = h('button.sku', { type: 'button', 'aria-pressed': 'false', dataset: { dim: d.name, value: v } }, v);
      b.addEventListener('click', () => {
        chosen[d.name] = v;
        // A choice that leaves nothing in stock with the others drops those others (pick 蓝, 红's M goes).
        for (const o of dims) {
          if (o.name !== d.name && chosen[o.name] !== undefined && !inStock.some((k) => fits(k, chosen))) delete chosen[o.name];
        }
        mark();
      });
      return b;
    });
    return { d, buttons, el: h('div.spec-row', h('div.spec-row-name', d.name), h('div.sku-list', buttons)) };
  });
  function mark() {
    for (const { d, buttons } of rows) {
      for (const b of buttons) {
        const v = b.dataset.value;
        const others = { ...chosen, [d.name]: v };
        const possible = inStock.some((k) => fits(k, others));
        const on = chosen[d.name] === v;
        b.disabled = !possible && !on;
        b.classList.toggle('active', on);
        b.setAttribute('aria-pressed', on ? 'true' : 'false');
      }
    }
    const missing = dims.filter((d) => chosen[d.name] === undefined).map((d) => d.name);
    const sku = missing.length ? null : skus.find((k) => fits(k, chosen)) || null;
    onChange({ sku, from: skus.filter((k) => fits(k, chosen)), missing });
  }
  return { el: h('div.spec-rows', rows.map((r) => r.el)), start: mark };
}

// A live 限时折扣 on a SKU (the server's `limited_price_fen`, what checkout charges for one unit): the price
// shown and bought at, the catalogue price struck through beside it.
const pay = (k) => (k && k.limited_price_fen != null ? k.limited_price_fen : k ? k.price_fen : 0);
const two = (n) => String(n).padStart(2, '0');

/** 距结束 HH:MM:SS, with the days in front past 24 hours (2天 03:04:05). */
function leftText(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const hms = `${two(Math.floor((s % 86400) / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
  return d ? `${d}天 ${hms}` : hms;
}

function productView(p, ctx) {
  let sku = null;
  let qty = 1;
  const limitedNote = h('div.pd-limited', { hidden: true });
  let limitedTimer = null;
  ctx.onLeave(() => clearInterval(limitedTimer));
  function showLimited(k) {
    clearInterval(limitedTimer);
    limitedNote.hidden = !(k && k.limited_price_fen != null);
    if (limitedNote.hidden) return;
    const end = Date.parse(k.limited_ends_at);
    const tick = () => {
      const left = end - serverNow();
      limitedNote.textContent = left > 0 ? `限时折扣 · 距结束 ${leftText(left)}` : '限时折扣已结束';
      if (left <= 0) clearInterval(limitedTimer);
    };
    tick();
    limitedTimer = setInterval(tick, 1000);
  }

  const priceBox = h('div.pd-price');
  const stockText = h('span.pd-stock');
  const chosenText = h('span.pd-chosen');
  const buy = h('button.btn.btn-primary.btn-buy.ab-main', { type: 'button' }, '立即购买');
  let qtyStepper = stepper(1, 1, 1, (n) => {
    qty = n;
    tell();
  });
  const qtyRow = h('div.pd-row', h('span.pd-row-label', '数量'), qtyStepper);
  const anyInStock = (p.skus || []).some((k) => k.stock > 0);

  function refresh({ sku: picked, from, missing }) {
    sku = picked;
    const pool = (from && from.length ? from : p.skus || []);
    const low = pool.reduce((m, k) => (m && pay(m) <= pay(k) ? m : k), null);
    const shown = sku || low;
    const cut = shown && shown.limited_price_fen != null;
    put(priceBox,
      price(shown ? pay(shown) : p.price_fen, 'pd-price-num'),
      sku || !low || pool.every((k) => pay(k) === pay(low)) ? null : h('span.pd-qi', '起'),
      // 限时折扣: the full price struck through; else the SKU's 划线价
      shown ? listPrice(cut ? shown.price_fen : shown.list_price_fen, pay(shown), 'pd-list-price') : null,
      h('span.pd-sales', `已售 ${p.sales}`));
    showLimited(shown);
    stockText.textContent = sku ? (sku.stock > 0 ? `库存 ${sku.stock} 件` : '该规格缺货') : anyInStock ? '' : '暂时缺货';
    chosenText.textContent = sku ? `已选：${sku.name}` : `请选择${missing.join('、') || '规格'}`;
    const max = sku ? Math.max(1, sku.stock) : 1;
    qty = Math.min(qty, max);
    const next = stepper(qty, 1, max, (n) => {
      qty = n;
      tell();
    });
    qtyStepper.replaceWith(next);
    qtyStepper = next;
    buy.disabled = !sku || sku.stock <= 0;
    showBuy();
    tell();
  }
  // 立即购买, or 单独购买 with the SKU's own price once a tool (拼团, 秒杀) puts its button beside it.
  let solo = false;
  function showBuy() {
    const label = !anyInStock ? '暂时缺货' : sku ? (sku.stock > 0 ? (solo ? '单独购买' : '立即购买') : '该规格缺货') : '请选择规格';
    const priced = Boolean(sku && sku.stock > 0 && (solo || sku.limited_price_fen != null));
    buy.classList.toggle('ab-priced', priced);
    if (priced) put(buy, h('span.ab-buy-price', `¥${yuan(pay(sku))}`), h('span.ab-buy-label', label));
    else buy.textContent = label;
  }
  // What features read of the choice: `pick()` now, `pick.watch(fn)` on every change (fn runs at once too),
  // `pick.solo(button)` when the feature's own buy button stands beside 立即购买 (put after it).
  const watchers = [];
  const pick = () => ({ sku, qty });
  function tell() {
    for (const fn of watchers) fn(pick());
  }
  pick.watch = (fn) => {
    watchers.push(fn);
    fn(pick());
  };
  pick.solo = (el) => {
    solo = true;
    bar.classList.add('ab-pair');
    if (el) bar.append(el); // the tool's price after 单独购买's, as shoppers read the pair
    showBuy();
  };
  const bar = h('div.actionbar');
  const chooser = skuChooser(p, refresh);

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
  chooser.start();
  put(bar,
    h('a.ab-icon', { href: '#/' }, icon(ICONS.home), h('span', '首页')),
    h('a.ab-icon.ab-orders', { href: '#/orders' }, icon(ICONS.order), h('span', '订单')),
    // Features' buttons beside 立即购买 (加入购物车, 收藏, 发起拼团): each reads the choice through `pick`.
    ...featureSections('productActions', p, ctx, pick),
    buy);
  return [
    h('div.pd-hero', gallery(p.images, p.title),
      h('button.float-back', { type: 'button', 'aria-label': '返回', onclick: () => back('#/') }, icon(ICONS.back)),
      // Features' buttons over the picture's top-right corner (分享): `productHero(product, ctx)`.
      ...featureSections('productHero', p, ctx)),
    // A tool's price banner under the pictures (秒杀价 with its countdown).
    ...featureSections('productBanners', p, ctx, pick),
    h('section.card.pd-main',
      priceBox,
      limitedNote,
      h('h1.pd-title', p.title),
      // The short description is the selling line under the title (有赞's 商品卖点) when a 图文详情 is below.
      p.detail_html && p.description ? h('p.pd-subtitle', p.description) : null,
      labelTags(p.labels),
      promos.length ? h('div.pd-promos', promos.map((t) => h('span.promo', t))) : null),
    h('section.card.pd-skus',
      h('div.pd-sku-head', h('strong', '选择规格'), chosenText, stockText),
      chooser.el,
      qtyRow),
    ...featureSections('productSections', p, ctx, pick),
    detailSection(p),
    bar,
  ];
}
