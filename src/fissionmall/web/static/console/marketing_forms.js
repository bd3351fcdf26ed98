// The console's marketing forms (优惠券, 促销活动): show only the fields the chosen type, scope and validity use,
// add and remove tier rows, and keep a live preview of what a shopper will see. The preview reads the form as
// the server does (web/forms.py: 元 → fen, 折 → basis points) and words it as the server's labels do
// (coupons.rules.headline, promotions.rules.label); a browser test compares it with the shop after saving.
// Loaded as a module by the form templates: no inline script (CSP).

// ---- reading what was typed, as web/forms.py does ---------------------------------------------------

const typed = (s) => (s || '').normalize('NFKC').trim(); // full-width digits, as phones type them

/** '19.9' → 1990 fen, or null for anything that is not an amount in 元 (fen_from_yuan). */
export function fenFromYuan(text) {
  const t = typed(text).replace(/^¥/, '').trim();
  if (!/^[0-9]{1,10}(\.[0-9]{1,2})?$/.test(t)) return null;
  const [whole, frac = ''] = t.split('.');
  return Number(whole) * 100 + Number((frac + '00').slice(0, 2));
}

/** '8.5' or '8.5折' → 8500 (the share paid, in basis points), or null (off_bp_from_zhe reads 10000 − this). */
export function payBpFromZhe(text) {
  const t = typed(text).replace(/折$/, '').trim();
  if (!/^[0-9](\.[0-9]{1,3})?$/.test(t)) return null;
  const [whole, frac = ''] = t.split('.');
  const bp = Number(whole) * 1000 + Number((frac + '000').slice(0, 3));
  return bp > 0 && bp < 10000 ? bp : null;
}

/** '3' → 3, or null (whole_number). */
export function whole(text) {
  const t = typed(text);
  return /^[0-9]{1,9}$/.test(t) ? Number(t) : null;
}

/** 1200 → '12', 1250 → '12.5', 1999 → '19.99' (pricing.rules.short_yuan). */
export function shortYuan(fen) {
  const yuan = Math.floor(fen / 100);
  const cents = fen % 100;
  if (!cents) return String(yuan);
  return `${yuan}.${String(cents).padStart(2, '0').replace(/0$/, '')}`;
}

/** 1990 → '19.90' (the shop's yuan()). */
const yuan2 = (fen) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;

/** 8500 (paid) → '8.5折'; a share that is not a tenth of a 折 reads as the server's fallback. */
function zheText(payBp, fallback) {
  return payBp % 10 === 0 ? `${shortYuan(payBp / 10)}折` : fallback;
}

// ---- coupons ------------------------------------------------------------------------------------------

/** The card's headline, as coupons.rules.headline words it: '满199减30元', '无门槛8.5折 最多减20元'. */
export function couponHeadline({ kind, threshold, amount, payBp, max }) {
  let off;
  if (kind === 'amount') off = `减${shortYuan(amount)}元`;
  else {
    off = zheText(payBp, '折扣');
    if (max) off += ` 最多减${shortYuan(max)}元`;
  }
  if (!threshold) return `无门槛${off}`;
  return `满${shortYuan(threshold)}` + (kind === 'amount' ? off : `元享${off}`);
}

function couponPreview(form, out) {
  const val = (name) => form.elements[name]?.value ?? '';
  const kind = val('kind') || 'amount';
  const threshold = typed(val('threshold')) === '' ? 0 : fenFromYuan(val('threshold'));
  const amount = fenFromYuan(val('amount'));
  const payBp = payBpFromZhe(val('zhe'));
  const max = typed(val('max_discount')) === '' ? 0 : fenFromYuan(val('max_discount'));
  const ready = threshold !== null && (kind === 'amount' ? amount > 0 : payBp !== null && max !== null);
  out('name', typed(val('name')) || '（优惠券名称）');
  if (ready) {
    out('face', kind === 'amount' ? `¥${yuan2(amount).replace(/\.00$/, '')}` : `${payBp / 1000}折`);
    out('headline', couponHeadline({ kind, threshold, amount, payBp, max }));
  } else {
    out('face', '—');
    out('headline', kind === 'amount' ? '填写减免金额后显示' : '填写折扣后显示（如 8.5）');
  }
  const validity = form.querySelector('input[name=validity]:checked')?.value || 'days';
  if (validity === 'window') {
    const until = val('valid_until');
    out('validity', until ? `有效期至 ${until.slice(0, 10)}` : '请选择截止时间');
  } else {
    const days = whole(val('valid_days'));
    out('validity', days ? `领取后 ${days} 天内有效` : '请填写有效天数');
  }
  const total = whole(val('total'));
  const issued = Number(form.elements.total?.dataset.issued || 0);
  out('remaining', total ? `剩余 ${Math.max(total - issued, 0)} 张` : '');
}

// ---- promotions -----------------------------------------------------------------------------------------

/** Each tier row's inputs as {name: value}, in row order. */
function rowsOf(form, selector) {
  return [...form.querySelectorAll(`${selector} tr`)].map((tr) =>
    Object.fromEntries([...tr.querySelectorAll('input, select')].map((i) => [i.name, i.value])));
}

/** The chosen items of the picker named `name` (picker.js keeps them on the widget). */
function chosen(form, name) {
  const widget = form.querySelector(`[data-name="${name}"]`);
  if (widget?.picker) return widget.picker.items();
  return [...form.querySelectorAll(`[data-name="${name}"] [data-picker-item]`)].map(rowItem).filter(Boolean);
}

/** A full-reduction tier as promotions.rules words it: '满199减30', '满2件9折', '满300打折'. */
export function tierLabel({ threshold, amount, payBp }, basis) {
  const lead = basis === 'count' ? `满${threshold}件` : `满${shortYuan(threshold)}`;
  if (payBp) return lead + zheText(payBp, '打折');
  return `${lead}减${shortYuan(amount)}`;
}

function reductionPreview(form) {
  const basis = form.elements.basis?.value || 'amount';
  const tiers = [];
  for (const r of rowsOf(form, '#tier-rows')) {
    const threshold = basis === 'count' ? whole(r.tier_threshold) : fenFromYuan(r.tier_threshold);
    const off = typed(r.tier_off);
    if (!threshold) continue;
    if (r.tier_mode === 'zhe') {
      const payBp = payBpFromZhe(off);
      if (payBp !== null) tiers.push({ threshold, payBp });
    } else {
      const amount = fenFromYuan(off);
      if (amount) tiers.push({ threshold, amount });
    }
  }
  tiers.sort((a, b) => a.threshold - b.threshold);
  return tiers.length ? [tiers.map((t) => tierLabel(t, basis)).join(' / ')] : [];
}

function giftPreview(form) {
  const basis = form.elements.basis?.value || 'amount';
  const raw = form.elements.threshold?.value;
  const threshold = basis === 'count' ? whole(raw) : fenFromYuan(raw);
  if (!threshold) return [];
  const gift = chosen(form, 'gift_sku_id')[0];
  const qty = whole(form.elements.gift_qty?.value) || 1;
  const lead = basis === 'count' ? `满${threshold}件` : `满${shortYuan(threshold)}元`;
  return [`${lead}赠品`, gift ? `送 ${gift.label} ×${qty}` : '（选择赠品后显示赠品名称）'];
}

function freeShippingPreview(form) {
  const raw = typed(form.elements.threshold?.value);
  const threshold = raw === '' ? 0 : fenFromYuan(raw);
  if (threshold === null) return [];
  return [threshold ? `满${shortYuan(threshold)}元包邮` : '包邮'];
}

/** The item a picker row carries (picker.js keeps it as JSON on the row), or null. */
function rowItem(tr) {
  try {
    return JSON.parse(tr.dataset.pickerItem || 'null');
  } catch (_) {
    return null;
  }
}

/** 7120 → '71.20', 6900 → '69.00': a price beside ¥89.00 reads as that one does, two decimals. */
const priceText = yuan2;

function limitedPreview(form) {
  const lines = [];
  for (const tr of form.querySelectorAll('#item-rows tr[data-picker-item]')) {
    const item = rowItem(tr);
    if (!item) continue;
    const mode = tr.querySelector('[name=item_mode]')?.value;
    const raw = tr.querySelector('[name=item_value]')?.value;
    if (mode === 'zhe') {
      const payBp = payBpFromZhe(raw);
      if (payBp === null) continue;
      // pricing.rules: the cut is the price × the share off, rounded half up to a fen (core.money.apply_bp)
      const cut = Math.floor((item.price_fen * (10000 - payBp) + 5000) / 10000);
      lines.push(`${item.label}：限时 ${zheText(payBp, '折扣')} ¥${priceText(item.price_fen - cut)}（原价 ¥${item.price}）`);
    } else {
      const fen = fenFromYuan(raw);
      if (fen !== null) lines.push(`${item.label}：限时价 ¥${priceText(fen)}（原价 ¥${item.price}）`);
    }
  }
  return lines;
}

function tieredPreview(form) {
  const tiers = [];
  for (const r of rowsOf(form, '#price-rows')) {
    const qty = whole(r.tier_qty);
    const fen = fenFromYuan(r.tier_price);
    if (qty && fen !== null) tiers.push({ qty, fen });
  }
  tiers.sort((a, b) => a.qty - b.qty);
  const sku = chosen(form, 'sku_id')[0];
  const lines = tiers.map((t) => `买${t.qty}件起每件 ¥${priceText(t.fen)}`);
  if (lines.length && sku) lines.push(`${sku.label}（原价 ¥${sku.price}）`);
  return lines;
}

const PROMOTION_PREVIEWS = {
  full_reduction: reductionPreview,
  gift: giftPreview,
  free_shipping: freeShippingPreview,
  limited_discount: limitedPreview,
  tiered_price: tieredPreview,
};

function promotionPreview(form, out) {
  const kind = form.elements.kind?.value;
  const lines = (PROMOTION_PREVIEWS[kind] || (() => []))(form);
  out('lines', lines);
  const start = form.elements.starts_at?.value;
  const end = form.elements.ends_at?.value;
  out('window', start && end ? `${start.replace('T', ' ')} 至 ${end.replace('T', ' ')}` : '请选择活动时间');
}

// ---- the page -------------------------------------------------------------------------------------------

/** Show the fields of the chosen type / scope / validity, hide the others (they stay in the form). */
function toggle(form) {
  const kind = form.elements.kind?.value;
  const scope = form.elements.scope?.value;
  const validity = form.querySelector('input[name=validity]:checked')?.value;
  for (const n of form.querySelectorAll('[data-kind]')) n.hidden = n.dataset.kind !== kind;
  for (const n of form.querySelectorAll('[data-scope]')) n.hidden = !n.dataset.scope.split(' ').includes(scope);
  for (const n of form.querySelectorAll('[data-validity]')) n.hidden = n.dataset.validity !== validity;
  for (const n of form.querySelectorAll('[data-basis-unit]')) n.textContent = form.elements.basis?.value === 'count' ? '件' : '元';
}

/** Tier rows: "＋ 添加一档" clones the row template, "删除" removes its row (at least one row stays). */
function wireRows(form) {
  for (const btn of form.querySelectorAll('[data-add-row]')) {
    btn.addEventListener('click', () => {
      const body = form.querySelector(btn.dataset.addRow);
      const tpl = document.querySelector(btn.dataset.rowTemplate);
      if (!body || !tpl || body.children.length >= Number(btn.dataset.max || 10)) return;
      body.append(tpl.content.cloneNode(true));
      body.lastElementChild?.querySelector('input')?.focus();
      form.dispatchEvent(new Event('input'));
    });
  }
  form.addEventListener('click', (e) => {
    const btn = e.target.closest('[data-remove-row]');
    if (!btn) return;
    const tr = btn.closest('tr');
    if (tr && tr.parentElement.children.length > 1) tr.remove();
    else tr?.querySelectorAll('input').forEach((i) => { i.value = ''; });
    form.dispatchEvent(new Event('input'));
  });
}

function start(form) {
  const preview = document.querySelector(form.dataset.previewTarget || '#preview');
  const out = (key, value) => {
    const node = preview?.querySelector(`[data-out="${key}"]`);
    if (!node) return;
    if (Array.isArray(value)) {
      node.replaceChildren(...value.map((text) => Object.assign(document.createElement('li'), { textContent: text })));
      preview.querySelector('[data-out-empty]')?.toggleAttribute('hidden', value.length > 0);
    } else node.textContent = value;
  };
  const update = () => {
    toggle(form);
    if (form.dataset.preview === 'coupon') couponPreview(form, out);
    else promotionPreview(form, out);
  };
  wireRows(form);
  for (const type of ['input', 'change', 'picker:change']) form.addEventListener(type, update);
  update();
}

for (const form of document.querySelectorAll('form[data-preview]')) start(form);
