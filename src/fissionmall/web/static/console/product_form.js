// The console's product pages: the spec matrix editor (颜色 × 尺码 → one SKU row per combination) and the
// 图文详情 editor on the form; thumbnails that fall back to a placeholder on the list.

import { mountRichText } from './richtext.js';

const MAX_DIMS = 3;
const SPLIT = /[,，、;；\n]+/;
const JOIN = ' / ';

function values(text) {
  const out = [];
  for (const v of String(text || '').split(SPLIT)) {
    const t = v.trim();
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

function product(dims) {
  // Every combination, in the dimensions' order: [{颜色: 红, 尺码: M}, …]
  let combos = [{}];
  for (const d of dims) {
    const next = [];
    for (const c of combos) for (const v of d.values) next.push({ ...c, [d.name]: v });
    combos = next;
  }
  return combos;
}

const keyOf = (spec, dims) => JSON.stringify(dims.map((d) => spec[d.name] ?? null));

function readSpec(row) {
  try {
    const s = JSON.parse(row.querySelector('input[name=sku_spec]').value || '{}');
    return s && typeof s === 'object' ? s : {};
  } catch (e) {
    return {};
  }
}

const CARRIED = ['sku_price', 'sku_list_price', 'sku_stock', 'sku_weight'];

function specEditor(form) {
  const dimsBox = form.querySelector('#spec-dims');
  const dimTpl = form.querySelector('#spec-dim-template');
  const rowsBox = form.querySelector('#sku-rows');
  const rowTpl = form.querySelector('#sku-row-template');
  const addDim = form.querySelector('#add-dim');
  const addSku = form.querySelector('#add-sku');
  if (!dimsBox || !dimTpl || !rowsBox || !rowTpl) return;
  const stash = new Map(); // rows taken out by a change, by combination: back with their values if it returns

  function dims() {
    const out = [];
    for (const el of dimsBox.querySelectorAll('.spec-dim')) {
      const name = el.querySelector('input[name=spec_name]').value.trim();
      const vals = values(el.querySelector('input[name=spec_values]').value);
      const tags = el.querySelector('.spec-tags');
      tags.replaceChildren(...vals.map((v) => Object.assign(document.createElement('span'), { className: 'tag', textContent: v })));
      if (name && vals.length) out.push({ name, values: vals });
    }
    return out;
  }

  function setSpec(row, spec) {
    const json = Object.keys(spec).length ? JSON.stringify(spec) : '';
    row.querySelector('input[name=sku_spec]').value = json;
    row.dataset.spec = json;
    const combo = row.querySelector('.sku-combo');
    combo.textContent = Object.values(spec).join(JOIN);
    combo.hidden = !json;
    row.querySelector('input[name=sku_name]').placeholder = json ? '留空自动命名' : '例如：5斤装';
  }

  function newRow() {
    return rowTpl.content.firstElementChild.cloneNode(true);
  }

  function rebuild() {
    const ds = dims();
    const rows = [...rowsBox.querySelectorAll('tr.sku-row')];
    addSku.hidden = ds.length > 0;
    addDim.disabled = dimsBox.querySelectorAll('.spec-dim').length >= MAX_DIMS;
    if (!ds.length) {
      for (const r of rows) setSpec(r, {});
      if (!rows.length) rowsBox.append(newRow());
      return;
    }
    const names = ds.map((d) => d.name);
    const byKey = new Map();
    const loose = [];
    for (const r of rows) {
      const spec = readSpec(r);
      const k = keyOf(spec, ds);
      const fits = names.every((n) => spec[n] !== undefined) && Object.keys(spec).every((n) => names.includes(n));
      if (fits && !byKey.has(k)) byKey.set(k, r);
      else loose.push({ row: r, spec });
    }
    const out = [];
    for (const combo of product(ds)) {
      const k = keyOf(combo, ds);
      let row = byKey.get(k) || stash.get(k);
      stash.delete(k);
      if (!row) {
        // A new combination grows from the row that fits it on the dimensions both know (adding 尺码 to 红
        // gives 红/M and 红/L): the first takes that row itself (its SKU lives on), the others its figures.
        const parent = loose.find(({ spec }) => Object.entries(spec).every(([n, v]) => !names.includes(n) || combo[n] === v));
        if (parent && !parent.used) {
          parent.used = true;
          row = parent.row;
        } else {
          row = newRow();
          if (parent) for (const f of CARRIED) row.querySelector(`input[name=${f}]`).value = parent.row.querySelector(`input[name=${f}]`).value;
        }
      }
      setSpec(row, combo);
      out.push(row);
    }
    for (const { row, spec, used } of loose) if (!used) stash.set(keyOf(spec, ds), row);
    for (const [k, r] of byKey) if (!out.includes(r)) stash.set(k, r);
    rowsBox.replaceChildren(...out);
  }

  addDim?.addEventListener('click', () => {
    if (dimsBox.querySelectorAll('.spec-dim').length >= MAX_DIMS) return;
    dimsBox.append(dimTpl.content.firstElementChild.cloneNode(true));
    dimsBox.lastElementChild.querySelector('input[name=spec_name]').focus();
    rebuild();
  });
  dimsBox.addEventListener('click', (e) => {
    const b = e.target.closest('.remove-dim');
    if (!b) return;
    b.closest('.spec-dim').remove();
    rebuild();
  });
  dimsBox.addEventListener('change', rebuild);
  dimsBox.addEventListener('input', (e) => {
    if (e.target.name === 'spec_values') dims(); // tags follow the typing; rows follow on change
  });
  dims();
  addDim && (addDim.disabled = dimsBox.querySelectorAll('.spec-dim').length >= MAX_DIMS);
}

function placeholder(title) {
  const span = document.createElement('span');
  span.className = 'thumb thumb-empty';
  span.setAttribute('aria-hidden', 'true');
  span.textContent = (title || '').trim().charAt(0) || '商';
  return span;
}

function thumbs() {
  for (const img of document.querySelectorAll('img.thumb[data-title]')) {
    const swap = () => img.replaceWith(placeholder(img.dataset.title));
    if (img.complete && img.naturalWidth === 0) swap();
    else img.addEventListener('error', swap, { once: true });
  }
}

const form = document.getElementById('product-form');
if (form) {
  specEditor(form);
  for (const el of form.querySelectorAll('[data-rte]')) mountRichText(el, form);
}
thumbs();
