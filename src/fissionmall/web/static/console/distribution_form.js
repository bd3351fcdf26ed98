// The distribution settings form (admin/distribution/index.html): a live preview of what one item earns per
// level as the merchant types the rates in %, the same per override row (its product's price, a rate or a
// fixed 元 per unit), and the activity rows' rate inputs only where 单独设置比例 is chosen.
//
// Amounts are integers in fen and rates integers in basis points, read from the typed text without floats,
// rounded half up as the server's apply_bp does: the preview says what the order will pay.
// Loaded as a module (<script type="module">): no inline script under the Content-Security-Policy.

const BP = 10000;
const MAX_CAP_BP = 3000;

// Full-width digits, point and percent sign as a phone keyboard types them (the server reads them too).
function typed(text) {
  return String(text || '')
    .replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\uFF0E/g, '.')
    .trim();
}

function decimal(text, intDigits) {
  const m = new RegExp(`^([0-9]{1,${intDigits}})(?:\\.([0-9]{1,2}))?$`).exec(text);
  return m ? Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0')) : null;
}

export function bpOf(text) {
  const t = typed(text).replace(/[%\uFF05]$/, '').trim();
  if (t === '') return 0;
  const bp = decimal(t, 3);
  return bp !== null && bp <= BP ? bp : null;
}

export function fenOf(text) {
  const t = typed(text).replace(/^[¥\uFFE5]/, '').trim();
  if (t === '') return 0;
  return decimal(t, 10);
}

export const applyBp = (fen, bp) => Math.floor((fen * bp + BP / 2) / BP);

export function yuan(fen) {
  return `¥${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

// ¥199 for a whole amount, ¥19.90 otherwise (as the server's preview writes the sample price).
const price = (fen) => (fen % 100 === 0 ? `¥${fen / 100}` : yuan(fen));
const pct = (bp) => String(bp / 100);

function init(form) {
  const field = (name) => form.querySelector(`[name="${name}"]`);
  const text = document.getElementById('preview-text');
  const warning = document.getElementById('preview-warning');
  const sample = document.getElementById('preview-price');

  function levels() {
    return Number((field('levels') || {}).value || 2) >= 2 ? 2 : 1;
  }

  function capText(l1, l2, n, cap) {
    const what = n >= 2 ? '一级与二级佣金比例之和' : '一级佣金比例';
    return `${what}（${pct(l1 + (n >= 2 ? l2 : 0))}%）不能超过单笔订单佣金上限（${pct(cap)}%）`;
  }

  function shopPreview() {
    const n = levels();
    const l1 = bpOf(field('level1_rate').value);
    const l2 = bpOf(field('level2_rate').value);
    const cap = bpOf(field('cap_rate').value);
    const fen = fenOf(sample.value);
    let warn = '';
    if (l1 === null || (n >= 2 && l2 === null)) {
      text.textContent = '请按百分比填写佣金比例，如 10 或 10.5';
    } else if (!fen) {
      text.textContent = '请填写示例商品价格';
    } else {
      text.textContent =
        `一件 ${price(fen)} 的商品：一级佣金 ${yuan(applyBp(fen, l1))}` + (n >= 2 ? `，二级 ${yuan(applyBp(fen, l2))}` : '');
      if (cap !== null && cap > MAX_CAP_BP) warn = '单笔订单佣金上限不能超过 30%';
      else if (cap !== null && l1 + (n >= 2 ? l2 : 0) > cap) warn = capText(l1, l2, n, cap);
    }
    warning.textContent = warn;
    warning.hidden = !warn;
  }

  function levelAmount(row, prefix, lvl, base) {
    const value = row.querySelector(`[name="${prefix}_l${lvl}"]`).value;
    const unit = row.querySelector(`[name="${prefix}_l${lvl}_unit"]`).value;
    if (unit === 'fixed') {
      const fen = fenOf(value);
      return fen === null ? null : Math.min(fen, base);
    }
    const bp = bpOf(value);
    return bp === null ? null : applyBp(base, bp);
  }

  function rowPreview(row, prefix) {
    const out = row.querySelector('[data-row-preview]');
    if (!out) return;
    let item = null;
    try {
      item = JSON.parse(row.getAttribute('data-picker-item') || 'null');
    } catch (_) { /* a row without its item says nothing */ }
    const base = item && item.price_fen;
    if (!base) {
      out.textContent = '—';
      return;
    }
    const a = levelAmount(row, prefix, 1, base);
    const b = levelAmount(row, prefix, 2, base);
    if (a === null || b === null) {
      out.textContent = '比例按百分比填写，固定佣金按元填写';
      return;
    }
    const from = prefix === 'ov_p' && item.skus && item.skus.length > 1 ? '起' : '';
    out.textContent = `${price(base)}${from}：一级 ${yuan(a)}` + (levels() >= 2 ? `，二级 ${yuan(b)}` : '');
  }

  function sources() {
    for (const row of form.querySelectorAll('#source-rates tr[data-source]')) {
      const key = row.getAttribute('data-source');
      const own = field(`src_${key}`).value === 'own';
      for (const input of row.querySelectorAll('input')) input.readOnly = !own;
      row.classList.toggle('muted', !own);
    }
  }

  function update() {
    shopPreview();
    for (const prefix of ['ov_p', 'ov_s']) {
      for (const row of form.querySelectorAll(`#${prefix}-rows tr`)) rowPreview(row, prefix);
    }
    sources();
  }

  form.addEventListener('input', update);
  form.addEventListener('change', update);
  form.addEventListener('picker:change', update);
  update();
}

const form = document.getElementById('distribution-config');
if (form) init(form);
