// 首页 and 商品详情: the product list (search, category chips, paging) and a product's page (gallery, SKU
// choice, quantity, 立即购买 into checkout), with the sections features add to both.

import { api, getToken } from '../api.js';
import { ICONS, errorText, h, icon, img, price, stepper, toast } from '../ui.js';
import { back, empty, featureSections, go, goLogin, loading, put, setHashQuery, topbar } from '../kit.js';
import { KEY_CHECKOUT } from './checkout.js';

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
      // Features' buttons beside 立即购买 (加入购物车, 收藏): each gets `pick()` → {sku, qty} as chosen now.
      ...featureSections('productActions', p, ctx, () => ({ sku, qty })),
      buy),
  ];
}
